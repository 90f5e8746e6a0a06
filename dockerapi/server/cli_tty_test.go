package server

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDockerCLITTY runs `docker run -it` and `docker exec -it` under a
// pseudo-terminal (script(1)): raw output without stdcopy framing, exit
// codes from wait and exec inspect, and the resize calls tolerated.
func TestDockerCLITTY(t *testing.T) {
	needDocker(t)
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("needs script(1) for a pseudo-terminal")
	}
	ts := startServer(t)
	host := "unix://" + ts.sock
	tty := func(cmdline string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, scriptBin, "-qec", dockerCLI+" -H "+host+" "+cmdline, "/dev/null")
		cmd.Env = []string{"HOME=" + t.TempDir(), "TERM=dumb"}
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	out, code := tty("run -it --rm busybox:local sh -c 'echo tty-out; exit 3'")
	if code != 3 || !strings.Contains(out, "tty-out") || strings.Contains(out, "\x01\x00\x00\x00") {
		t.Errorf("run -it: code %d out %q", code, out)
	}
	mustDocker(t, host, "run", "-d", "--name", "ttyexec", "busybox:local", "sleep", "30")
	out, code = tty("exec -it ttyexec sh -c 'echo in-exec; exit 6'")
	if code != 6 || !strings.Contains(out, "in-exec") {
		t.Errorf("exec -it: code %d out %q", code, out)
	}
}
