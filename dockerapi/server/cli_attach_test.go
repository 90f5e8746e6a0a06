package server

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDockerCLIStartAttach covers `start -a` (attach, wait, start) and
// `attach` to a running container, both taking the exit code from wait.
func TestDockerCLIStartAttach(t *testing.T) {
	needDocker(t)
	ts := startServer(t)
	host := "unix://" + ts.sock

	mustDocker(t, host, "create", "--name", "once", "busybox:local", "sh", "-c", "echo first; exit 4")
	out, errOut, code := docker(t, host, nil, "", "start", "-a", "once")
	if code != 4 || out != "first\n" {
		t.Errorf("start -a: code %d out %q err %q", code, out, errOut)
	}

	mustDocker(t, host, "run", "-d", "--name", "long", "busybox:local", "sleep", "30")
	att := exec.Command(dockerCLI, "-H", host, "attach", "--no-stdin", "long")
	att.Env = []string{"HOME=" + t.TempDir()}
	var attErr syncBuffer
	att.Stderr = &attErr
	if err := att.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return attachedCount(ts, "long") > 0 })
	mustDocker(t, host, "kill", "long")
	done := make(chan error, 1)
	go func() { done <- att.Wait() }()
	select {
	case err := <-done:
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 137 {
			t.Errorf("attach ended with %v, want exit 137; stderr %q", err, attErr.String())
		}
	case <-time.After(10 * time.Second):
		att.Process.Kill()
		t.Fatal("attach did not end when the container was killed")
	}
	_, errOut, code = docker(t, host, nil, "", "attach", "once")
	if code == 0 || !strings.Contains(errOut, "You cannot attach to a stopped container") {
		t.Errorf("attach to stopped: %d %q", code, errOut)
	}
}

// attachedCount counts the attach events of container name so far.
func attachedCount(ts *testServer, name string) int {
	past, _, cancel := ts.fake.SubscribeEvents(time.Now().Add(-time.Minute))
	cancel()
	n := 0
	for _, m := range past {
		if m.Action == "attach" && m.Actor.Attributes["name"] == name {
			n++
		}
	}
	return n
}
