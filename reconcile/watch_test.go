package reconcile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/fake"
	"github.com/reconciler/reconciler/internal/testutil"
)

// TestWatchedFolder drives the controller from a watched folder: a file
// dropped in runs, an edit rolls out, a typo changes nothing, and removal
// prunes all but the Retain volume.
func TestWatchedFolder(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	_, _, w, out := watchFolder(t, e, dir)
	defer func() {
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	}()

	p := filepath.Join(dir, "app.yaml")
	os.Mkdir(filepath.Join(dir, "app"), 0o755) // the image's build context
	start := time.Now()
	write(t, p, appYAML)
	testutil.Eventually(t, 2*time.Second, "web running", func() bool { return running(e, "web") && running(e, "worker") })
	t.Logf("file drop to running: %v", time.Since(start))

	id := containerIDOf(e, "web")
	write(t, p, strings.Replace(appYAML, `value: "8080"`, `value: "9090"`, 1))
	testutil.Eventually(t, 2*time.Second, "web recreated", func() bool { return containerIDOf(e, "web") != id && running(e, "web") })

	e.ResetCalls()
	write(t, p, strings.Replace(appYAML, "kind: Container", "kind: Containr", 1))
	testutil.Eventually(t, 2*time.Second, "parse error reported", func() bool { return len(w.Errors()) == 1 })
	time.Sleep(100 * time.Millisecond)
	if e.Mutations() != 0 || !running(e, "web") {
		t.Fatalf("a broken file changed the engine: %v", e.Calls())
	}

	os.Remove(p)
	testutil.Eventually(t, 2*time.Second, "objects pruned", func() bool {
		cs, _ := e.Containers(context.Background(), nil)
		vs, _ := e.Volumes(context.Background(), nil)
		return len(cs) == 0 && len(vs) == 1 && vs[0].Name == "data"
	})
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func containerIDOf(e *fake.Engine, name string) string {
	cs, _ := e.Containers(context.Background(), map[string]string{engine.LabelName: name})
	if len(cs) != 1 {
		return ""
	}
	return cs[0].ID
}

// TestRestartWithBrokenFileKeepsObjects: a daemon restarted while a
// manifest is broken never saw it parse, yet prunes nothing of it.
func TestRestartWithBrokenFileKeepsObjects(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	objs := manifest(t, dir, "app.yaml", appYAML)
	c, _ := newController(t, e, Options{})
	apply(t, c, objs)
	write(t, filepath.Join(dir, "app.yaml"), strings.Replace(appYAML, "kind: Container", "kind: Containr", 1))
	write(t, filepath.Join(dir, "other.yaml"), "# nothing here yet\n")

	e.ResetCalls()
	ctx, c2, w, out := watchFolder(t, e, dir)
	testutil.Eventually(t, 2*time.Second, "parse error reported", func() bool { return len(w.Errors()) == 1 })
	c2.Resync(ctx)
	time.Sleep(100 * time.Millisecond)
	if n := e.Mutations(); n != 0 || !running(e, "web") {
		t.Fatalf("a restarted controller changed %d things of a broken file:\n%s", n, out)
	}
}
