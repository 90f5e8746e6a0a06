package clitest

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var fullID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Containers covers run (attached, -i, -d), ps, inspect, exec, logs
// (-f, --tail, --timestamps), stop, start, restart, kill, wait, commit,
// rm and prune, and the errors users meet (name conflict, volume in use,
// missing image).
func Containers(t *testing.T, o Options) {
	c := newCLI(t, o)
	img := o.Image
	suite := unique("ct")
	label := "clitest=" + suite
	web, talk, slow, vol, committed := suite+"-web", suite+"-talk", suite+"-slow", suite+"-data", suite+"-committed:1"
	c.cleanup("rm", "-f", web, talk, slow)
	c.cleanup("volume", "rm", "-f", vol)
	c.cleanup("rmi", "-f", committed)

	// run attached: output through the hijacked attach, exit code from wait.
	if out := c.must("run", "--rm", "--label", label, img, "echo", "hello"); out != "hello\n" {
		t.Errorf("run --rm echo: %q", out)
	}
	out, errOut, code := c.run("", "run", "--rm", "--label", label, img, "sh", "-c", "echo out; echo err >&2; exit 3")
	if code != 3 || out != "out\n" || errOut != "err\n" {
		t.Errorf("run exit 3: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !o.NoStdin {
		out, errOut, code = c.run("foo\nbar\n", "run", "--rm", "-i", "--label", label, img, "cat")
		if code != 0 || out != "foo\nbar\n" {
			t.Errorf("run -i cat: code %d out %q err %q", code, out, errOut)
		}
	}

	id := strings.TrimSpace(c.must("run", "-d", "--name", web, "--label", label, "--label", "app=shop", "-e", "PORT=8080",
		"-v", vol+":/data", img, "sleep", "300"))
	if !fullID.MatchString(id) {
		t.Fatalf("run -d printed %q, want a full ID", id)
	}
	if ps := c.must("ps"); !strings.Contains(ps, web) || !strings.Contains(ps, "Up ") {
		t.Errorf("ps:\n%s", ps)
	}
	if got := c.must("ps", "-q", "--no-trunc", "--filter", "label="+label, "--filter", "label=app=shop"); strings.TrimSpace(got) != id {
		t.Errorf("ps --filter label: %q, want %s", got, id)
	}
	if got := c.must("ps", "-q", "--filter", "label="+label, "--filter", "label=app=other"); got != "" {
		t.Errorf("ps --filter label=app=other: %q", got)
	}
	got := c.must("inspect", "-f", `{{.Id}} {{.State.Running}} {{.Name}} {{index .Config.Labels "app"}} {{.Config.Env}}`, web)
	if !strings.HasPrefix(got, id+" true /"+web+" shop") || !strings.Contains(got, "PORT=8080") {
		t.Errorf("inspect: %q", got)
	}
	if got := c.must("volume", "ls", "-q"); !strings.Contains(got, vol+"\n") {
		t.Errorf("volume %s not created by -v: %q", vol, got)
	}

	// exec: output, exit code from exec inspect, 126 for a missing binary.
	if got := c.must("exec", web, "echo", "hi"); got != "hi\n" {
		t.Errorf("exec echo: %q", got)
	}
	if _, _, code := c.run("", "exec", web, "sh", "-c", "exit 5"); code != 5 {
		t.Errorf("exec exit 5: code %d", code)
	}
	if out, errOut, code := c.run("", "exec", web, "nosuchcmd"); code != 126 || !strings.Contains(out+errOut, "nosuchcmd") {
		t.Errorf("exec of a missing binary: code %d, output %q %q; want 126 naming it", code, out, errOut)
	}
	if got := c.must("exec", "-e", "FOO=bar", web, "env"); !strings.Contains(got, "FOO=bar") || !strings.Contains(got, "PORT=8080") {
		t.Errorf("exec env: %q", got)
	}
	c.must("exec", "-d", web, "sleep", "1")

	// logs, with and without --timestamps and --tail.
	c.must("run", "-d", "--name", talk, "--label", label, img, "sh", "-c", "echo out0; echo err0 >&2; echo out1")
	if got := c.must("wait", talk); got != "0\n" {
		t.Errorf("wait: %q", got)
	}
	out, errOut, _ = c.run("", "logs", talk)
	if out != "out0\nout1\n" || errOut != "err0\n" {
		t.Errorf("logs: stdout %q stderr %q", out, errOut)
	}
	if out := c.must("logs", "--tail", "1", "--timestamps", talk); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT[0-9:.]+Z out1\n$`).MatchString(out) {
		t.Errorf("logs --tail 1 --timestamps: %q", out)
	}
	c.must("run", "-d", "--name", slow, "--label", label, img, "sh", "-c", "echo a; sleep 0.3; echo b")
	start := time.Now()
	if out := c.must("logs", "-f", slow); out != "a\nb\n" {
		t.Errorf("logs -f: %q", out)
	}
	if time.Since(start) > 15*time.Second {
		t.Error("logs -f did not end when the container exited")
	}

	// stop, start, restart, kill, wait.
	c.must("stop", "-t", "1", web)
	if got := c.must("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", web); got != "exited 143\n" && got != "exited 137\n" {
		t.Errorf("after stop: %q", got)
	}
	if got := c.must("ps", "-a", "--filter", "name="+web, "--format", "{{.Status}}"); !strings.HasPrefix(got, "Exited (1") {
		t.Errorf("ps status after stop: %q", got)
	}
	if got := c.must("start", web); got != web+"\n" {
		t.Errorf("start printed %q", got)
	}
	c.must("restart", "-t", "1", web)
	if got := c.must("inspect", "-f", "{{.State.Running}}", web); got != "true\n" {
		t.Errorf("after restart: %q", got)
	}
	c.must("kill", web)
	if got := c.must("wait", web); got != "137\n" {
		t.Errorf("wait after kill: %q", got)
	}

	// Errors reach the user with Docker's wording and exit codes.
	missing := suite + "-nosuch"
	if _, errOut, code := c.run("", "inspect", missing); code != 1 || !strings.Contains(errOut, "No such object: "+missing) {
		t.Errorf("inspect %s: code %d err %q", missing, code, errOut)
	}
	if _, errOut, code := c.run("", "run", "-d", "--name", web, img, "true"); code != 125 || !strings.Contains(strings.ToLower(errOut), `container name "/`+web+`" is already in use`) {
		t.Errorf("name conflict: code %d err %q", code, errOut)
	}
	if _, errOut, code := c.run("", "volume", "rm", vol); code != 1 || !strings.Contains(errOut, "in use") {
		t.Errorf("volume rm in use: code %d err %q", code, errOut)
	}
	if _, errOut, code := c.run("", "run", "--rm", missing+":1", "true"); code != 125 || !strings.Contains(errOut, "Unable to find image '"+missing+":1' locally") {
		t.Errorf("run a missing image: code %d err %q", code, errOut)
	}

	// commit, rm, prune.
	cid := strings.TrimSpace(c.must("commit", "-c", `CMD ["echo","committed"]`, "-m", "msg", talk, committed))
	if !strings.HasPrefix(cid, "sha256:") {
		t.Errorf("commit printed %q", cid)
	}
	if got := c.must("run", "--rm", "--label", label, committed); got != "committed\n" {
		t.Errorf("run the committed image: %q", got)
	}
	if got := c.must("rm", "-f", web, slow); got != web+"\n"+slow+"\n" && got != slow+"\n"+web+"\n" {
		t.Errorf("rm -f: %q", got)
	}
	if got := c.must("container", "prune", "-f", "--filter", "label="+label); !strings.Contains(got, "Deleted Containers:") || !strings.Contains(got, "Total reclaimed space") {
		t.Errorf("container prune: %q", got)
	}
	if got := c.must("ps", "-aq", "--filter", "label="+label); got != "" {
		t.Errorf("containers left after prune: %q", got)
	}
}

// StartAttach covers `start -a` (attach, wait, start) and `attach` to a
// running container; both take the exit code from wait.
func StartAttach(t *testing.T, o Options) {
	c := newCLI(t, o)
	once, long := unique("sa-once"), unique("sa-long")
	c.cleanup("rm", "-f", once, long)
	since := time.Now().Add(-time.Second).Format(time.RFC3339Nano)

	c.must("create", "--name", once, o.Image, "sh", "-c", "echo first; exit 4")
	if out, errOut, code := c.run("", "start", "-a", once); code != 4 || out != "first\n" {
		t.Errorf("start -a: code %d out %q err %q", code, out, errOut)
	}

	c.must("run", "-d", "--name", long, o.Image, "sleep", "60")
	att := c.background("attach", "--no-stdin", long)
	// Wait for the attach event (engines without one: give it 2s).
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		out, _, _ := c.run("", "events", "--since", since, "--until", time.Now().Format(time.RFC3339Nano), "--filter", "container="+long, "--filter", "event=attach")
		if out != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.must("kill", long)
	if code, ended := att.wait(20 * time.Second); !ended || code != 137 {
		t.Errorf("attach: ended %v with %d, want 137; stderr %q", ended, code, att.Err.String())
	}
	if _, errOut, code := c.run("", "attach", once); code == 0 || !strings.Contains(errOut, "You cannot attach to a stopped container") {
		t.Errorf("attach to a stopped container: %d %q", code, errOut)
	}
}
