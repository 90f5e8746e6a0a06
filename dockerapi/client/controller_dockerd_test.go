package client

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/internal/testpeer"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/spec"
)

// peerManifest places an image, a volume and two containers on a Host
// object that is a real dockerd.
const peerManifest = `apiVersion: reconciler/v1
kind: Host
metadata: {name: peer}
spec: {address: "%s"}
---
apiVersion: reconciler/v1
kind: Image
metadata: {name: bb}
spec: {host: peer, tag: "bb:1", import: {path: "%s"}}
---
apiVersion: reconciler/v1
kind: Volume
metadata: {name: data}
spec: {host: peer, reclaimPolicy: Delete}
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: web}
spec:
  host: peer
  image: "bb:1"
  command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo $GREETING > /data/hello; while true; do sleep 0.1; done"]
  env: [{name: GREETING, value: hello}]
  volumes: [{name: data, mountPath: /data}]
  network: none
%s`

const workerDoc = `---
apiVersion: reconciler/v1
kind: Container
metadata: {name: worker}
spec:
  host: peer
  image: "bb:1"
  command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
  network: none
`

// TestControllerDrivesRealDockerd: our controller applies manifests to a
// real dockerd declared as a Host, heals drift made behind its back, and
// prunes what a manifest no longer declares.
func TestControllerDrivesRealDockerd(t *testing.T) {
	rootfs := busyboxRootfs(t)
	_, d := testpeer.StartDockerd(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "app.yaml")
	writeManifest := func(extra string) {
		if err := os.WriteFile(file, []byte(fmt.Sprintf(peerManifest, d.TCP, rootfs, extra)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeManifest(workerDoc)
	objs, files, err := source.Files([]string{dir}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	engines := func(host string, decl *spec.Host) (engine.Engine, error) {
		if decl == nil {
			return nil, fmt.Errorf("host %s is not declared", host)
		}
		return New(decl.Spec.Address, nil, 20*time.Second)
	}
	peer, err := Open(d.TCP, nil, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := &testutil.SyncBuffer{}
	defer func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("controller output:\n%s", out)
		}
	}()

	// Apply: everything Ready on the dockerd.
	c, err := reconcile.New(reconcile.Options{Engines: engines, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.ApplyOnce(ctx, objs, files)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	for _, s := range st {
		if s.Phase != reconcile.Ready {
			t.Errorf("%s: %s %s", s.Key, s.Phase, s.Message)
		}
	}
	for _, name := range []string{"web", "worker"} {
		if !peerRunning(peer, name) {
			t.Fatalf("container %s not running on dockerd", name)
		}
	}
	if got, err := d.Docker(ctx, "exec", mustContainer(t, peer, "web").ID, "cat", "/data/hello"); err != nil || got != "hello\n" {
		t.Errorf("volume content seen through dockerd: %q %v", got, err)
	}

	// A watching controller heals drift (a container removed behind its
	// back) and prunes what the manifest drops.
	w, err := reconcile.New(reconcile.Options{Engines: engines, Out: out, Prunable: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	w.SetObjects(file, objs)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()

	web := mustContainer(t, peer, "web")
	if out, err := d.Docker(ctx, "rm", "-f", web.ID); err != nil {
		t.Fatal(out, err)
	}
	testutil.Eventually(t, 20*time.Second, "web recreated on dockerd", func() bool {
		c, ok := peerContainer(peer, "web")
		return ok && c.ID != web.ID && c.State == engine.StateRunning
	})

	writeManifest("")
	objs2, _, err := source.Files([]string{dir}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.SetObjects(file, objs2)
	testutil.Eventually(t, 30*time.Second, "worker pruned from dockerd", func() bool {
		_, ok := peerContainer(peer, "worker")
		return !ok
	})
	if !peerRunning(peer, "web") {
		t.Error("web did not survive the prune of worker")
	}

	// A spec change recreates web on dockerd: the old container is
	// stopped and renamed out of the way, the new one created, the old
	// one removed.
	web = mustContainer(t, peer, "web")
	if err := os.WriteFile(file, []byte(strings.Replace(fmt.Sprintf(peerManifest, d.TCP, rootfs, ""), "value: hello", "value: again", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	objs3, _, err := source.Files([]string{dir}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.SetObjects(file, objs3)
	testutil.Eventually(t, 30*time.Second, "web recreated on dockerd with the new env", func() bool {
		c, ok := peerContainer(peer, "web")
		if !ok || c.ID == web.ID || c.State != engine.StateRunning {
			return false
		}
		got, err := d.Docker(ctx, "exec", c.ID, "cat", "/data/hello")
		return err == nil && got == "again\n"
	})
	if names, err := d.Docker(ctx, "ps", "-a", "--format", "{{.Names}}"); err != nil || strings.TrimSpace(names) != "web" {
		t.Errorf("dockerd's containers after the recreate: %q %v, want web alone", names, err)
	}
}

func peerContainer(e engine.Engine, name string) (engine.Container, bool) {
	cs, _ := e.Containers(context.Background(), map[string]string{engine.LabelName: name, engine.LabelKind: spec.KindContainer})
	if len(cs) != 1 {
		return engine.Container{}, false
	}
	return cs[0], true
}

func peerRunning(e engine.Engine, name string) bool {
	c, ok := peerContainer(e, name)
	return ok && c.State == engine.StateRunning
}

func mustContainer(t *testing.T, e engine.Engine, name string) engine.Container {
	t.Helper()
	c, ok := peerContainer(e, name)
	if !ok {
		t.Fatalf("container %s not found on the peer", name)
	}
	return c
}
