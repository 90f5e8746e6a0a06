package server

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/dockerapi/certs"
	"github.com/reconciler/reconciler/dockerapi/clitest"
)

// TestDockerCLIOverTCPAndTLS runs the CLI over plain loopback TCP and over
// mutual TLS with a cert dir made by certs.Init, as `reconciler certs init`
// does; clients without a valid certificate get nothing.
func TestDockerCLIOverTCPAndTLS(t *testing.T) {
	needDocker(t)
	ts := startServer(t)
	plain := "tcp://" + ts.serve(t, "tcp://127.0.0.1:0", nil).String()

	dir := t.TempDir()
	if err := certs.Init(dir, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	cfg, err := certs.ServerConfig(p(certs.CAFile), p(certs.ServerCertFile), p(certs.ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	secure := "tcp://" + ts.serve(t, "tcp://127.0.0.1:0", cfg).String()
	tlsEnv := []string{"DOCKER_CERT_PATH=" + dir, "DOCKER_TLS_VERIFY=1"}

	t.Run("plain TCP", func(t *testing.T) {
		clitest.Containers(t, clitest.Options{Host: plain, Image: "busybox:local", CLI: dockerCLI})
	})
	t.Run("mutual TLS", func(t *testing.T) {
		o := clitest.Options{Host: secure, Env: tlsEnv, Image: "busybox:local", CLI: dockerCLI}
		clitest.Containers(t, o)
		clitest.StartAttach(t, o)
	})

	other := t.TempDir()
	if err := certs.Init(other, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string][]string{
		"no TLS at all":           nil,
		"TLS without cert":        {"DOCKER_TLS=1"},
		"cert from another CA":    {"DOCKER_CERT_PATH=" + other, "DOCKER_TLS=1"},
		"verify against wrong CA": {"DOCKER_CERT_PATH=" + other, "DOCKER_TLS_VERIFY=1"},
	} {
		out, errOut, code := docker(t, secure, env, "", "version", "--format", "{{.Server.Version}}")
		if code == 0 || strings.Contains(out, "test") {
			t.Errorf("%s: got through: %d %q %q", name, code, out, errOut)
		}
	}
}
