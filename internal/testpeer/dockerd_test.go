package testpeer

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestStartDockerd(t *testing.T) {
	sock, d := StartDockerd(t)
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("socket: %v", err)
	}
	out, err := d.Docker(context.Background(), "version", "--format", "{{.Server.Version}}")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("docker version: %q %v", out, err)
	}
	t.Logf("dockerd %s on %s and %s", strings.TrimSpace(out), d.Host, d.TCP)
}
