package main

import (
	"regexp"
	"strings"
	"testing"
)

// reconciler rename works on the engine of --root opened in process: each
// command below opens the root anew, so the new name is what the state
// on disk says.
func TestRenameCommand(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}
	id := strings.TrimSpace(cli.ok("run", "-d", "--name", "web", "bb:1", "sleep", "300"))
	cli.ok("create", "--name", "db", "bb:1", "true")
	if out := cli.ok("rename", "web", "shop"); out != "" {
		t.Errorf("rename printed %q", out)
	}
	if got := cli.ok("ps", "--format", "{{.ID}} {{.Names}}"); got != id[:12]+" shop\n" {
		t.Errorf("ps after rename: %q", got)
	}
	_, errs, code := cli.run("rename", "db", "shop")
	if code != 1 || !strings.Contains(errs, `Error response from daemon: Conflict. The container name "/shop" is already in use by container "`+id+`"`) {
		t.Errorf("rename to a taken name: exit %d %q", code, errs)
	}
	cli.ok("rename", "db", "web") // the old name is free
	if got := cli.ok("inspect", "-f", "{{.Name}}", "web", id); got != "/web\n/shop\n" {
		t.Errorf("inspect: %q", got)
	}
	if _, errs, code := cli.run("rename", "web"); code != 2 || !strings.Contains(errs, "requires 2 argument") {
		t.Errorf("rename with one argument: exit %d %q", code, errs)
	}
}

func TestTopCommand(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}
	cli.ok("run", "-d", "--name", "web", "bb:1", "sleep", "300")
	id := strings.TrimSpace(cli.ok("create", "--name", "db", "bb:1", "true"))
	out := cli.ok("top", "web")
	if !regexp.MustCompile(`^UID +PID +PPID +C +STIME +TTY +TIME +CMD\nroot +\d+ +\d+ .* sleep 300\n`).MatchString(out) {
		t.Errorf("top web:\n%s", out)
	}
	if out := cli.ok("top", "web", "-o", "pid,comm"); !regexp.MustCompile(`^PID +COMMAND\n\d+ +sleep\n`).MatchString(out) {
		t.Errorf("top web -o pid,comm:\n%s", out)
	}
	if _, errs, code := cli.run("top", "db"); code != 1 || !strings.Contains(errs, "Error response from daemon: Container "+id+" is not running") {
		t.Errorf("top of a stopped container: exit %d %q", code, errs)
	}
}

func TestStatsCommand(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}
	id := strings.TrimSpace(cli.ok("run", "-d", "--name", "busy", "-m", "64m", "bb:1", "sh", "-c", "while :; do :; done"))
	cli.ok("create", "--name", "idle", "bb:1", "true")
	out := cli.ok("stats", "--no-stream", "busy", "idle")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$`).MatchString(lines[0]) {
		t.Fatalf("stats --no-stream:\n%s", out)
	}
	m := regexp.MustCompile(`^` + id[:12] + ` +busy +([0-9.]+)% +[0-9.]+[KM]iB / 64MiB +[0-9.]+% +0B / 0B +\S+ / \S+ +1$`).FindStringSubmatch(lines[1])
	if m == nil || m[1] == "0.00" {
		t.Errorf("stats of a busy loop limited to 64m (want a CPU %% above 0):\n%s", out)
	}
	if !regexp.MustCompile(`^[0-9a-f]{12} +idle +0.00% +0B / 0B +0.00% +0B / 0B +0B / 0B +0$`).MatchString(lines[2]) {
		t.Errorf("stats of a stopped container:\n%s", out)
	}
	if _, errs, code := cli.run("stats", "--no-stream", "nosuch"); code != 1 || !strings.Contains(errs, "No such container: nosuch") {
		t.Errorf("stats of a missing container: exit %d %q", code, errs)
	}
}
