package clitest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// Rename covers docker rename of a running and a stopped container: ps
// and inspect show the new name, the old one is free at once, a taken
// name gets dockerd's conflict, an invalid one a 400, and the rename
// event carries the old name.
func Rename(t *testing.T, o Options) {
	c := newCLI(t, o)
	run, stopped := unique("rn-run"), unique("rn-stopped")
	renamed := run + "-new"
	c.cleanup("rm", "-f", run, stopped, renamed)
	since := time.Now().Add(-time.Second).Format(time.RFC3339Nano)

	id := strings.TrimSpace(c.must("run", "-d", "--name", run, o.Image, "sleep", "300"))
	stoppedID := strings.TrimSpace(c.must("create", "--name", stopped, o.Image, "true"))
	if out := c.must("rename", run, renamed); out != "" {
		t.Errorf("rename printed %q", out)
	}
	if got := c.must("ps", "--filter", "id="+id, "--format", "{{.Names}}"); got != renamed+"\n" {
		t.Errorf("ps after rename: %q, want %s", got, renamed)
	}
	if got := c.must("inspect", "-f", "{{.Name}} {{.State.Running}}", id); got != "/"+renamed+" true\n" {
		t.Errorf("inspect after rename: %q", got)
	}
	if _, errOut, code := c.run("", "inspect", run); code != 1 || !strings.Contains(errOut, "No such object: "+run) {
		t.Errorf("inspect of the old name: exit %d %q", code, errOut)
	}

	// A taken name: dockerd's 409 message, naming the holder.
	_, errOut, code := c.run("", "rename", stopped, renamed)
	want := `Error response from daemon: Conflict. The container name "/` + renamed + `" is already in use by container "` + id + `". You have to remove (or rename) that container to be able to reuse that name.`
	if code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("rename to a taken name: exit %d\n%s\nwant %s", code, errOut, want)
	}
	if _, errOut, code := c.run("", "rename", stopped, "bad name!"); code != 1 || !strings.Contains(errOut, "Invalid container name (bad name!)") {
		t.Errorf("rename to an invalid name: exit %d %q", code, errOut)
	}

	// The old name is free at once; a stopped container renames too.
	c.must("rename", stopped, run)
	if got := c.must("inspect", "-f", "{{.Id}}", run); got != stoppedID+"\n" {
		t.Errorf("the old name now holds %q, want the stopped container %s", got, stoppedID)
	}

	out := c.must("events", "--since", since, "--until", time.Now().Format(time.RFC3339Nano), "--filter", "event=rename")
	for _, want := range []string{"container rename " + id + " (", "name=" + renamed, "oldName=/" + run + ")", "container rename " + stoppedID, "oldName=/" + stopped} {
		if !strings.Contains(out, want) {
			t.Errorf("events --filter event=rename: no %q in\n%s", want, out)
		}
	}
}

// Top covers docker top of a running container (ps -ef by default, ps
// options after the name), of a stopped one (409) and with options ps
// refuses (the daemon's error, ps's words).
func Top(t *testing.T, o Options) {
	c := newCLI(t, o)
	run, stopped := unique("top-run"), unique("top-stopped")
	c.cleanup("rm", "-f", run, stopped)
	c.must("run", "-d", "--name", run, o.Image, "sleep", "300")
	stoppedID := strings.TrimSpace(c.must("create", "--name", stopped, o.Image, "true"))

	out := c.must("top", run)
	rows := strings.Split(strings.TrimSpace(out), "\n")
	if len(rows) < 2 || !strings.HasPrefix(rows[0], "UID") || !strings.Contains(rows[0], "PID") || !strings.HasSuffix(rows[0], "CMD") {
		t.Fatalf("top: want ps -ef's table:\n%s", out)
	}
	if !strings.Contains(out, "sleep 300\n") {
		t.Errorf("top: no row of the container's sleep 300:\n%s", out)
	}
	if strings.Contains(out, "dockerd") || strings.Contains(out, "containerd") || strings.Contains(out, " ps ") {
		t.Errorf("top lists host processes:\n%s", out)
	}
	if out := c.must("top", run, "-o", "pid,comm"); !strings.HasPrefix(out, "PID") || !strings.Contains(out, "sleep\n") {
		t.Errorf("top -o pid,comm:\n%s", out)
	}
	_, errOut, code := c.run("", "top", stopped)
	if want := "Error response from daemon: Container " + stoppedID + " is not running"; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("top of a stopped container: exit %d %q, want %q", code, errOut, want)
	}
	if _, errOut, code := c.run("", "top", run, "--no-such-option"); code != 1 || !strings.Contains(errOut, "Error response from daemon: ps: ") {
		t.Errorf("top with options ps refuses: exit %d %q", code, errOut)
	}
}

// statsRow matches a docker stats table row: name, CPU %, memory use and
// limit, memory %, PIDs.
var statsRow = regexp.MustCompile(`(?m)^[0-9a-f]{12} +(\S+) +([0-9.]+)% +(\S+) / (\S+) +([0-9.]+)% +\S+ / \S+ +\S+ / \S+ +(\d+)$`)

// Stats covers docker stats --no-stream of a busy container with a memory
// limit (a CPU % above 0, its use under the limit), of a stopped one
// (zeroes), and streaming stats, redrawn until the CLI is interrupted.
func Stats(t *testing.T, o Options) {
	c := newCLI(t, o)
	busy, stopped := unique("st-busy"), unique("st-stopped")
	c.cleanup("rm", "-f", busy, stopped)
	c.must("run", "-d", "--name", busy, "-m", "64m", o.Image, "sh", "-c", "while :; do :; done")
	c.must("create", "--name", stopped, o.Image, "true")

	out := c.must("stats", "--no-stream", busy, stopped)
	if !strings.HasPrefix(out, "CONTAINER ID") || !strings.Contains(out, "CPU %") || !strings.Contains(out, "MEM USAGE / LIMIT") {
		t.Errorf("stats --no-stream: no table header:\n%s", out)
	}
	rows := map[string][]string{}
	for _, m := range statsRow.FindAllStringSubmatch(out, -1) {
		rows[m[1]] = m[2:]
	}
	if r := rows[busy]; r == nil {
		t.Errorf("stats --no-stream: no row for %s:\n%s", busy, out)
	} else {
		if cpu, _ := strconv.ParseFloat(r[0], 64); cpu <= 0 {
			t.Errorf("CPU %% of a busy loop: %s\n%s", r[0], out)
		}
		if r[1] == "0B" || r[2] != "64MiB" {
			t.Errorf("memory of a container limited to 64m: %s / %s\n%s", r[1], r[2], out)
		}
		if mem, _ := strconv.ParseFloat(r[3], 64); mem <= 0 || mem >= 100 || r[4] == "0" {
			t.Errorf("MEM %% %s, PIDS %s\n%s", r[3], r[4], out)
		}
	}
	if r := rows[stopped]; r == nil || r[0] != "0.00" || r[1] != "0B" || r[2] != "0B" || r[4] != "0" {
		t.Errorf("stats of a stopped container: %q, want zeroes\n%s", r, out)
	}
	if _, errOut, code := c.run("", "stats", "--no-stream", busy+"-nosuch"); code != 1 || !strings.Contains(errOut, "No such container: "+busy+"-nosuch") {
		t.Errorf("stats of a missing container: exit %d %q", code, errOut)
	}

	// Streaming: the table is redrawn each second. The first sample has
	// no precpu, so a CPU % above 0 means a later one arrived too.
	s := c.background("stats", "--format", "{{.Name}} {{.CPUPerc}}", busy)
	testutil.Eventually(t, 30*time.Second, "a second sample in docker stats", func() bool {
		for _, m := range regexp.MustCompile(regexp.QuoteMeta(busy)+` ([0-9.]+)%`).FindAllStringSubmatch(s.Out.String(), -1) {
			if cpu, _ := strconv.ParseFloat(m[1], 64); cpu > 0 {
				return true
			}
		}
		return false
	})
	// docker stats goes on after a first SIGINT (its redraw loop ignores
	// it): the client goes away with the process.
	s.cmd.Process.Kill()
	if _, ended := s.wait(10 * time.Second); !ended {
		t.Errorf("docker stats still runs after SIGKILL")
	}
}
