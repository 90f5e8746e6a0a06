package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	moby "github.com/moby/moby/client"

	"github.com/reconciler/reconciler/internal/rootlock"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/volumes"
)

func TestVolumeCLICreateLsInspectRm(t *testing.T) {
	testutil.NeedRoot(t, "the commands open the engine of the state root")
	root := t.TempDir()
	out, errs, code := runOnRoot(root, "", "volume", "create", "--label", "app=shop", "data")
	if code != 0 || out != "data\n" {
		t.Fatalf("create: %q %q %d", out, errs, code)
	}
	// Idempotent with the same options, refused with others.
	if _, _, code := runOnRoot(root, "", "volume", "create", "--name", "data", "--label", "app=shop"); code != 0 {
		t.Errorf("second create exit %d", code)
	}
	if _, errs, code := runOnRoot(root, "", "volume", "create", "data", "--label", "app=blog"); code != 1 || !strings.Contains(errs, "labels {app=shop}, not {app=blog}") {
		t.Errorf("conflicting create: %q %d", errs, code)
	}
	if _, errs, code := runOnRoot(root, "", "volume", "create", "--name", "a", "b"); code != 2 || !strings.Contains(errs, "conflicting options") {
		t.Errorf("--name and argument: %q %d", errs, code)
	}
	runOnRoot(root, "", "volume", "create", "other")

	out, _, _ = runOnRoot(root, "", "volume", "ls")
	if want := "DRIVER    VOLUME NAME\nlocal     data\nlocal     other\n"; out != want {
		t.Errorf("ls:\n%s\nwant:\n%s", out, want)
	}
	out, _, _ = runOnRoot(root, "", "volume", "ls", "-q", "--filter", "label=app=shop")
	if out != "data\n" {
		t.Errorf("ls -q --filter label=app=shop: %q", out)
	}
	out, _, _ = runOnRoot(root, "", "volume", "ls", "--format", `{{.Name}} {{.Driver}} {{.Labels}} {{.Label "app"}}`)
	if out != "data local app=shop shop\nother local  \n" {
		t.Errorf("ls --format: %q", out)
	}
	out, _, _ = runOnRoot(root, "", "volume", "ls", "--format", "json", "--filter", "name=data")
	if want := `{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"app=shop","Links":"N/A","Mountpoint":"` + filepath.Join(root, "volumes", "data", "_data") + `","Name":"data","Scope":"local","Size":"N/A","Status":"N/A"}` + "\n"; out != want {
		t.Errorf("ls --format json: %q", out)
	}
	if _, _, code := runOnRoot(root, "", "volume", "ls", "--filter", "color=red"); code != 2 {
		t.Errorf("ls with a bad filter: exit %d, want 2", code)
	}

	out, errs, code = runOnRoot(root, "", "volume", "inspect", "data", "nosuch")
	if code != 1 || !strings.Contains(errs, "Error response from daemon: get nosuch: no such volume") {
		t.Errorf("inspect with a missing volume: %q %d", errs, code)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
		t.Fatalf("inspect output %q: %v", out, err)
	}
	want := map[string]any{
		"Driver": "local", "Name": "data", "Scope": "local", "Options": nil,
		"Mountpoint": filepath.Join(root, "volumes", "data", "_data"),
		"Labels":     map[string]any{"app": "shop"},
	}
	for k, w := range want {
		if g := got[0][k]; !jsonEqual(g, w) {
			t.Errorf("inspect %s = %v, want %v", k, g, w)
		}
	}
	if _, ok := got[0]["CreatedAt"].(string); !ok {
		t.Errorf("inspect CreatedAt missing: %v", got[0])
	}
	if !strings.HasPrefix(out, "[\n    {\n        \"CreatedAt\": ") {
		t.Errorf("inspect is not docker's 4-space indented array:\n%s", out)
	}
	if out, _, code := runOnRoot(root, "", "volume", "inspect", "nosuch"); out != "[]\n" || code != 1 {
		t.Errorf("inspect of only a missing volume: %q, exit %d; docker prints [] and fails", out, code)
	}
	out, _, _ = runOnRoot(root, "", "volume", "inspect", "--format", "{{.Name}} {{json .Labels}}", "data")
	if out != "data {\"app\":\"shop\"}\n" {
		t.Errorf("inspect --format: %q", out)
	}

	// In use: refused, naming the containers.
	m, err := volumes.Open(filepath.Join(root, "volumes"))
	if err != nil {
		t.Fatal(err)
	}
	m.Use("data", "c1d2e3")
	m.Use("data", "4f5a6b")
	m.Close()
	out, errs, code = runOnRoot(root, "", "volume", "rm", "data", "other", "nosuch")
	if code != 1 || out != "other\n" {
		t.Errorf("rm: out %q exit %d", out, code)
	}
	if !strings.Contains(errs, "Error response from daemon: remove data: volume is in use - [4f5a6b, c1d2e3]") || !strings.Contains(errs, "Error response from daemon: get nosuch: no such volume") {
		t.Errorf("rm errors: %q", errs)
	}
	if _, _, code := runOnRoot(root, "", "volume", "rm", "-f", "nosuch"); code != 0 {
		t.Errorf("rm -f of a missing volume: exit %d", code)
	}
	// Each command served --root to itself over socket pairs: nothing on
	// disk but the root's lock, released now.
	if left, _ := filepath.Glob(filepath.Join(root, "run", "*")); len(left) != 1 || left[0] != rootlock.Path(root) {
		t.Errorf("files left in the root's run folder: %v", left)
	}
	l, err := rootlock.Acquire(root)
	if err != nil {
		t.Fatalf("the root's lock is still held: %v", err)
	}
	l.Release()
}

func TestVolumeCLIPrune(t *testing.T) {
	testutil.NeedRoot(t, "the commands open the engine of the state root")
	root := t.TempDir()
	anon, _, _ := runOnRoot(root, "", "volume", "create")
	anon = strings.TrimSpace(anon)
	runOnRoot(root, "", "volume", "create", "named")
	runOnRoot(root, "", "volume", "create", "kept", "--label", "io.reconciler.managed=true", "--label", "io.reconciler.reclaim-policy=Retain")
	mp := filepath.Join(root, "volumes", anon, "_data")
	if err := os.WriteFile(filepath.Join(mp, "f"), make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}

	out, errs, code := runOnRoot(root, "n\n", "volume", "prune")
	if code != 1 || !strings.Contains(out, "WARNING! This will remove anonymous local volumes") || !strings.Contains(errs, "cancelled") {
		t.Errorf("declined prune: %q %q %d", out, errs, code)
	}
	out, _, code = runOnRoot(root, "y\n", "volume", "prune")
	if code != 0 || !strings.HasSuffix(out, "Deleted Volumes:\n"+anon+"\n\nTotal reclaimed space: 2.048kB\n") {
		t.Errorf("prune: %q %d", out, code)
	}
	out, errs, code = runOnRoot(root, "", "volume", "prune", "-f", "--all")
	if code != 0 || out != "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n" {
		t.Errorf("prune -f --all: %q %d", out, code)
	}
	if !strings.Contains(errs, "Kept 1 unused volume(s) with reclaim policy Retain: kept") {
		t.Errorf("prune does not say what it kept: %q", errs)
	}
	out, _, _ = runOnRoot(root, "", "volume", "ls", "-q")
	if out != "kept\n" {
		t.Errorf("left after prune: %q", out)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestCLIThroughDaemon: with a daemon serving --root, the volume, image
// and build commands given the same --root go through its socket (the
// daemon holds the root's lock, and its engine publishes what they do),
// and -H reaches it from anywhere.
func TestCLIThroughDaemon(t *testing.T) {
	testutil.NeedRoot(t, "the commands open the engine of the state root")
	root := t.TempDir()
	other := filepath.Join(t.TempDir(), "api.sock")
	startDaemon(t, daemonOptions{root: root, hosts: []string{"unix://" + other}})
	if _, err := rootlock.Acquire(root); !errors.Is(err, rootlock.ErrLocked) {
		t.Fatalf("the daemon does not hold the root's lock: %v", err)
	}
	c, err := moby.New(moby.WithHost("unix://"+rootSocket(root)), moby.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	since := strconv.FormatInt(time.Now().Unix(), 10)

	if out, errs, code := runOnRoot(root, "", "volume", "create", "--label", "via=daemon", "shared"); code != 0 || out != "shared\n" {
		t.Fatalf("volume create through the daemon: %q %q %d", out, errs, code)
	}
	ev := c.Events(ctx, moby.EventsListOptions{Since: since, Filters: moby.Filters{}.Add("type", "volume")})
	select {
	case m := <-ev.Messages:
		if m.Action != "create" || m.Actor.ID != "shared" {
			t.Errorf("the daemon's first volume event: %s %s", m.Action, m.Actor.ID)
		}
	case err := <-ev.Err:
		t.Fatalf("events: %v", err)
	case <-ctx.Done():
		t.Fatal("the daemon's engine saw no volume created")
	}
	res, err := c.VolumeList(ctx, moby.VolumeListOptions{Filters: moby.Filters{}.Add("label", "via=daemon")})
	if err != nil || len(res.Items) != 1 || res.Items[0].Name != "shared" {
		t.Errorf("the daemon lists %+v, %v", res.Items, err)
	}
	if out, errs, code := runOnRoot(root, "", "volume", "inspect", "nosuch"); code != 1 || out != "[]\n" || errs != "Error response from daemon: get nosuch: no such volume\n" {
		t.Errorf("inspect of a missing volume through the daemon: %q %q %d", out, errs, code)
	}

	// -H reaches the daemon whatever --root says.
	elsewhere := t.TempDir()
	if out, errs, code := runOnRoot(elsewhere, "", "-H", "unix://"+other, "volume", "ls", "-q"); code != 0 || out != "shared\n" {
		t.Errorf("volume ls -H: %q %q %d", out, errs, code)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("-H touched --root: %v", entries)
	}

	// A build's context travels to the daemon as a tar.
	bctx := t.TempDir()
	os.WriteFile(filepath.Join(bctx, "hello.txt"), []byte("hi"), 0o644)
	out, errs, code := runOnRoot(root, "FROM scratch\nCOPY hello.txt /\n", "build", "-q", "-t", "viad:1", "-f", "-", bctx)
	if code != 0 || !strings.HasPrefix(out, "sha256:") {
		t.Fatalf("build through the daemon: %q %q %d", out, errs, code)
	}
	imgs, err := c.ImageList(ctx, moby.ImageListOptions{})
	if err != nil || len(imgs.Items) != 1 || imgs.Items[0].ID != strings.TrimSpace(out) || !slices.Contains(imgs.Items[0].RepoTags, "viad:1") {
		t.Errorf("the daemon's images: %+v %v", imgs.Items, err)
	}
	if out, errs, code := runOnRoot(root, "", "images", "--format", "{{.Repository}}:{{.Tag}}"); code != 0 || out != "viad:1\n" {
		t.Errorf("images through the daemon: %q %q %d", out, errs, code)
	}
}
