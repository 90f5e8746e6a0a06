package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/dockerapi/fakebackend"
	"github.com/reconciler/reconciler/internal/rootlock"
)

// withFakeBackend makes the daemon serve an in-memory engine for a test.
func withFakeBackend(t *testing.T) {
	t.Helper()
	old := newBackend
	newBackend = func(root string, reg *prometheus.Registry) (dockerapi.Backend, func() error, error) {
		b := fakebackend.New(root)
		_, err := b.ImageImport(context.Background(), strings.NewReader("rootfs"), dockerapi.ImportOptions{Repo: "busybox", Tag: "local"}, io.Discard)
		reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "reconciler_test_engine_up"}))
		return b, func() error { return nil }, err
	}
	t.Cleanup(func() { newBackend = old })
}

type runningDaemon struct {
	api     []net.Addr
	metrics net.Addr
	stop    func() error
}

func startDaemon(t *testing.T, o daemonOptions) *runningDaemon {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	readyc := make(chan *runningDaemon, 1)
	done := make(chan error, 1)
	go func() {
		done <- runDaemon(ctx, o, slog.New(slog.DiscardHandler), func(api []net.Addr, m net.Addr) {
			readyc <- &runningDaemon{api: api, metrics: m}
		})
	}()
	select {
	case d := <-readyc:
		var stopped bool
		var stopErr error
		d.stop = func() error {
			if !stopped {
				stopped = true
				cancel()
				stopErr = <-done
			}
			return stopErr
		}
		t.Cleanup(func() { d.stop() })
		return d
	case err := <-done:
		cancel()
		t.Fatalf("daemon did not start: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("daemon did not start in 10s")
	}
	return nil
}

func TestDaemonServesDockerCLIAndMetrics(t *testing.T) {
	withFakeBackend(t)
	root := t.TempDir()
	sock := filepath.Join(root, "run", "api.sock")
	d := startDaemon(t, daemonOptions{root: root, hosts: []string{"unix://" + sock, "tcp://127.0.0.1:0"}, metricsAddr: "127.0.0.1:0"})

	if _, err := os.Stat("/usr/local/bin/docker"); err == nil {
		for _, host := range []string{"unix://" + sock, "tcp://" + d.api[1].String()} {
			cmd := exec.Command("/usr/local/bin/docker", "-H", host, "run", "--rm", "busybox:local", "echo", "from daemon")
			cmd.Env = []string{"HOME=" + t.TempDir()}
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != "from daemon\n" {
				t.Errorf("docker -H %s run: %v %q", host, err, out)
			}
		}
	}

	resp, err := http.Get("http://" + d.metrics.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"reconciler_api_requests_total{", "go_goroutines", "process_open_fds", "reconciler_test_engine_up"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A second daemon on the same root refuses, naming the first one's PID.
	err = runDaemon(context.Background(), daemonOptions{root: root, hosts: []string{"unix://" + filepath.Join(root, "other.sock")}}, slog.New(slog.DiscardHandler), nil)
	if !errors.Is(err, rootlock.ErrLocked) || !strings.Contains(err.Error(), "process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second daemon: %v", err)
	}
	if err := d.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind after shutdown: %v", err)
	}
}

func TestDaemonRunsServices(t *testing.T) {
	withFakeBackend(t)
	old := daemonServices
	defer func() { daemonServices = old }()
	var started, stopped bool
	daemonServices = append(daemonServices, daemonService{start: func(ctx context.Context, env daemonEnv) (func(), error) {
		started = env.Backend != nil && env.Registry != nil && env.Root != ""
		return func() { stopped = true }, nil
	}})
	root := t.TempDir()
	d := startDaemon(t, daemonOptions{root: root, hosts: []string{"unix://" + filepath.Join(root, "s.sock")}})
	if !started {
		t.Error("service not started with the engine")
	}
	d.stop()
	if !stopped {
		t.Error("service not stopped at shutdown")
	}
}

func TestDaemonRefusals(t *testing.T) {
	old := newBackend
	newBackend = nil
	err := runDaemon(context.Background(), daemonOptions{root: t.TempDir()}, slog.New(slog.DiscardHandler), nil)
	newBackend = old
	if err == nil || !strings.Contains(err.Error(), "no local engine") {
		t.Errorf("nil backend: %v", err)
	}
	withFakeBackend(t)
	err = runDaemon(context.Background(), daemonOptions{root: t.TempDir(), hosts: []string{"tcp://0.0.0.0:0"}, metricsAddr: ""}, slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), "--insecure-tcp") {
		t.Errorf("plain TCP on all interfaces: %v", err)
	}
	err = runDaemon(context.Background(), daemonOptions{root: t.TempDir(), tlsVerify: true}, slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), "--tlscacert") {
		t.Errorf("--tlsverify without files: %v", err)
	}
}
