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

// reconciler run's --read-only, --shm-size, --ulimit and --cap-drop, and
// reconciler update, on a root opened anew by each command.
func TestLimitsFlagsAndUpdateCommand(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}
	out := cli.ok("run", "--rm", "--read-only", "--tmpfs", "/tmp", "--shm-size", "2m", "--ulimit", "nofile=64:128", "--cap-drop", "ALL", "bb:1",
		"sh", "-c", "touch /x 2>/dev/null || echo ro; touch /tmp/x && echo tmp-ok; df -k /dev/shm | tail -n 1 | awk '{print $2}'; ulimit -n; grep CapEff /proc/1/status")
	if out != "ro\ntmp-ok\n2048\n64\nCapEff:\t0000000000000000\n" {
		t.Errorf("run with limits: %q", out)
	}
	if _, errs, code := cli.run("run", "--rm", "--ulimit", "nofiles=1", "bb:1", "true"); code != 2 || !strings.Contains(errs, `"--ulimit"`) {
		t.Errorf("run --ulimit nofiles=1: exit %d %q", code, errs)
	}
	out = cli.ok("run", "--name", "po", "--init", "--oom-score-adj", "500", "--log-opt", "max-size=1k", "bb:1",
		"sh", "-c", "cat /proc/1/comm /proc/self/oom_score_adj")
	if out != "docker-init\n500\n" {
		t.Errorf("run --init --oom-score-adj 500: %q", out)
	}
	if got := cli.ok("inspect", "-f", "{{.HostConfig.Init}} {{.HostConfig.OomScoreAdj}} {{.HostConfig.LogConfig.Config}}", "po"); got != "true 500 map[max-size:1k]\n" {
		t.Errorf("inspect --init --oom-score-adj --log-opt: %q", got)
	}
	if _, errs, code := cli.run("run", "--rm", "--log-opt", "compress=true", "bb:1", "true"); code == 0 || !strings.Contains(errs, "--log-opt compress is not supported") {
		t.Errorf("run --log-opt compress=true: exit %d %q", code, errs)
	}

	cli.ok("run", "-d", "--name", "web", "-m", "64m", "bb:1", "sleep", "300")
	cli.ok("create", "--name", "db", "bb:1", "true")
	if out := cli.ok("update", "-m", "128m", "--memory-swap", "128m", "--pids-limit", "20", "--restart", "always", "web", "db"); out != "web\ndb\n" {
		t.Errorf("update printed %q", out)
	}
	format := "{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}"
	if got := cli.ok("inspect", "-f", format, "web", "db"); got != "134217728 20 always\n134217728 20 always\n" {
		t.Errorf("inspect after update: %q", got)
	}
	if _, errs, code := cli.run("update", "-m", "128m", "--memory-swap", "512m", "web"); code != 1 || !strings.Contains(errs, "Error response from daemon: --memory-swap") {
		t.Errorf("update --memory-swap 512m: exit %d %q", code, errs)
	}
	if _, errs, code := cli.run("update", "--cpus", "half", "web"); code != 2 || !strings.Contains(errs, `"--cpus"`) {
		t.Errorf("update --cpus half: exit %d %q", code, errs)
	}
	cli.ok("rm", "-f", "web", "db")
}
