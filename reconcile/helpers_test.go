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
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/spec"
)

// syncBuffer is the controller's output, safe to read while it writes.
type syncBuffer struct{ testutil.SyncBuffer }

// lines returns output lines starting with prefix.
func (s *syncBuffer) lines(prefix string) []string {
	var out []string
	for _, l := range strings.Split(s.String(), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// manifest writes yaml to dir/file and decodes it as spec.Load would.
func manifest(t testing.TB, dir, file, yaml string) []spec.Object {
	t.Helper()
	p := filepath.Join(dir, file)
	// The build context of appYAML's image.
	if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := spec.Decode(p, []byte(yaml))
	if err != nil {
		t.Fatalf("decode %s: %v", file, err)
	}
	return objs
}

func newController(t testing.TB, eng engine.Engine, opts Options) (*Controller, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	opts.Engines = Engines(map[string]engine.Engine{spec.LocalHost: eng})
	opts.Out = out
	opts.BaseBackoff = 10 * time.Millisecond
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, out
}

// watchFolder runs, until the test ends, a controller on eng
// (newController) and a watcher of dir feeding it, pruning what the watcher
// saw go; both write to the returned output.
func watchFolder(t testing.TB, eng engine.Engine, dir string) (context.Context, *Controller, *source.Watcher, *syncBuffer) {
	t.Helper()
	var w *source.Watcher
	c, out := newController(t, eng, Options{Prunable: func(s string) bool { return w.Prunable(s) }})
	var err error
	if w, err = source.NewWatcher(source.WatchOptions{Dir: dir, Sink: c, Poll: time.Hour, Out: out}); err != nil {
		t.Fatal(err)
	}
	return testutil.Go(t, c.Run, w.Run), c, w, out
}

func apply(t testing.TB, c *Controller, objs []spec.Object, sources ...string) []ObjectStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.ApplyOnce(ctx, objs, sources)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return st
}

func running(e *fake.Engine, name string) bool {
	cs, _ := e.Containers(context.Background(), map[string]string{engine.LabelName: name})
	return len(cs) == 1 && cs[0].State == engine.StateRunning
}

const appYAML = `apiVersion: reconciler/v1
kind: Image
metadata: {name: app}
spec:
  tag: app:1
  build: {context: ./app}
---
apiVersion: reconciler/v1
kind: Volume
metadata: {name: data}
---
apiVersion: reconciler/v1
kind: Volume
metadata: {name: cache}
spec: {reclaimPolicy: Delete}
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: web, labels: {app: shop}}
spec:
  image: app:1
  command: ["/bin/web"]
  env: [{name: PORT, value: "8080"}]
  volumes: [{name: data, mountPath: /data}, {name: cache, mountPath: /cache}]
  resources: {memory: 64Mi, cpus: "0.5"}
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: worker}
spec:
  image: app:1
  args: ["work"]
`
