package e2e

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/dockerapi/client"
	"github.com/reconciler/reconciler/dockerapi/localbackend"
	"github.com/reconciler/reconciler/dockerapi/server"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/spec"
)

// serveAPI serves an engine over the Docker Engine API on a loopback port.
func serveAPI(t *testing.T, e *local.Engine) string {
	t.Helper()
	srv, err := server.New(server.Config{Backend: localbackend.New(e)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "tcp://" + ln.Addr().String()
}

// TestRemoteHostOverDockerAPI: objects on a declared Host are driven
// through the Docker Engine API client, image build included, and drift
// there is healed from the API's event stream.
func TestRemoteHostOverDockerAPI(t *testing.T) {
	remote, _ := openLocal(t)
	addr := serveAPI(t, remote)
	dir := t.TempDir()
	buildContext(t, dir)
	manifest := `apiVersion: reconciler/v1
kind: Host
metadata: {name: far}
spec: {address: "` + addr + `"}
---
` + strings.ReplaceAll(strings.ReplaceAll(appYAML, "spec:\n  tag: app:1", "spec:\n  host: far\n  tag: app:1"),
		"spec:\n  image: app:1", "spec:\n  host: far\n  image: app:1")
	manifest = strings.ReplaceAll(manifest, "metadata: {name: data}\n", "metadata: {name: data}\nspec: {host: far}\n")
	manifest = strings.ReplaceAll(manifest, "spec: {reclaimPolicy: Delete}", "spec: {host: far, reclaimPolicy: Delete}")
	write(t, filepath.Join(dir, "app.yaml"), manifest)
	objs, files, err := source.Files([]string{dir}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.Kind != spec.KindHost && o.Host != "far" {
			t.Fatalf("%s is not on far", o.Key)
		}
	}
	engines := func(host string, decl *spec.Host) (engine.Engine, error) {
		if decl == nil {
			return nil, errString("host " + host + " is not declared")
		}
		return client.Open(decl.Spec.Address, nil, 0)
	}
	out := &testutil.SyncBuffer{}
	c, err := reconcile.New(reconcile.Options{Engines: engines, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("controller output:\n%s", out)
		}
	}()
	ctx := testutil.Go(t, c.Run)

	actx, acancel := context.WithTimeout(ctx, 60*time.Second)
	defer acancel()
	st, err := c.ApplyOnce(actx, objs, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 6 {
		t.Fatalf("statuses %+v", st)
	}
	if !running(remote, "web") || !running(remote, "worker") {
		t.Fatal("containers not running on the remote engine")
	}
	// Re-apply: nothing to do, and a fresh controller agrees from labels.
	before := out.String()
	c2, _ := reconcile.New(reconcile.Options{Engines: engines, Out: out})
	acts, err := c2.Plan(ctx, objs, files)
	if err != nil || len(acts) != 0 {
		t.Fatalf("plan after apply: %v %v\n%s", acts, err, strings.TrimPrefix(out.String(), before))
	}
	// Drift on the remote host, reported by its API's events.
	worker, _ := container(remote, "worker")
	if err := remote.StopContainer(ctx, worker.ID, time.Second); err != nil {
		t.Fatal(err)
	}
	took := testutil.Eventually(t, 2*time.Second, "remote worker started again", func() bool { return running(remote, "worker") })
	t.Logf("remote drift healed in %v", took)
}

type errString string

func (e errString) Error() string { return string(e) }
