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
	ts.srv.AddWarning("WARNING: API is accessible on http://0.0.0.0:2375 without encryption.")
	out, errOut, code := docker(t, host, nil, "", "info")
	for _, want := range []string{"Server Version: test", "Docker Root Dir: /var/lib/reconciler-test", "Images: 1", "OSType: linux"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("docker info: missing %q in:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "without encryption") {
		t.Errorf("docker info does not show the server's warning: %q", errOut)
	}
}
