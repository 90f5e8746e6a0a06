package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecondDaemonRefused: one daemon per state root; the second says why,
// naming the first one's PID, and the first keeps serving.
func TestSecondDaemonRefused(t *testing.T) {
	requireE2E(t)
	root := newRoot(t)
	d := startDaemon(t, root, daemonOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	second := exec.CommandContext(ctx, reconcilerBin, "--root", root, "daemon",
		"-H", "unix://"+filepath.Join(root, "second.sock"), "--metrics-addr", "127.0.0.1:0")
	out, err := second.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("a second daemon on the same root kept running (20s):\n%s", out)
	}
	if err == nil {
		t.Fatalf("a second daemon on the same root exited 0:\n%s", out)
	}
	wantContains(t, "second daemon's error", string(out), strconv.Itoa(d.pid()), root)
	if r := d.cli(t).try("version"); r.Code != 0 {
		t.Errorf("the first daemon stopped serving after the second one was refused: %s", r)
	}
}

// TestDaemonListeners: the API socket is 0660, and the daemon will not
// serve plain HTTP beyond loopback or half-configured TLS.
func TestDaemonListeners(t *testing.T) {
	requireE2E(t)
	root := newRoot(t)
	d := startDaemon(t, root, daemonOpts{})
	for _, sock := range []string{d.sock, filepath.Join(root, "run", "reconciler.sock")} {
		st, err := os.Stat(sock)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o660 {
			t.Errorf("%s: mode %v, want a socket with mode 0660", sock, st.Mode())
		}
	}
	d.stop()

	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{"plain-tcp-beyond-loopback", []string{"-H", "tcp://0.0.0.0:" + portOf(freePort(t))}, 1, []string{"0.0.0.0", "--insecure-tcp", "--tlsverify"}},
		{"tlsverify-without-certificates", []string{"-H", "tcp://" + freePort(t), "--tlsverify"}, 2, []string{"--tlscacert", "certs init"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			args := append([]string{"--root", root, "daemon", "--metrics-addr", ""}, tc.args...)
			out, err := exec.CommandContext(ctx, reconcilerBin, args...).CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("reconciler %s kept running, want a refusal:\n%s", strings.Join(args, " "), out)
			}
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != tc.wantCode {
				t.Errorf("reconciler %s: exit %d, want %d:\n%s", strings.Join(args, " "), code, tc.wantCode, out)
			}
			wantContains(t, "reconciler "+strings.Join(args, " "), string(out), tc.wantErr...)
		})
	}
}

func portOf(addr string) string { return addr[strings.LastIndex(addr, ":")+1:] }

// TestMetrics: --metrics-addr serves Prometheus text with the API requests
// by route, containers by state and the image store's images and layers.
func TestMetrics(t *testing.T) {
	requireE2E(t)
	d := startDaemon(t, newRoot(t), daemonOpts{})
	c := d.cli(t)
	buildBusybox(t, c, "bb:e2e")
	c.ok("run", "-d", "--name", "m1", "bb:e2e", "sleep", "1000")
	c.ok("run", "--name", "m2", "bb:e2e", "true")
	c.ok("ps")
	c.ok("volume", "create", "mvol")

	resp, err := http.Get("http://" + d.metrics + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics on --metrics-addr: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text := string(body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, text)
	}
	want := []struct{ what, re string }{
		{"API requests by route and code", `(?m)^reconciler_api_requests_total\{[^}]*route="/containers/json"[^}]*\} [1-9]`},
		{"API requests to create containers", `(?m)^reconciler_api_requests_total\{[^}]*code="201"[^}]*route="/containers/create"[^}]*\} 2$`},
		{"API request latency", `(?m)^reconciler_api_request_duration_seconds_count\{[^}]*route="/build"[^}]*\} 1$`},
		{"running containers", `(?m)^reconciler_containers\{state="running"\} 1$`},
		{"exited containers", `(?m)^reconciler_containers\{state="exited"\} 1$`},
		{"images", `(?m)^reconciler_\w*images\w* [1-9]`},
		{"layers", `(?m)^reconciler_\w*layers\w* [1-9]`},
		{"volumes", `(?m)^reconciler_volumes 1$`},
		{"Go runtime", `(?m)^go_goroutines `},
	}
	for _, w := range want {
		if !regexp.MustCompile(w.re).MatchString(text) {
			t.Errorf("/metrics: no %s (want a line matching %s); reconciler_ lines:\n%s", w.what, w.re, reconcilerLines(text))
		}
	}
	c.ok("rm", "-f", "m1", "m2")
}

// reconcilerLines are the reconciler_* samples of a scrape, for messages.
func reconcilerLines(text string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "reconciler_") && !strings.Contains(l, "_bucket{") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
