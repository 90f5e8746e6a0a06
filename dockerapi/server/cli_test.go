package server

import (
	"testing"

	"github.com/reconciler/reconciler/dockerapi/clitest"
)

// TestDockerCLI runs the docker CLI suite against our server over a fake
// engine, on the unix socket.
func TestDockerCLI(t *testing.T) {
	needDocker(t)
	ts := startServer(t)
	clitest.Run(t, clitest.Options{Host: "unix://" + ts.sock, Image: "busybox:local", PushPull: true, CLI: dockerCLI})
}
