package server

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/dockerapi/clitest"
	"github.com/reconciler/reconciler/dockerapi/fakebackend"
	"github.com/reconciler/reconciler/dockerapi/listen"
	"github.com/reconciler/reconciler/internal/testutil"
)

// testServer is our API server over a fake backend on a unix socket.
type testServer struct {
	srv  *Server
	fake *fakebackend.Backend
	sock string // unix socket path
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	fake := fakebackend.New(t.TempDir())
	if _, err := fake.ImageImport(context.Background(), strings.NewReader("rootfs"), dockerapi.ImportOptions{Repo: "busybox", Tag: "local"}, nil); err != nil {
		t.Fatal(err)
	}
	var logBuf testutil.SyncBuffer
	srv, err := New(Config{Backend: fake, Version: "test", Root: "/var/lib/reconciler-test", Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "r.sock")
	ts := &testServer{srv: srv, fake: fake, sock: sock}
	ts.serve(t, "unix://"+sock, nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if t.Failed() {
			t.Logf("server log:\n%s", logBuf.String())
		}
	})
	return ts
}

// serve adds a listener; it returns its address.
func (ts *testServer) serve(t *testing.T, addr string, tlsCfg *tls.Config) net.Addr {
	t.Helper()
	l, err := listen.Listen(addr, listen.Options{TLS: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	go ts.srv.Serve(l)
	return l.Addr()
}

// dockerCLI is the docker CLI the tests drive (clitest.Find).
var dockerCLI = clitest.Find()

func needDocker(t *testing.T) {
	t.Helper()
	if dockerCLI == "" {
		t.Skip("needs the docker CLI (/usr/local/bin/docker, or Debian's docker.io)")
	}
}

// docker runs the real docker CLI against host with env added; it returns
// stdout, stderr and the exit code.
func docker(t *testing.T, host string, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return clitest.Docker(t, clitest.Options{Host: host, Env: env, CLI: dockerCLI}, stdin, args...)
}

// mustDocker is docker that fails the test on a non-zero exit.
func mustDocker(t *testing.T, host string, args ...string) string {
	t.Helper()
	out, errOut, code := docker(t, host, nil, "", args...)
	if code != 0 {
		t.Fatalf("docker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}
