// Package testpeer starts real peers (Debian's dockerd) for tests, isolated
// from anything else on the machine and stopped when the test ends.
package testpeer

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/mountinfo"
)

// Dockerd is a running isolated dockerd.
type Dockerd struct {
	Socket string // unix socket path
	Host   string // DOCKER_HOST value for the unix socket: unix://PATH
	TCP    string // tcp://127.0.0.1:PORT (plain, loopback)
	Dir    string // temp folder holding data-root, exec-root, pidfile, log, client config
	PID    int

	t        testing.TB
	exited   chan error
	stopOnce sync.Once
}

// StartDockerd starts dockerd with its data root, exec root, pidfile and
// sockets in a fresh temp folder (--iptables=false --ip6tables=false
// --bridge=none, no daemon.json), waits until it answers /_ping and stops
// it when the test ends (see Stop). It skips the test when not root or when
// dockerd is not installed (Debian package docker.io).
func StartDockerd(t testing.TB) (unixSocket string, d *Dockerd) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: dockerd")
	}
	bin, err := exec.LookPath("dockerd")
	if err != nil {
		t.Skip("dockerd not installed (Debian package docker.io; `make deps` installs it)")
	}
	// A short path: unix socket paths are limited to 108 bytes, and
	// containerd puts its own sockets below the exec root.
	dir, err := os.MkdirTemp("", "dkd")
	if err != nil {
		t.Fatal(err)
	}
	d = &Dockerd{Dir: dir, Socket: filepath.Join(dir, "docker.sock"), t: t}
	d.Host = "unix://" + d.Socket
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	d.TCP = fmt.Sprintf("tcp://127.0.0.1:%d", port)
	cfg := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(cfg, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "dockerd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--config-file", cfg,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "x"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"-H", d.Host, "-H", d.TCP,
		"--iptables=false", "--ip6tables=false", "--bridge=none",
		"--log-level=warn",
	)
	// Own files, never the test's stdout: go test waits for every holder.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(dir, "client"))
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start dockerd: %v", err)
	}
	logf.Close()
	d.PID = cmd.Process.Pid
	exited := make(chan error, 1)
	d.exited = exited
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(d.Stop)

	deadline := time.Now().Add(60 * time.Second)
	for {
		if ping(d.Socket) == nil {
			return d.Socket, d
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("dockerd exited during start-up (%v); log:\n%s", err, tail(logPath))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockerd did not answer on %s within 60s; log:\n%s", d.Socket, tail(logPath))
		}
	}
}

// Docker runs the docker CLI against d with an isolated client config and
// returns its combined output.
func (d *Dockerd) Docker(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", append([]string{"-H", d.Host}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(d.Dir, "client"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Stop terminates dockerd by PID (SIGTERM, then SIGKILL to its process
// group after 15s), kills the containerd shims it left and their
// containers, unmounts what is left below Dir and removes Dir. It runs when
// the test ends; calling it earlier (to check what a stop leaves) is fine,
// later calls do nothing.
func (d *Dockerd) Stop() { d.stopOnce.Do(d.stop) }

func (d *Dockerd) stop() {
	t := d.t
	_ = syscall.Kill(d.PID, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-d.PID, syscall.SIGKILL)
		<-d.exited
	}
	// The managed containerd is a child in the same process group; the
	// shims are not (see shimsUnder).
	_ = syscall.Kill(-d.PID, syscall.SIGKILL)
	if left := killShims(d.Dir, 10*time.Second); len(left) > 0 {
		t.Logf("dockerd's shims or containers survive SIGKILL for 10s: PIDs %v", left)
	}
	mounts, _ := mountinfo.Under(d.Dir)
	for _, m := range mounts {
		_ = unix.Unmount(m, unix.MNT_DETACH)
	}
	if err := os.RemoveAll(d.Dir); err != nil {
		t.Logf("remove dockerd folder: %v", err)
	}
}

func ping(sock string) error {
	c := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}},
	}
	resp, err := c.Get("http://docker/_ping")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ping: %s", resp.Status)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
