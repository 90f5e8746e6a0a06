package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// TestTwoDaemonsAsTwoHosts: one manifest set declares two Hosts, two of
// our daemons on loopback (one plain TCP, one mutual TLS with certificates
// from `reconciler certs init`), and places an image and a container on
// each; `reconciler apply` builds and runs them there, the docker CLI on
// each host sees its own container only, and a re-apply changes nothing.
func TestTwoDaemonsAsTwoHosts(t *testing.T) {
	requireE2E(t)
	dir := t.TempDir()
	busyboxContext(t, dir)
	certDir := certsInit(t)
	plain := startDaemon(t, newRoot(t), daemonOpts{tcp: true})
	secure := startDaemon(t, newRoot(t), daemonOpts{tcp: true, tlsDir: certDir})
	secure.clientHost = "tcp://" + secure.tcpAddr
	secure.clientEnv = []string{"DOCKER_CERT_PATH=" + certDir, "DOCKER_TLS_VERIFY=1"}

	var docs []string
	docs = append(docs, `apiVersion: reconciler/v1
kind: Host
metadata: {name: plain}
spec: {address: "tcp://`+plain.tcpAddr+`"}`, `apiVersion: reconciler/v1
kind: Host
metadata: {name: secure}
spec:
  address: "tcp://`+secure.tcpAddr+`"
  tls: {caFile: `+filepath.Join(certDir, "ca.pem")+`, certFile: `+filepath.Join(certDir, "cert.pem")+`, keyFile: `+filepath.Join(certDir, "key.pem")+`}`)
	for _, host := range []string{"plain", "secure"} {
		docs = append(docs, `apiVersion: reconciler/v1
kind: Image
metadata: {name: bb}
spec: {host: `+host+`, tag: "bb:hosts", build: {context: ctx}}`, `apiVersion: reconciler/v1
kind: Container
metadata: {name: web-`+host+`}
spec:
  host: `+host+`
  image: "bb:hosts"
  command: ["sh", "-c", "echo on `+host+`; exec sleep 1000"]
  stopGracePeriod: 1s`)
	}
	manifest := filepath.Join(dir, "hosts.yaml")
	writeFile(t, manifest, strings.Join(docs, "\n---\n")+"\n", 0o644)

	// The command's own --root is never used: every object is on a Host.
	apply := func() string { return reconciler(t, "--root", t.TempDir(), "apply", "-f", manifest, "--timeout", "2m") }
	wantContains(t, "apply on two hosts", apply(), "create container/web-plain", "create container/web-secure", "6 objects ready")
	for _, h := range []struct {
		d    *daemon
		name string
	}{{plain, "plain"}, {secure, "secure"}} {
		c := h.d.cli(t)
		if got := c.ok("ps", "--filter", "label=io.reconciler.managed=true", "--format", "{{.Names}}"); got != "web-"+h.name+"\n" {
			t.Errorf("docker ps on host %s = %q, want only web-%s", h.name, got, h.name)
		}
		// Ready means running: its first line may still be on its way.
		if !testutil.WaitFor(5*time.Second, func() bool { return c.ok("logs", "web-"+h.name) == "on "+h.name+"\n" }) {
			t.Errorf("docker logs web-%s on host %s = %q", h.name, h.name, c.ok("logs", "web-"+h.name))
		}
	}
	if out := apply(); strings.Contains(out, "create ") || strings.Contains(out, "recreate ") {
		t.Errorf("a second apply changed something:\n%s", out)
	}
}
