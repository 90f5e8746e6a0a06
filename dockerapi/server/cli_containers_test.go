package server

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDockerCLIContainers drives the container endpoints with the real
// docker CLI and checks what a user would see.
func TestDockerCLIContainers(t *testing.T) {
	needDocker(t)
	ts := startServer(t)
	host := "unix://" + ts.sock

	// run --rm attached: output through the hijacked attach, exit code from wait.
	if out := mustDocker(t, host, "run", "--rm", "busybox:local", "echo", "hello"); out != "hello\n" {
		t.Errorf("run --rm echo: %q", out)
	}
	out, _, code := docker(t, host, nil, "", "run", "--rm", "busybox:local", "sh", "-c", "echo out; echo err >&2; exit 3")
	if code != 3 || out != "out\n" {
		t.Errorf("run exit 3: code %d, out %q", code, out)
	}
	// stdin piped through the hijacked connection, half-close ends cat.
	out, errOut, code := docker(t, host, nil, "foo\nbar\n", "run", "--rm", "-i", "busybox:local", "cat")
	if code != 0 || out != "foo\nbar\n" {
		t.Errorf("run -i cat: code %d out %q err %q", code, out, errOut)
	}

	id := strings.TrimSpace(mustDocker(t, host, "run", "-d", "--name", "web", "--label", "app=shop", "-e", "PORT=8080",
		"-v", "data:/data", "busybox:local", "sleep", "300"))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("run -d printed %q, want a full ID", id)
	}
	ps := mustDocker(t, host, "ps")
	if !strings.Contains(ps, "web") || !strings.Contains(ps, "Up ") || !strings.Contains(ps, `"sleep 300"`) {
		t.Errorf("ps:\n%s", ps)
	}
	if got := mustDocker(t, host, "ps", "-q", "--no-trunc", "--filter", "label=app=shop"); strings.TrimSpace(got) != id {
		t.Errorf("ps --filter label: %q", got)
	}
	if got := mustDocker(t, host, "ps", "-q", "--filter", "label=app=other"); got != "" {
		t.Errorf("ps --filter label=app=other: %q", got)
	}
	if got := mustDocker(t, host, "inspect", "-f", "{{.State.Running}} {{.Name}} {{index .Config.Labels \"app\"}} {{.Config.Env}}", "web"); !strings.Contains(got, "true /web shop") || !strings.Contains(got, "PORT=8080") {
		t.Errorf("inspect: %q", got)
	}
	if got := mustDocker(t, host, "volume", "ls", "-q"); strings.TrimSpace(got) != "data" {
		t.Errorf("volume implicitly created by -v: %q", got)
	}

	// exec: output, exit code from exec inspect, 126 for a missing binary.
	if got := mustDocker(t, host, "exec", "web", "echo", "hi"); got != "hi\n" {
		t.Errorf("exec echo: %q", got)
	}
	if _, _, code := docker(t, host, nil, "", "exec", "web", "sh", "-c", "exit 5"); code != 5 {
		t.Errorf("exec exit 5: code %d", code)
	}
	if out, _, code := docker(t, host, nil, "", "exec", "web", "nosuchcmd"); code != 126 || !strings.Contains(out, "executable file not found") {
		t.Errorf("exec missing binary: code %d out %q", code, out)
	}
	if got := mustDocker(t, host, "exec", "-e", "FOO=bar", "web", "env"); !strings.Contains(got, "FOO=bar") || !strings.Contains(got, "PORT=8080") {
		t.Errorf("exec env: %q", got)
	}
	mustDocker(t, host, "exec", "-d", "web", "sleep", "1")

	// Logs, with and without timestamps and tail.
	mustDocker(t, host, "run", "-d", "--name", "talk", "busybox:local", "sh", "-c", "echo out0; echo err0 >&2; echo out1")
	waitOut := mustDocker(t, host, "wait", "talk")
	if strings.TrimSpace(waitOut) != "0" {
		t.Errorf("wait: %q", waitOut)
	}
	out, errOut, _ = docker(t, host, nil, "", "logs", "talk")
	if out != "out0\nout1\n" || errOut != "err0\n" {
		t.Errorf("logs: stdout %q stderr %q", out, errOut)
	}
	out = mustDocker(t, host, "logs", "--tail", "1", "--timestamps", "talk")
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT[0-9:.]+Z out1\n$`).MatchString(out) {
		t.Errorf("logs --tail 1 --timestamps: %q", out)
	}

	// logs -f follows until the container exits.
	mustDocker(t, host, "run", "-d", "--name", "slow", "busybox:local", "sh", "-c", "echo a; sleep 0.3; echo b")
	start := time.Now()
	if out := mustDocker(t, host, "logs", "-f", "slow"); out != "a\nb\n" {
		t.Errorf("logs -f: %q", out)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("logs -f did not end when the container exited")
	}

	// stop, start, restart, kill, wait.
	mustDocker(t, host, "stop", "-t", "1", "web")
	if got := mustDocker(t, host, "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web"); got != "exited 143\n" {
		t.Errorf("after stop: %q", got)
	}
	if got := mustDocker(t, host, "ps", "-a", "--filter", "name=web", "--format", "{{.Status}}"); !strings.HasPrefix(got, "Exited (143)") {
		t.Errorf("ps status after stop: %q", got)
	}
	if got := mustDocker(t, host, "start", "web"); got != "web\n" {
		t.Errorf("start printed %q", got)
	}
	mustDocker(t, host, "restart", "-t", "1", "web")
	if got := mustDocker(t, host, "inspect", "-f", "{{.State.Running}} {{.RestartCount}}", "web"); got != "true 1\n" {
		t.Errorf("after restart: %q", got)
	}
	mustDocker(t, host, "kill", "web")
	if got := mustDocker(t, host, "wait", "web"); got != "137\n" {
		t.Errorf("wait after kill: %q", got)
	}

	// Errors reach the user with Docker's wording and exit codes.
	_, errOut, code = docker(t, host, nil, "", "inspect", "nosuch")
	if code != 1 || !strings.Contains(errOut, "No such object: nosuch") {
		t.Errorf("inspect nosuch: code %d err %q", code, errOut)
	}
	_, errOut, code = docker(t, host, nil, "", "run", "-d", "--name", "web", "busybox:local", "true")
	if code != 125 || !strings.Contains(errOut, `The container name "/web" is already in use`) {
		t.Errorf("name conflict: code %d err %q", code, errOut)
	}
	_, errOut, code = docker(t, host, nil, "", "volume", "rm", "data")
	if code != 1 || !strings.Contains(errOut, "volume is in use") {
		t.Errorf("volume rm in use: code %d err %q", code, errOut)
	}
	_, errOut, code = docker(t, host, nil, "", "run", "--rm", "nosuchimage:1", "true")
	if code != 125 || !strings.Contains(errOut, "Unable to find image 'nosuchimage:1' locally") {
		t.Errorf("run missing image: code %d err %q", code, errOut)
	}

	// commit, rm, prune.
	cid := strings.TrimSpace(mustDocker(t, host, "commit", "-c", `CMD ["echo","committed"]`, "-m", "msg", "talk", "committed:1"))
	if !strings.HasPrefix(cid, "sha256:") {
		t.Errorf("commit printed %q", cid)
	}
	if got := mustDocker(t, host, "run", "--rm", "committed:1"); got != "committed\n" {
		t.Errorf("run committed image: %q", got)
	}
	if got := mustDocker(t, host, "rm", "-f", "web", "slow"); got != "web\nslow\n" && got != "slow\nweb\n" {
		t.Errorf("rm -f: %q", got)
	}
	if got := mustDocker(t, host, "container", "prune", "-f"); !strings.Contains(got, "Deleted Containers:") {
		t.Errorf("container prune: %q", got)
	}
	if got := mustDocker(t, host, "ps", "-aq"); got != "" {
		t.Errorf("containers left after prune: %q", got)
	}
}
