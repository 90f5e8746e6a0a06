package server

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/dockerapi/certs"
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

	for name, c := range map[string]struct {
		host string
		env  []string
	}{"plain TCP": {plain, nil}, "mutual TLS": {secure, tlsEnv}} {
		out, errOut, code := docker(t, c.host, c.env, "", "run", "--rm", "busybox:local", "echo", "over", name)
		if code != 0 || out != "over "+name+"\n" {
			t.Errorf("%s: run: %d %q %q", name, code, out, errOut)
		}
		out, errOut, code = docker(t, c.host, c.env, "in\n", "run", "-i", "--rm", "busybox:local", "cat")
		if code != 0 || out != "in\n" {
			t.Errorf("%s: run -i cat: %d %q %q", name, code, out, errOut)
		}
		if out, _, code := docker(t, c.host, c.env, "", "version", "--format", "{{.Server.APIVersion}}"); code != 0 || out != "1.41\n" {
			t.Errorf("%s: version: %d %q", name, code, out)
		}
	}

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
