package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/dockerapi/client"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/spec"
)

// storeYAML is an image with VOLUME /data holding a seed file, and a
// container on it that records, on its first run, the value of V in
// /data/first, and on every run what it finds there in /data/seen-$V.
const storeYAML = `apiVersion: reconciler/v1
kind: Image
metadata: {name: store}
spec:
  tag: store:1
  build: {context: ./store}
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: store}
spec:
  image: store:1
  command: ["/bin/sh", "-c", "test -f /data/first || echo $V > /data/first; cat /data/seed /data/first > /data/seen-$V; trap 'exit 0' TERM; while true; do sleep 0.1; done"]
  env: [{name: V, value: "1"}]
`

// TestRecreateKeepsAnonymousVolumes: a container of an image with a
// VOLUME writes there; a spec change recreates it with the same anonymous
// volume, so the new container reads what the old one wrote; deleting its
// manifest keeps the volume and says so. On the local engine in process,
// and through the Docker API client.
func TestRecreateKeepsAnonymousVolumes(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		e, _ := openLocal(t)
		recreateKeepsAnonymousVolumes(t, e, e)
	})
	t.Run("docker-api", func(t *testing.T) {
		e, _ := openLocal(t)
		cl, err := client.Open(serveAPI(t, e), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		recreateKeepsAnonymousVolumes(t, e, cl)
	})
}

// recreateKeepsAnonymousVolumes drives eng, an engine over the local
// engine e (which the test inspects directly).
func recreateKeepsAnonymousVolumes(t *testing.T, e *local.Engine, eng engine.Engine) {
	dir := t.TempDir()
	testutil.BusyboxContext(t, filepath.Join(dir, "store"), "RUN mkdir /data && echo seeded > /data/seed\nVOLUME /data\n")
	out := &testutil.SyncBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("controller output:\n%s", out)
		}
	}()
	apply := func(manifest string) error {
		t.Helper()
		write(t, filepath.Join(dir, "store.yaml"), manifest)
		objs, files, err := source.Files([]string{dir}, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := reconcile.New(reconcile.Options{Engines: reconcile.Engines(map[string]engine.Engine{spec.LocalHost: eng}), Out: out})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		_, err = c.ApplyOnce(ctx, objs, files)
		return err
	}
	mustApply := func(manifest string) {
		t.Helper()
		if err := apply(manifest); err != nil {
			t.Fatal(err)
		}
	}
	// dataOf is the anonymous volume at /data of the store container, and
	// its folder on the host.
	dataOf := func() (name, dir string) {
		t.Helper()
		c, ok := container(e, "store")
		if !ok {
			t.Fatal("no store container")
		}
		for _, m := range c.Mounts {
			if m.Type == engine.MountVolume && m.Target == "/data" {
				vs, _ := e.Volumes(context.Background(), map[string]string{engine.LabelAnonymousVolume: ""})
				for _, v := range vs {
					if v.Name == m.Source {
						return v.Name, v.Mountpoint
					}
				}
				t.Fatalf("volume %s at /data is not anonymous", m.Source)
			}
		}
		t.Fatalf("store has no volume at /data: %+v", c.Mounts)
		return "", ""
	}
	// seen waits for the container run with V=v to record what it read.
	seen := func(data, v string) string {
		t.Helper()
		p := filepath.Join(data, "seen-"+v)
		testutil.Eventually(t, 30*time.Second, "the container with V="+v+" writes "+p, func() bool {
			b, err := os.ReadFile(p)
			return err == nil && strings.Count(string(b), "\n") == 2
		})
		b, _ := os.ReadFile(p)
		return string(b)
	}

	mustApply(storeYAML)
	first, ctr1 := dataOf()
	data := ctr1
	if got := seen(data, "1"); got != "seeded\n1\n" {
		t.Fatalf("first container read %q, want the image's seed and its own V", got)
	}
	old, _ := container(e, "store")

	mustApply(strings.Replace(storeYAML, `value: "1"`, `value: "2"`, 1))
	now, _ := container(e, "store")
	if now.ID == old.ID {
		t.Fatal("changing env did not recreate the container")
	}
	if name, _ := dataOf(); name != first {
		t.Fatalf("recreated container has volume %s at /data, want the old one's %s", name, first)
	}
	if got := seen(data, "2"); got != "seeded\n1\n" {
		t.Errorf("recreated container read %q, want what the first one wrote", got)
	}
	if !strings.Contains(out.String(), "recreate container/store: spec.env") || !strings.Contains(out.String(), "keeps anonymous volume "+first+" at /data") {
		t.Errorf("recreate output does not name the volume carried over:\n%s", out)
	}

	// A recreate whose new container fails to start keeps it (created)
	// with the volume, so a later apply, by another process, still
	// carries the data on.
	broken := strings.Replace(strings.Replace(storeYAML, `value: "1"`, `value: "3"`, 1), `["/bin/sh", "-c",`, `["/no/such/program", "-c",`, 1)
	if err := apply(broken); err == nil {
		t.Fatal("applying a container whose program does not exist succeeded")
	}
	if name, _ := dataOf(); name != first {
		t.Fatalf("after a failed start the container has volume %s at /data, want %s", name, first)
	}
	mustApply(strings.Replace(storeYAML, `value: "1"`, `value: "4"`, 1))
	if name, _ := dataOf(); name != first {
		t.Fatalf("fixed container has volume %s at /data, want %s", name, first)
	}
	if got := seen(data, "4"); got != "seeded\n1\n" {
		t.Errorf("the container after a failed start read %q, want what the first one wrote", got)
	}

	// A recreate interrupted after it renamed the old container out of the
	// way (as a crash there leaves it) is finished by the next apply: the
	// new container carries the volume on from the renamed one.
	ctx := context.Background()
	cur, _ := container(e, "store")
	renamed := cur.ID[:12] + "_store"
	if err := e.StopContainer(ctx, cur.ID, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := e.RenameContainer(ctx, cur.ID, renamed); err != nil {
		t.Fatal(err)
	}
	mustApply(strings.Replace(storeYAML, `value: "1"`, `value: "5"`, 1))
	if name, _ := dataOf(); name != first {
		t.Fatalf("the container finishing an interrupted recreate has volume %s at /data, want %s", name, first)
	}
	if got := seen(data, "5"); got != "seeded\n1\n" {
		t.Errorf("the container finishing an interrupted recreate read %q, want what the first one wrote", got)
	}
	if all, _ := e.Containers(ctx, nil); slices.ContainsFunc(all, func(c engine.Container) bool { return c.Name == renamed }) {
		t.Errorf("the renamed container %s is still there", renamed)
	}
	if !strings.Contains(out.String(), "recreate container/store: replacing "+renamed+"; keeps anonymous volume "+first+" at /data") {
		t.Errorf("the finished recreate does not say what it replaced and kept:\n%s", out)
	}

	// The manifest loses the container: it goes, its volume and data stay.
	mustApply(storeYAML[:strings.Index(storeYAML, "---\n")])
	if _, ok := container(e, "store"); ok {
		t.Fatal("store container not pruned")
	}
	if _, err := os.Stat(filepath.Join(data, "first")); err != nil {
		t.Errorf("the pruned container's anonymous volume lost its data: %v", err)
	}
	if n := strings.Count(out.String(), "kept its anonymous volume "+first+" at /data"); n != 1 {
		t.Errorf("removal says %d times that it kept %s:\n%s", n, first, out)
	}
}
