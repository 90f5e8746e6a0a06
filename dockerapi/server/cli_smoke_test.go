package server

import (
	"strings"
	"testing"
)

func TestDockerCLIVersionInfo(t *testing.T) {
	needDocker(t)
	ts := startServer(t)
	host := "unix://" + ts.sock
	out := mustDocker(t, host, "version")
	for _, want := range []string{"Server: Reconciler Engine", "API version:      1.41 (minimum version 1.24)", "Version:          test"} {
		if !strings.Contains(out, want) {
			t.Errorf("docker version: missing %q in:\n%s", want, out)
		}
	}
	out = mustDocker(t, host, "info")
	t.Log(out)
}
