package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// TestRegistryPushPull pushes an image to a loopback registry (Debian's
// docker-registry) with docker push, removes it, pulls it back with docker
// pull and runs it.
func TestRegistryPushPull(t *testing.T) {
	requireE2E(t)
	addr := startRegistry(t)
	d := startDaemon(t, newRoot(t), daemonOpts{})
	c := d.cli(t)
	buildBusybox(t, c, "bb:e2e")
	ref := addr + "/e2e/bb:1"
	c.ok("tag", "bb:e2e", ref)
	push := c.ok("push", ref)
	wantContains(t, "docker push", push, "digest: sha256:")
	c.ok("rmi", ref, "bb:e2e")
	if imgs := c.ok("images", "-q"); imgs != "" {
		t.Fatalf("images left after rmi: %q", imgs)
	}
	pull := c.ok("pull", ref)
	wantContains(t, "docker pull", pull, "Digest: sha256:", ref)
	if got := c.ok("run", "--rm", ref, "echo", "pulled"); got != "pulled\n" {
		t.Errorf("docker run --rm of the pulled image = %q", got)
	}
}

// startRegistry runs docker-registry on a free loopback port until the test
// ends; it returns HOST:PORT.
func startRegistry(t *testing.T) string {
	t.Helper()
	const bin = "/usr/bin/docker-registry"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("needs docker-registry (Debian package docker-registry)")
	}
	dir := t.TempDir()
	addr := freePort(t)
	cfg := filepath.Join(dir, "config.yml")
	writeFile(t, cfg, "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: "+filepath.Join(dir, "data")+
		"\nhttp:\n  addr: "+addr+"\n", 0o644)
	cmd, done, err := spawn(filepath.Join(dir, "registry.log"), bin, "serve", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	if !testutil.WaitFor(10*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}) {
		t.Fatalf("docker-registry did not answer on %s:\n%s", addr, readFile(filepath.Join(dir, "registry.log")))
	}
	return strings.TrimSpace(addr)
}
