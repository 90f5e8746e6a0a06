package source

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/spec"
)

// recorder is a Sink remembering the current objects of each source.
type recorder struct {
	mu        sync.Mutex
	state     map[string][]string // source -> object names
	calls     int
	withdrawn int
}

func (r *recorder) SetObjects(source string, objs []spec.Object) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if len(objs) == 0 {
		if _, ok := r.state[source]; ok {
			r.withdrawn++
		}
		delete(r.state, source)
		return
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	r.state[source] = names
}

// names returns every object name declared, sorted.
func (r *recorder) names() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []string
	for _, n := range r.state {
		all = append(all, n...)
	}
	sort.Strings(all)
	return strings.Join(all, ",")
}

func (r *recorder) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

func volumes(names ...string) string {
	var docs []string
	for _, n := range names {
		docs = append(docs, fmt.Sprintf("apiVersion: reconciler/v1\nkind: Volume\nmetadata: {name: %s}\n", n))
	}
	return strings.Join(docs, "---\n")
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startWatcher runs a watcher on dir with a long poll, so that only
// filesystem events can explain a prompt reaction.
func startWatcher(t *testing.T, dir string) (*recorder, *Watcher) {
	t.Helper()
	rec := &recorder{state: map[string][]string{}}
	out := &testutil.SyncBuffer{}
	w, err := NewWatcher(WatchOptions{Dir: dir, Sink: rec, Poll: time.Hour, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Go(t, w.Run)
	return rec, w
}

func waitFor(t *testing.T, rec *recorder, want string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for rec.names() != want {
		if time.Now().After(deadline) {
			t.Fatalf("objects %q, want %q", rec.names(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDropEditRemove(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), volumes("a"))
	rec, _ := startWatcher(t, dir)
	waitFor(t, rec, "a")

	write(t, filepath.Join(dir, "sub", "deep", "b.yml"), volumes("b1", "b2")) // new subfolders
	waitFor(t, rec, "a,b1,b2")
	write(t, filepath.Join(dir, "a.yaml"), volumes("a2"))
	waitFor(t, rec, "a2,b1,b2")
	os.Remove(filepath.Join(dir, "sub", "deep", "b.yml"))
	waitFor(t, rec, "a2")
}

func TestIgnoresTempFilesAndDotfiles(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), volumes("a"))
	rec, _ := startWatcher(t, dir)
	waitFor(t, rec, "a")
	calls := rec.callCount()
	for _, f := range []string{".a.yaml.swp", "a.yaml~", ".#a.yaml", "4913", ".hidden.yaml", ".git/x.yaml"} {
		write(t, filepath.Join(dir, f), volumes("junk"))
	}
	time.Sleep(200 * time.Millisecond)
	if rec.names() != "a" || rec.callCount() != calls {
		t.Fatalf("temp files were read: %q (%d calls)", rec.names(), rec.callCount()-calls)
	}
}

func TestAtomicRenameOverAndVimSave(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.yaml")
	write(t, p, volumes("a"))
	rec, _ := startWatcher(t, dir)
	waitFor(t, rec, "a")
	// Editor-style atomic save: write a temp file, rename it over.
	write(t, filepath.Join(dir, ".a.yaml.tmp"), volumes("b"))
	if err := os.Rename(filepath.Join(dir, ".a.yaml.tmp"), p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, rec, "b")
	// vim's backup dance: move away, write anew, delete the backup.
	os.Rename(p, p+"~")
	write(t, p, volumes("c"))
	os.Remove(p + "~")
	waitFor(t, rec, "c")
}

func TestBrokenFileKeepsItsObjects(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.yaml")
	write(t, p, volumes("a", "b"))
	rec, w := startWatcher(t, dir)
	waitFor(t, rec, "a,b")
	calls := rec.callCount()
	write(t, p, "apiVersion: reconciler/v1\nkind: Volume\nmetadata: {name: a}\nspec: {reclaimPolcy: Delete}\n")
	deadline := time.Now().Add(2 * time.Second)
	for len(w.Errors()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(w.Errors()) != 1 || rec.names() != "a,b" || rec.callCount() != calls {
		t.Fatalf("errors %v, objects %q", w.Errors(), rec.names())
	}
	write(t, p, volumes("a"))
	waitFor(t, rec, "a")
	if len(w.Errors()) != 0 {
		t.Fatalf("errors after fix: %v", w.Errors())
	}
}

func TestDataSymlinkSwap(t *testing.T) {
	// The layout of a Kubernetes ConfigMap volume: visible files are
	// symlinks through ..data, which is swapped atomically to a new folder.
	dir := t.TempDir()
	write(t, filepath.Join(dir, "..v1", "app.yaml"), volumes("one"))
	write(t, filepath.Join(dir, "..v2", "app.yaml"), volumes("two"))
	must(t, os.Symlink("..v1", filepath.Join(dir, "..data")))
	must(t, os.Symlink(filepath.Join("..data", "app.yaml"), filepath.Join(dir, "app.yaml")))
	rec, _ := startWatcher(t, dir)
	waitFor(t, rec, "one")
	must(t, os.Symlink("..v2", filepath.Join(dir, "..data_tmp")))
	must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	waitFor(t, rec, "two")
	rec.mu.Lock()
	_, ok := rec.state[filepath.Join(dir, "app.yaml")]
	rec.mu.Unlock()
	if !ok {
		t.Fatal("source is not the visible path")
	}
}

func TestGitCheckout(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	for i := 0; i < 20; i++ {
		write(t, filepath.Join(dir, fmt.Sprintf("f%02d.yaml", i)), volumes(fmt.Sprintf("v%02d", i)))
	}
	git("add", ".")
	git("commit", "-qm", "one")
	git("checkout", "-qb", "two")
	for i := 0; i < 20; i += 2 {
		os.Remove(filepath.Join(dir, fmt.Sprintf("f%02d.yaml", i)))
	}
	write(t, filepath.Join(dir, "apps", "new.yaml"), volumes("new"))
	write(t, filepath.Join(dir, "f01.yaml"), volumes("v01b"))
	git("add", "-A")
	git("commit", "-qm", "two")
	git("checkout", "-q", "main")

	rec, _ := startWatcher(t, dir)
	var all []string
	for i := 0; i < 20; i++ {
		all = append(all, fmt.Sprintf("v%02d", i))
	}
	waitFor(t, rec, strings.Join(all, ","))
	git("checkout", "-q", "two")
	want := []string{"new", "v01b"}
	for i := 3; i < 20; i += 2 {
		want = append(want, fmt.Sprintf("v%02d", i))
	}
	waitFor(t, rec, strings.Join(want, ","))
	git("checkout", "-q", "main")
	waitFor(t, rec, strings.Join(all, ","))
}

func TestPollingFindsChangesWithoutEvents(t *testing.T) {
	dir := t.TempDir()
	rec := &recorder{state: map[string][]string{}}
	w, err := NewWatcher(WatchOptions{Dir: dir, Sink: rec})
	if err != nil {
		t.Fatal(err)
	}
	if w.Prunable(filepath.Join(dir, "gone.yaml")) {
		t.Fatal("prunable before the first scan")
	}
	w.Scan()
	write(t, filepath.Join(dir, "a.json"), `{"apiVersion":"reconciler/v1","kind":"Volume","metadata":{"name":"j"}}`)
	w.Scan()
	if rec.names() != "j" {
		t.Fatalf("objects %q", rec.names())
	}
	if !w.Prunable(filepath.Join(dir, "x", "y.yaml")) || w.Prunable(filepath.Dir(dir)+"/other.yaml") {
		t.Fatal("Prunable scope wrong")
	}
	// A broken file's objects are not pruned, even by a restarted daemon
	// that never saw it parse.
	write(t, filepath.Join(dir, "broken.yaml"), "kind: [")
	w.Scan()
	if w.Prunable(filepath.Join(dir, "broken.yaml")) || !w.Prunable(filepath.Join(dir, "a.json")) {
		t.Fatal("a broken file is prunable")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestEmptiedFileKeepsItsObjects(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.yaml")
	write(t, p, volumes("a"))
	rec, w := startWatcher(t, dir)
	waitFor(t, rec, "a")
	write(t, p, "")
	deadline := time.Now().Add(2 * time.Second)
	for len(w.Errors()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if rec.names() != "a" {
		t.Fatalf("an emptied file dropped its objects: %q", rec.names())
	}
	write(t, p, "# nothing declared\n")
	waitFor(t, rec, "")
}

func TestBriefDisappearanceKeepsObjects(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.yaml")
	write(t, p, volumes("a"))
	rec, _ := startWatcher(t, dir)
	waitFor(t, rec, "a")
	os.Remove(p)
	time.Sleep(120 * time.Millisecond) // a scan runs while it is missing
	write(t, p, volumes("a"))
	time.Sleep(400 * time.Millisecond)
	rec.mu.Lock()
	withdrawn := rec.withdrawn
	rec.mu.Unlock()
	if withdrawn != 0 || rec.names() != "a" {
		t.Fatalf("a file missing for an instant was withdrawn (%d times)", withdrawn)
	}
	os.Remove(p)
	waitFor(t, rec, "")
}

// The watched folder's .reconcilerignore keeps its subfolders of examples
// and drafts out of what is applied; editing it takes effect at once.
func TestReconcilerIgnore(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, spec.IgnoreFile), "invalid/\n")
	write(t, filepath.Join(dir, "a.yaml"), volumes("a"))
	write(t, filepath.Join(dir, "invalid", "x.yaml"), volumes("x"))
	rec, _ := startWatcher(t, dir)
	waitFor(t, rec, "a")
	write(t, filepath.Join(dir, "invalid", "z.yaml"), volumes("z"))
	time.Sleep(200 * time.Millisecond)
	if rec.names() != "a" {
		t.Fatalf("ignored folder was read: %q", rec.names())
	}
	write(t, filepath.Join(dir, spec.IgnoreFile), "# nothing ignored now\n")
	write(t, filepath.Join(dir, "b.yaml"), volumes("b")) // an event to rescan on
	waitFor(t, rec, "a,b,x,z")
}
