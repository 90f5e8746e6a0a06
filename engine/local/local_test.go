package local

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/runtime"
)

// openEngine opens an engine on a temporary root and, when the test ends,
// removes every container so no shim outlives it.
func openEngine(t *testing.T) *Engine {
	t.Helper()
	testutil.NeedRoot(t, "overlay mounts, namespaces and shims")
	testutil.NeedBusybox(t)
	e, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs, _ := e.Containers(context.Background(), nil)
		for _, c := range cs {
			e.RemoveContainer(context.Background(), c.ID, true)
		}
		e.Close()
	})
	return e
}

// buildBusybox builds a FROM scratch image holding busybox and its applets,
// with a RUN step: the Dockerfile path through the real runtime.
func buildBusybox(t *testing.T, e *Engine, tag string, extra string) engine.Image {
	t.Helper()
	dir := t.TempDir()
	testutil.BusyboxContext(t, dir, extra)
	var progress bytes.Buffer
	img, err := e.EnsureImage(context.Background(), engine.ImageSource{Tag: tag, Build: &engine.BuildSource{Context: dir}}, &progress)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, progress.String())
	}
	return img
}

func runToExit(t *testing.T, e *Engine, cfg engine.ContainerConfig) (id string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := e.CreateContainer(ctx, cfg)
	if err != nil {
		t.Fatalf("create %s: %v", cfg.Name, err)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatalf("start %s: %v", cfg.Name, err)
	}
	code, err = e.Runtime().Wait(ctx, id, runtime.WaitNotRunning)
	if err != nil {
		t.Fatalf("wait %s: %v", cfg.Name, err)
	}
	return id, code
}

func logsOf(t *testing.T, e *Engine, id string) string {
	t.Helper()
	s, err := e.Runtime().Logs(context.Background(), id, runtime.LogOptions{Tail: -1})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := s.CopyTo(&out, &out, false); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return out.String()
}

// The volume's data outlives the container that wrote it, and the image's
// content at the mount path is copied in on the first mount only.
func TestVolumeDataOutlivesContainers(t *testing.T) {
	e := openEngine(t)
	buildBusybox(t, e, "bb:1", "RUN mkdir -p /data && echo seed > /data/seed\n")
	mount := []engine.Mount{{Type: engine.MountVolume, Source: "data", Target: "/data"}}

	w, code := runToExit(t, e, engine.ContainerConfig{Name: "writer", Image: "bb:1", Mounts: mount,
		Cmd: []string{"sh", "-c", "cat /data/seed && echo hello > /data/note && rm /data/seed"}})
	if code != 0 {
		t.Fatalf("writer exit %d: %s", code, logsOf(t, e, w))
	}
	if got := logsOf(t, e, w); got != "seed\n" {
		t.Fatalf("writer saw %q, want the image's seed copied into the empty volume", got)
	}
	if err := e.RemoveVolume(context.Background(), "data"); !errors.Is(err, engine.ErrConflict) || !strings.Contains(err.Error(), w) {
		t.Fatalf("remove in-use volume = %v, want a conflict naming the container", err)
	}
	if err := e.RemoveContainer(context.Background(), w, false); err != nil {
		t.Fatal(err)
	}

	r, code := runToExit(t, e, engine.ContainerConfig{Name: "reader", Image: "bb:1", Mounts: mount,
		Cmd: []string{"sh", "-c", "cat /data/note; ls /data"}})
	if got := logsOf(t, e, r); code != 0 || got != "hello\nnote\n" {
		t.Fatalf("reader exit %d output %q, want the writer's note and no second copy-up of seed", code, got)
	}
	if err := e.RemoveContainer(context.Background(), r, false); err != nil {
		t.Fatal(err)
	}
	if err := e.RemoveVolume(context.Background(), "data"); err != nil {
		t.Fatalf("remove unused volume: %v", err)
	}
}

func TestSubPathEscapeRefused(t *testing.T) {
	e := openEngine(t)
	buildBusybox(t, e, "bb:1", "")
	_, err := e.CreateContainer(context.Background(), engine.ContainerConfig{Name: "esc", Image: "bb:1", Cmd: []string{"true"},
		Mounts: []engine.Mount{{Type: engine.MountVolume, Source: "v", Target: "/v", SubPath: "../../etc"}}})
	if err == nil || !errors.Is(err, engine.ErrInvalid) {
		t.Fatalf("subPath escape = %v, want ErrInvalid", err)
	}
	if users, _ := e.VolumeManager().Users("v"); len(users) != 0 {
		t.Fatalf("volume v still records users %v after a refused create", users)
	}
	if cs, _ := e.Containers(context.Background(), nil); len(cs) != 0 {
		t.Fatalf("a refused create left containers: %v", cs)
	}
}

func TestLabelsAndImageDefaults(t *testing.T) {
	e := openEngine(t)
	img := buildBusybox(t, e, "bb:2", "WORKDIR /srv\nCMD [\"sh\", \"-c\", \"pwd; echo $GREETING\"]\nENV GREETING=hi\n")
	labels := map[string]string{engine.LabelManaged: "true", engine.LabelName: "web"}
	id, code := runToExit(t, e, engine.ContainerConfig{Name: "web", Image: "bb:2", Labels: labels, Env: []string{"GREETING=hello"}})
	if got := logsOf(t, e, id); code != 0 || got != "/srv\nhello\n" {
		t.Fatalf("exit %d output %q, want the image's WORKDIR and CMD with the env override", code, got)
	}
	cs, err := e.Containers(context.Background(), map[string]string{engine.LabelName: "web"})
	if err != nil || len(cs) != 1 || cs[0].ImageID != img.ID || cs[0].State != engine.StateExited {
		t.Fatalf("Containers by label = %+v, %v", cs, err)
	}
	if err := e.RemoveImage(context.Background(), "bb:2"); !errors.Is(err, engine.ErrConflict) {
		t.Fatalf("rmi of an image a container uses = %v, want a conflict (as docker rmi without -f)", err)
	}
	if _, err := e.InspectImage(context.Background(), img.ID); err != nil {
		t.Fatalf("image used by a container was deleted: %v", err)
	}
}

// A commit keeps the container's changes (deletions too) in a new layer
// on top of the image's, and applies --change instructions.
func TestCommit(t *testing.T) {
	e := openEngine(t)
	buildBusybox(t, e, "bb:1", "RUN echo old > /old && echo keep > /keep\n")
	id, code := runToExit(t, e, engine.ContainerConfig{Name: "committer", Image: "bb:1", Cmd: []string{"sh", "-c", "rm /old && echo new > /new"}})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, logsOf(t, e, id))
	}
	img, err := e.Commit(context.Background(), id, CommitOptions{Tag: "bb:committed", Message: "m", Changes: []string{`CMD ["sh", "-c", "ls /; echo $X"]`, "ENV X=changed"}})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := e.ImageStore().Resolve("bb:1")
	if len(img.Layers) != len(base.Layers)+1 {
		t.Fatalf("committed image has %d layers, want the base's %d plus one", len(img.Layers), len(base.Layers))
	}
	r, code := runToExit(t, e, engine.ContainerConfig{Name: "runner", Image: "bb:committed"})
	out := logsOf(t, e, r)
	if code != 0 || !strings.Contains(out, "new\n") || strings.Contains(out, "old\n") || !strings.Contains(out, "keep\n") || !strings.HasSuffix(out, "changed\n") {
		t.Fatalf("exit %d, output %q: want /new and /keep, no /old, and the changed CMD and ENV", code, out)
	}
}

// TestSubPathSwappedForALinkOut: a container's volume subPath is resolved
// again at each start, beneath the volume. Once something writing to the
// volume has swapped a folder on the way for a symlink to "/", the next
// start fails naming the subPath, and the container never sees the host's
// root. (It used to be resolved once, at create, and bound by host path.)
func TestSubPathSwappedForALinkOut(t *testing.T) {
	e := openEngine(t)
	buildBusybox(t, e, "bb:sub", "")
	mounts := []engine.Mount{{Type: engine.MountVolume, Source: "shared", Target: "/v", SubPath: "app/data"}}
	id, code := runToExit(t, e, engine.ContainerConfig{Name: "sub", Image: "bb:sub", Cmd: []string{"sh", "-c", "echo kept > /v/mark; ls /v"}, Mounts: mounts})
	if got := logsOf(t, e, id); code != 0 || got != "mark\n" {
		t.Fatalf("first run: exit %d, output %q", code, got)
	}
	root, err := e.VolumeManager().Resolve("shared", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "app", "data"), filepath.Join(root, "app", "moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(root, "app", "data")); err != nil {
		t.Fatal(err)
	}
	err = e.StartContainer(context.Background(), id)
	if err == nil {
		out := logsOf(t, e, id)
		t.Fatalf("the container started on a subPath swapped for a link to /; it listed %q", out)
	}
	if !strings.Contains(err.Error(), "subPath app/data") {
		t.Errorf("start error %q does not name the subPath", err)
	}
	// docker cp on the stopped container resolves it the same way.
	if st, err := e.Runtime().StatPath(context.Background(), id, "/v/etc"); err == nil {
		t.Errorf("cp's stat of /v/etc through the swapped subPath reached %+v", st)
	}
}
