package runtime

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/reexec"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/runtime/logs"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	code := m.Run()
	if busyboxLower != "" {
		os.RemoveAll(filepath.Dir(busyboxLower))
	}
	os.Exit(code)
}

// TestWithInitProcess runs every other test of the package again with
// containers started by an init process (as on kernels that cannot do
// without), on a kernel where they ran without one: shims, prestarted
// inits and their spares must work either way.
func TestWithInitProcess(t *testing.T) {
	if !sandbox.StartsWithoutInit() {
		t.Skip("the tests already start containers with an init process here")
	}
	testutil.NeedRoot(t, "shims, mounts, namespaces and cgroups")
	testutil.Rerun(t, sandbox.InitProcessEnv+"=1")
}

// newRuntime opens a Runtime on a fresh root; host selects the plain
// host-process launcher (no isolation) for tests of the lifecycle alone.
// Every container is force-removed when the test ends, so no shim outlives
// it.
func newRuntime(t testing.TB, host bool) *Runtime {
	t.Helper()
	testutil.NeedRoot(t, "shims, mounts, namespaces and cgroups")
	root := filepath.Join(t.TempDir(), "containers")
	r, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if host {
		r.launcher = "host"
	}
	t.Cleanup(func() { cleanupRoot(t, root) })
	t.Cleanup(func() { r.Close() })
	return r
}

// cleanupRoot removes every container of a root with a fresh Runtime (the
// test's may have been dropped to simulate a daemon crash).
func cleanupRoot(t testing.TB, root string) {
	r, err := New(root, Options{})
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer r.Close()
	list, _ := r.List()
	for _, c := range list {
		if err := r.Remove(context.Background(), c.ID, true); err != nil && !errors.Is(err, ErrNotFound) {
			t.Errorf("cleanup: remove %s: %v", c.Name, err)
		}
	}
}

// busyboxLower is a busybox root file system shared read-only by the tests
// as their only image layer, built once per test binary.
var busyboxLower string

func busybox(t testing.TB) string {
	t.Helper()
	testutil.NeedRoot(t, "shims, mounts, namespaces and cgroups")
	testutil.NeedBusybox(t)
	if busyboxLower != "" {
		return busyboxLower
	}
	dir, err := os.MkdirTemp("", "runtime-busybox-")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "etc", "tmp", "proc", "sys", "dev", "root"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Fields(string(out)) {
		if name != "busybox" {
			os.Symlink("busybox", filepath.Join(root, "bin", name))
		}
	}
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)
	busyboxLower = root
	return root
}

// hostSpec is a container running a host shell script (host launcher).
func hostSpec(name, script string) Spec {
	return Spec{Name: name, Args: []string{"/bin/sh", "-c", script}, Labels: map[string]string{"test": "yes"}}
}

// boxSpec is a container running a shell script on the busybox image.
func boxSpec(t testing.TB, name, script string) Spec {
	return Spec{Name: name, LowerDirs: []string{busybox(t)}, Args: []string{"sh", "-c", script}}
}

func mustCreate(t testing.TB, r *Runtime, s Spec) string {
	t.Helper()
	id, err := r.Create(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustStart(t testing.TB, r *Runtime, id string) {
	t.Helper()
	if err := r.Start(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func waitExit(t testing.TB, r *Runtime, id string) int {
	t.Helper()
	code, err := r.Wait(ctxT(t, 20*time.Second), id, WaitNotRunning)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return code
}

// readAll collects a stream as "stream:line" strings.
func readAll(t testing.TB, s *logs.Stream) []string {
	t.Helper()
	var out []string
	for {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("log stream: %v (so far %q)", err, out)
		}
		out = append(out, e.Stream+":"+strings.TrimSuffix(string(e.Line), "\n"))
	}
}

// eventually polls cond for up to 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, what, cond)
}
