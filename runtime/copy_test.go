package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func tarOf(t *testing.T, name, content string) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(content))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b
}

// docker cp into a --read-only container is refused unless the path is on
// one of its mounts (dockerd: "container rootfs is marked read-only"); a
// stopped container's layer must not be written behind --read-only.
func TestExtractToDirReadOnlyRootfs(t *testing.T) {
	r := newRuntime(t, false)
	data := t.TempDir()
	s := boxSpec(t, "ro", "true")
	s.ReadonlyRootfs = true
	s.Mounts = []Mount{{Type: MountBind, Source: data, Target: "/data"}}
	id := mustCreate(t, r, s)
	ctx := context.Background()

	err := r.ExtractToDir(ctx, id, "/tmp", tarOf(t, "f", "x"), ExtractOptions{})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "container rootfs is marked read-only") {
		t.Fatalf("cp into the root of a read-only container: %v", err)
	}
	c, _ := r.Inspect(id)
	if _, err := os.Lstat(filepath.Join(upperOf(c), "tmp", "f")); !os.IsNotExist(err) {
		t.Fatalf("the read-only container's layer was written: %v", err)
	}
	if err := r.ExtractToDir(ctx, id, "/data", tarOf(t, "f", "x"), ExtractOptions{}); err != nil {
		t.Fatalf("cp into a mount of a read-only container: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(data, "f")); err != nil || string(b) != "x" {
		t.Fatalf("file in the mount: %q, %v", b, err)
	}
}

// docker cp -a gives what is copied the container's user, resolved as its
// start resolves it: a name from the image's /etc/passwd (busybox's
// nobody is 65534:65534), a numeric ID (group 0 when /etc/passwd lacks
// it), a group given by name.
func TestExtractToDirAsContainerUser(t *testing.T) {
	r := newRuntime(t, false)
	ctx := context.Background()
	for user, want := range map[string][2]int{"nobody": {65534, 65534}, "4321": {4321, 0}, "4321:nogroup": {4321, 65534}} {
		s := boxSpec(t, "", "true")
		s.User = user
		id := mustCreate(t, r, s)
		if err := r.ExtractToDir(ctx, id, "/tmp", tarOf(t, "f", "x"), ExtractOptions{CopyUIDGID: true}); err != nil {
			t.Fatalf("user %q: %v", user, err)
		}
		c, _ := r.Inspect(id)
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(upperOf(c), "tmp", "f"), &st); err != nil || [2]int{int(st.Uid), int(st.Gid)} != want {
			t.Errorf("user %q: the copied file is owned by %d:%d (%v), want %d:%d", user, st.Uid, st.Gid, err, want[0], want[1])
		}
	}
	s := boxSpec(t, "", "true")
	s.User = "ghost"
	err := r.ExtractToDir(ctx, mustCreate(t, r, s), "/tmp", tarOf(t, "f", "x"), ExtractOptions{CopyUIDGID: true})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "unable to find user ghost") {
		t.Errorf("cp -a with a user the image lacks: %v", err)
	}
}

// A container removed while a view of it is open (an export not read to
// its end) has its folder deleted, not kept for the next container: the
// view still has its layer mounted and would show that container's files.
func TestRemoveDuringExportKeepsNoLayer(t *testing.T) {
	r := newRuntime(t, false)
	ctx := context.Background()
	kept := func() int {
		r.skel.mu.Lock()
		defer r.skel.mu.Unlock()
		return len(r.skel.clean)
	}
	run := func(name string) string {
		id := mustCreate(t, r, boxSpec(t, name, "echo layer > /f"))
		mustStart(t, r, id)
		waitExit(t, r, id)
		return id
	}
	viewed := run("viewed")
	export, err := r.Export(ctx, viewed)
	if err != nil {
		t.Fatal(err)
	}
	before := kept()
	if err := r.Remove(ctx, viewed, false); err != nil {
		t.Fatalf("remove during an export: %v", err)
	}
	if got := kept(); got != before {
		t.Errorf("the folder of a container still viewed was kept for reuse (%d kept, %d before)", got, before)
	}
	export.Close()
	if err := r.Remove(ctx, run("unviewed"), false); err != nil {
		t.Fatal(err)
	}
	if got := kept(); got != before+1 {
		t.Errorf("a container no longer viewed: %d folders kept, want %d", got, before+1)
	}
}

// A copy out of a running container holds its restart policy while it
// has the run's root open: a restart would mount the container's layer a
// second time beside the one the copy reads, which overlayfs leaves
// undefined. Once the copy is done, the policy restarts it.
func TestCopyHoldsRestarts(t *testing.T) {
	r := newRuntime(t, false)
	ctx := context.Background()
	s := boxSpec(t, "held", "echo run > /tmp/f; sleep 0.2")
	s.RestartPolicy.Name = RestartAlways
	id := mustCreate(t, r, s)
	mustStart(t, r, id)
	copied, _, err := r.ArchivePath(ctx, id, "/tmp")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first run exits", func() bool {
		c, _ := r.Inspect(id)
		return c.State.ExitCount >= 1
	})
	time.Sleep(500 * time.Millisecond) // the first backoffs are 100 and 200 ms
	if c, _ := r.Inspect(id); c.State.StartCount != 1 || c.State.Status != StateRestarting {
		t.Fatalf("restarted while a copy had its root open: %+v", c.State)
	}
	if _, err := io.Copy(io.Discard, copied); err != nil {
		t.Fatalf("the held copy: %v", err)
	}
	copied.Close()
	eventually(t, "the policy restarts it once the copy is done", func() bool {
		c, _ := r.Inspect(id)
		return c.State.StartCount >= 2
	})
	if err := r.Stop(ctx, id, time.Second); err != nil {
		t.Fatal(err)
	}
}

// A start waits while a copy still has the last run's root open (that
// run's overlay stays mounted with it), and says so if the copy outlasts
// the wait: the new run must not mount the same layer beside it.
func TestStartWaitsForACopyOfTheLastRun(t *testing.T) {
	r := newRuntime(t, false)
	ctx := context.Background()
	id := mustCreate(t, r, boxSpec(t, "copied", "sleep 0.2"))
	mustStart(t, r, id)
	copied, _, err := r.ArchivePath(ctx, id, "/tmp")
	if err != nil {
		t.Fatal(err)
	}
	waitExit(t, r, id)

	defer func(d time.Duration) { runViewWait = d }(runViewWait)
	runViewWait = 200 * time.Millisecond
	if err := r.Start(ctx, id); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "still open") {
		t.Fatalf("start while a copy of the last run is open: %v", err)
	}
	runViewWait = 10 * time.Second
	started := make(chan error, 1)
	go func() { started <- r.Start(ctx, id) }()
	select {
	case err := <-started:
		t.Fatalf("started while a copy of the last run was open: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if c, _ := r.Inspect(id); c.State.StartCount != 1 {
		t.Fatalf("a run started beside the copy: %+v", c.State)
	}
	io.Copy(io.Discard, copied)
	copied.Close()
	if err := <-started; err != nil {
		t.Fatalf("start once the copy is done: %v", err)
	}
	if c, _ := r.Inspect(id); c.State.StartCount != 2 {
		t.Fatalf("after the copy: %+v", c.State)
	}
}
