package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/internal/testutil"
)

// containerRoot is a state root holding the image bb:1 (busybox, FROM
// scratch), built through the local engine. Every container left on it is
// force-removed when the test ends, so no shim outlives the test.
func containerRoot(t *testing.T) string {
	t.Helper()
	testutil.NeedRoot(t, "overlay mounts, namespaces and shims")
	testutil.NeedBusybox(t)
	root, ctx := t.TempDir(), t.TempDir()
	testutil.BusyboxContext(t, ctx, "")
	e, err := local.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	_, err = e.EnsureImage(context.Background(), engine.ImageSource{Tag: "bb:1", Build: &engine.BuildSource{Context: ctx}}, &progress)
	e.Close()
	if err != nil {
		t.Fatalf("build bb:1: %v\n%s", err, progress.String())
	}
	t.Cleanup(func() {
		e, err := local.Open(root)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		defer e.Close()
		cs, _ := e.Containers(context.Background(), nil)
		for _, c := range cs {
			e.RemoveContainer(context.Background(), c.ID, true)
		}
	})
	return root
}

// ctrCLI runs one command line on root, as a user would type it.
type ctrCLI struct {
	t    *testing.T
	root string
}

func (c ctrCLI) run(args ...string) (stdout, stderr string, code int) {
	return c.stdin("", args...)
}

// stdin runs a command line with in as its stdin and returns what it
// printed and its exit code exactly as main would.
func (c ctrCLI) stdin(in string, args ...string) (stdout, stderr string, code int) {
	return runOnRoot(c.root, in, args...)
}

// ok runs a command that must succeed and returns its stdout.
func (c ctrCLI) ok(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("reconciler %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// eventually polls a command until its stdout is want.
func (c ctrCLI) eventually(want string, args ...string) {
	c.t.Helper()
	var out string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if out, _, _ = c.run(args...); out == want {
			return
		}
	}
	c.t.Fatalf("reconciler %s: got %q, want %q", strings.Join(args, " "), out, want)
}

func TestContainerRunAttachedAndLifecycle(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}

	out, errs, code := cli.run("run", "--name", "hello", "bb:1", "sh", "-c", "echo out; echo err >&2; exit 3")
	if out != "out\n" || errs != "err\n" || code != 3 {
		t.Fatalf("run attached: stdout %q stderr %q exit %d, want out, err, 3", out, errs, code)
	}

	out = cli.ok("run", "-d", "--name", "web", "-l", "app=shop", "bb:1", "sh", "-c", "echo one; echo two; exec sleep 300")
	if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).MatchString(out) {
		t.Fatalf("run -d printed %q, want the full container ID", out)
	}
	id := strings.TrimSpace(out)
	ps := cli.ok("ps")
	lines := strings.Split(strings.TrimSpace(ps), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^`+id[:12]+` +bb:1 +"sh -c echo one; ech…" +.* ago +Up .* +web$`).MatchString(lines[1]) {
		t.Fatalf("ps (the exited hello must not show):\n%s", ps)
	}
	if got := cli.ok("ps", "-q", "--filter", "label=app=shop"); got != id[:12]+"\n" {
		t.Errorf("ps -q --filter label: %q", got)
	}
	if got := cli.ok("ps", "-a", "--format", "{{.Names}} {{.State}}"); got != "web running\nhello exited\n" {
		t.Errorf("ps -a --format: %q", got)
	}

	if out, _, code := cli.stdin("piped in\n", "run", "-i", "--rm", "bb:1", "sh", "-c", "cat; echo end"); out != "piped in\nend\n" || code != 0 {
		t.Errorf("run -i: %q exit %d, want the input echoed, then end (stdin closed at its EOF)", out, code)
	}

	cli.eventually("one\ntwo\n", "logs", "web")
	if got := cli.ok("logs", "--tail", "1", "web"); got != "two\n" {
		t.Errorf("logs --tail 1: %q", got)
	}
	if out, errs, _ := cli.run("logs", "hello"); out != "out\n" || errs != "err\n" {
		t.Errorf("logs of hello: stdout %q stderr %q: streams must stay apart", out, errs)
	}

	if out, _, code := cli.run("exec", "-e", "V=x", "-w", "/etc", "web", "sh", "-c", "echo $V $(pwd); exit 4"); out != "x /etc\n" || code != 4 {
		t.Errorf("exec: %q exit %d, want \"x /etc\" and 4", out, code)
	}
	if out, _, code := cli.stdin("piped\n", "exec", "-i", "web", "cat"); out != "piped\n" || code != 0 {
		t.Errorf("exec -i cat: %q exit %d", out, code)
	}

	var inspected []struct {
		ID    string `json:"Id"`
		State struct{ Running bool }
	}
	if err := json.Unmarshal([]byte(cli.ok("inspect", "web")), &inspected); err != nil || len(inspected) != 1 || inspected[0].ID != id || !inspected[0].State.Running {
		t.Fatalf("inspect: %+v %v", inspected, err)
	}
	if got := cli.ok("inspect", "-f", "{{.State.Running}} {{.Name}}", "web"); got != "true /web\n" {
		t.Errorf("inspect -f: %q", got)
	}

	if _, errs, code := cli.run("rm", "web"); code != 1 || !strings.Contains(errs, "container is running") {
		t.Errorf("rm of a running container: exit %d %q, want a refusal", code, errs)
	}
	if got := cli.ok("stop", "-t", "1", "web"); got != "web\n" {
		t.Errorf("stop printed %q", got)
	}
	if got := cli.ok("ps", "-a", "--filter", "name=web", "--format", "{{.Status}}"); !strings.HasPrefix(got, "Exited (137) ") {
		t.Errorf("ps after stop: %q", got)
	}
	if got := cli.ok("start", "web"); got != "web\n" {
		t.Errorf("start printed %q", got)
	}
	started := cli.ok("inspect", "-f", "{{.State.StartedAt}}", "web")
	if got := cli.ok("ps", "--format", "{{.Names}} {{.State}}"); got != "web running\n" {
		t.Errorf("ps after start: %q", got)
	}
	cli.ok("restart", "-t", "1", "web")
	if again := cli.ok("inspect", "-f", "{{.State.Running}} {{.State.StartedAt}}", "web"); again == "true "+started || !strings.HasPrefix(again, "true ") {
		t.Errorf("restart: before %q, after %q: want running, started anew", started, again)
	}
	if got := cli.ok("kill", "web"); got != "web\n" {
		t.Errorf("kill printed %q", got)
	}
	if got := cli.ok("wait", "web"); got != "137\n" {
		t.Errorf("wait printed %q, want 137 after SIGKILL", got)
	}
	if got := cli.ok("rm", "web", "hello"); got != "web\nhello\n" {
		t.Errorf("rm printed %q", got)
	}
	if got := cli.ok("ps", "-aq"); got != "" {
		t.Errorf("ps -aq after rm: %q", got)
	}

	// create, then start -a: output and exit code as run's.
	cli.ok("create", "--name", "later", "bb:1", "sh", "-c", "echo later; exit 5")
	if out, _, code := cli.run("start", "-a", "later"); out != "later\n" || code != 5 {
		t.Errorf("start -a: %q exit %d", out, code)
	}
	cli.ok("rm", "-f", "later")
}

func TestContainerCommitRmAndVolumes(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}

	cli.ok("run", "--name", "c1", "bb:1", "sh", "-c", "echo changed > /marker")
	id := cli.ok("commit", "-m", "add marker", "-c", `CMD ["cat", "/marker"]`, "c1", "bb:committed")
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}\n$`).MatchString(id) {
		t.Fatalf("commit printed %q, want the image ID", id)
	}
	if got := cli.ok("run", "--rm", "bb:committed"); got != "changed\n" {
		t.Errorf("run of the committed image: %q", got)
	}
	cli.ok("rm", "c1")

	// --rm: the engine removes the container (its layer volatile), the
	// command still exits with its code.
	if out, _, code := cli.run("run", "--rm", "--name", "gone", "bb:1", "sh", "-c", rootIsVolatile+"; echo bye; exit 4"); out != "volatile\nbye\n" || code != 4 {
		t.Errorf("run --rm: %q, exit %d; want volatile, bye and exit 4", out, code)
	}
	if got := cli.ok("ps", "-aq"); got != "" {
		t.Errorf("run --rm left %q", got)
	}

	cli.ok("run", "--name", "writer", "-v", "data:/data", "bb:1", "sh", "-c", "echo keep > /data/f")
	cli.ok("rm", "writer")
	if got := cli.ok("run", "--rm", "-v", "data:/data:ro", "bb:1", "cat", "/data/f"); got != "keep\n" {
		t.Errorf("named volume after its container went: %q", got)
	}
	if _, _, code := cli.run("run", "--rm", "-v", "data:/data:ro", "bb:1", "touch", "/data/g"); code == 0 {
		t.Errorf("a :ro volume was writable")
	}
}

// rootIsVolatile prints whether the container's root overlay is mounted
// volatile (docker run --rm).
const rootIsVolatile = `grep ' / / ' /proc/self/mountinfo | grep -o volatile || echo durable`

func TestContainerCommandErrors(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"logs", "nosuch"}, 1, "Error response from daemon: "},
		{[]string{"stop", "nosuch"}, 1, "nosuch"},
		{[]string{"inspect", "nosuch"}, 1, "No such object: nosuch"},
		{[]string{"container", "inspect", "nosuch"}, 1, "Error response from daemon: "},
		{[]string{"run", "nosuch:1"}, 125, "Unable to find image 'nosuch:1' locally"},
		{[]string{"run", "--restart", "bogus", "bb:1"}, 2, `invalid restart policy "bogus"`},
		{[]string{"run", "--rm", "--restart", "always", "bb:1"}, 2, "--restart and --rm"},
		{[]string{"run"}, 2, "requires at least 1 argument"},
		{[]string{"exec", "nosuch", "true"}, 1, "Error response from daemon: "},
	} {
		out, errs, code := cli.run(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("reconciler %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, errs, tc.code, tc.want)
		}
		if tc.args[0] == "inspect" && out != "[]\n" {
			t.Errorf("inspect of a missing object printed %q, want []", out)
		}
	}
	cli.ok("create", "--name", "idle", "bb:1", "true")
	if _, errs, code := cli.run("exec", "idle", "true"); code != 1 || !strings.Contains(errs, "not running") {
		t.Errorf("exec in a created container: exit %d %q", code, errs)
	}
}

// With a daemon serving the root, the same commands go through it: run -d
// --rm is removed by the daemon, logs -f follows to the end, exec -d
// outlives the command, and our ps prints what the real docker CLI prints
// for the same daemon.
func TestContainerCommandsThroughDaemon(t *testing.T) {
	root := containerRoot(t)
	sock := filepath.Join(t.TempDir(), "d.sock")
	startDaemon(t, daemonOptions{hosts: []string{"unix://" + sock}, root: root})
	cli := ctrCLI{t, root}

	cli.ok("run", "-d", "--rm", "--name", "brief", "bb:1", "sh", "-c", "echo a; sleep 0.5; echo b")
	if got := cli.ok("logs", "-f", "brief"); got != "a\nb\n" {
		t.Errorf("logs -f: %q, want every line up to the exit", got)
	}
	cli.eventually("", "ps", "-aq")

	cli.ok("run", "-d", "--name", "web", "bb:1", "sleep", "300")
	if out, _, code := cli.run("exec", "-d", "web", "sh", "-c", "sleep 0.3; touch /detached"); out != "" || code != 0 {
		t.Errorf("exec -d: %q exit %d", out, code)
	}
	cli.eventually("/detached\n", "exec", "web", "ls", "/detached")
	if _, err := os.Stat("/usr/local/bin/docker"); err == nil {
		var ours, theirs string
		for range 3 { // CREATED may tick between the two calls
			ours = cli.ok("ps", "-a")
			b, err := exec.Command("/usr/local/bin/docker", "-H", "unix://"+sock, "ps", "-a").CombinedOutput()
			if theirs = string(b); err != nil || ours == theirs {
				break
			}
		}
		if ours != theirs || !strings.Contains(ours, "sleep 300") {
			t.Errorf("reconciler ps:\n%s\ndocker ps:\n%s", ours, theirs)
		}
	}
	cli.ok("rm", "-f", "web")
}

func TestContainerCommandOptions(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}
	first := strings.TrimSpace(cli.ok("create", "--name", "first", "bb:1", "true"))
	cli.ok("run", "-d", "--name", "svc", "--stop-signal", "SIGUSR1", "bb:1", "sh", "-c", "trap 'echo usr1; exit 0' USR1; echo up; while true; do sleep 0.1; done")
	cli.eventually("up\n", "logs", "svc")

	if got := cli.ok("ps", "-a", "-q", "--no-trunc"); !strings.HasSuffix(got, first+"\n") || len(strings.Fields(got)) != 2 {
		t.Errorf("ps -aq --no-trunc: %q", got)
	}
	if got := cli.ok("ps", "-l", "--format", "{{.Names}}"); got != "svc\n" {
		t.Errorf("ps -l: %q, want the latest created", got)
	}
	if got := cli.ok("ps", "-n", "2", "--format", "{{.Names}}"); got != "svc\nfirst\n" {
		t.Errorf("ps -n 2: %q", got)
	}
	if got := cli.ok("ps", "-a", "--filter", "status=created", "--format", "{{.Names}} {{.Status}}"); got != "first Created\n" {
		t.Errorf("ps --filter status=created: %q", got)
	}

	out := cli.ok("logs", "-t", "svc")
	ts, line, _ := strings.Cut(strings.TrimSpace(out), " ")
	if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || line != "up" {
		t.Errorf("logs -t: %q (%v)", out, err)
	}
	if got := cli.ok("logs", "--since", time.Now().Add(time.Hour).Format(time.RFC3339), "svc"); got != "" {
		t.Errorf("logs --since the future: %q", got)
	}

	if _, errs, code := cli.run("exec", "-d", "svc", "true"); code != 1 || !strings.Contains(errs, "needs a daemon") {
		t.Errorf("exec -d without a daemon: exit %d %q", code, errs)
	}

	// stop sends the container's stop signal: the trap exits 0.
	cli.ok("stop", "svc")
	if got := cli.ok("inspect", "-f", "{{.State.ExitCode}}", "svc"); got != "0\n" {
		t.Errorf("exit code after stop with SIGUSR1 trapped: %q", got)
	}
	if got := cli.ok("logs", "svc"); got != "up\nusr1\n" {
		t.Errorf("logs after stop: %q", got)
	}

	cli.ok("commit", "-a", "Ann <ann@example.com>", "-m", "snapshot", "svc", "bb:snap")
	var imgs []struct {
		ID     string `json:"Id"`
		Author string
	}
	if err := json.Unmarshal([]byte(cli.ok("inspect", "bb:snap")), &imgs); err != nil || len(imgs) != 1 ||
		!strings.HasPrefix(imgs[0].ID, "sha256:") || imgs[0].Author != "Ann <ann@example.com>" {
		t.Errorf("inspect of an image: %+v %v", imgs, err)
	}
	if _, _, code := cli.run("inspect", "--type", "container", "bb:snap"); code != 1 {
		t.Errorf("inspect --type container of an image: exit %d", code)
	}

	cli.ok("run", "-d", "--name", "keeper", "bb:1", "sleep", "300")
	out = cli.ok("container", "prune", "-f")
	if !strings.HasPrefix(out, "Deleted Containers:\n") || !strings.Contains(out, first) || !strings.HasSuffix(out, "\nTotal reclaimed space: 0B\n") {
		t.Errorf("container prune -f:\n%s", out)
	}
	if got := cli.ok("container", "ls", "-a", "--format", "{{.Names}}"); got != "keeper\n" {
		t.Errorf("after prune: %q, want only the running container", got)
	}
}
