package client

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/dockerapi/certs"
	"github.com/reconciler/reconciler/dockerapi/fakebackend"
	"github.com/reconciler/reconciler/dockerapi/listen"
	"github.com/reconciler/reconciler/dockerapi/server"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/spec"
)

// hostEngines opens the engine of a declared Host, with its TLS files.
func hostEngines(host string, decl *spec.Host) (engine.Engine, error) {
	if decl == nil {
		return nil, fmt.Errorf("host %s is not declared", host)
	}
	var files *TLSFiles
	if t := decl.Spec.TLS; t != nil {
		files = &TLSFiles{CA: t.CAFile, Cert: t.CertFile, Key: t.KeyFile}
	}
	timeout := 10 * time.Second
	if decl.Spec.Timeout != nil {
		timeout = decl.Spec.Timeout.Duration
	}
	return New(decl.Spec.Address, files, timeout)
}

// serveTCP serves fake on a plain loopback port too.
func serveTCP(t *testing.T, fake *fakebackend.Backend) string {
	t.Helper()
	srv, err := server.New(server.Config{Backend: fake, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := listen.Listen("tcp://127.0.0.1:0", listen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "tcp://" + l.Addr().String()
}

const twoHostsManifest = `apiVersion: reconciler/v1
kind: Host
metadata: {name: plain}
spec: {address: "%s"}
---
apiVersion: reconciler/v1
kind: Host
metadata: {name: secure}
spec:
  address: "%s"
  tls: {caFile: certs/ca.pem, certFile: certs/cert.pem, keyFile: certs/key.pem}
---
apiVersion: reconciler/v1
kind: Image
metadata: {name: app}
spec: {host: plain, tag: "app:1", import: {path: rootfs.tar}}
---
apiVersion: reconciler/v1
kind: Image
metadata: {name: app}
spec: {host: secure, tag: "app:1", import: {path: rootfs.tar}}
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: front}
spec: {host: plain, image: "app:1", command: ["/bin/sleep", "300"]}
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: back}
spec: {host: secure, image: "app:1", command: ["/bin/sleep", "300"]}
`

// TestControllerOnTwoDaemons: one manifest set places containers on two of
// our daemons, one on plain loopback TCP and one behind mutual TLS.
func TestControllerOnTwoDaemons(t *testing.T) {
	dir := t.TempDir()
	if err := certs.Init(filepath.Join(dir, "certs"), certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	p := func(n string) string { return filepath.Join(dir, "certs", n) }
	writeFile(t, filepath.Join(dir, "rootfs.tar"), tarOf(t, "bin/sleep", "fake"))
	plainFake, _, _ := serveFake(t, "")
	plainAddr := serveTCP(t, plainFake)
	_, _, secureAddr := serveFake(t, filepath.Join(dir, "certs"))
	writeFile(t, filepath.Join(dir, "app.yaml"), []byte(fmt.Sprintf(twoHostsManifest, plainAddr, secureAddr)))

	objs, files, err := source.Files([]string{dir}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := &testutil.SyncBuffer{}
	c, err := reconcile.New(reconcile.Options{Engines: hostEngines, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := c.ApplyOnce(ctx, objs, files)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	for _, s := range st {
		if s.Phase != reconcile.Ready {
			t.Errorf("%s: %s %s", s.Key, s.Phase, s.Message)
		}
	}
	secure, err := Open(secureAddr, &TLSFiles{CA: p(certs.CAFile), Cert: p(certs.ClientCertFile), Key: p(certs.ClientKeyFile)}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Open(plainAddr, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		e          engine.Engine
		here, away string
	}{{plain, "front", "back"}, {secure, "back", "front"}} {
		if !peerRunning(c.e, c.here) {
			t.Errorf("%s not running where declared", c.here)
		}
		if _, ok := peerContainer(c.e, c.away); ok {
			t.Errorf("%s placed on the wrong host", c.away)
		}
	}

	// The secure host given a client certificate of another CA: the
	// controller reports the refusal, and the other host carries on.
	other, _ := certs.NewAuthority("other", certs.ValidFor(1))
	certPEM, keyPEM, _ := other.IssueClient("intruder", certs.ValidFor(1))
	writeFile(t, p(certs.ClientCertFile), certPEM)
	writeFile(t, p(certs.ClientKeyFile), keyPEM)
	objs, files, err = source.Files([]string{dir}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := reconcile.New(reconcile.Options{Engines: hostEngines, Out: out})
	st, err = c2.ApplyOnce(ctx, objs, files)
	if err == nil {
		t.Fatal("apply succeeded without the client key of host secure")
	}
	for _, s := range st {
		onSecure := s.Key.Host == "secure" || s.Key.Name == "secure"
		if onSecure && (s.Phase == reconcile.Ready || !strings.Contains(s.Message, "refused our client certificate")) {
			t.Errorf("%s on the refusing host: %s %s", s.Key, s.Phase, s.Message)
		}
		if !onSecure && s.Phase != reconcile.Ready {
			t.Errorf("%s: %s %s", s.Key, s.Phase, s.Message)
		}
	}
}
