package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// TestDaemonSIGKILLKeepsContainers is issue 4's survival test: the daemon
// is killed with SIGKILL while containers run and restarted on the same
// root; the containers ran on untouched under their shims, are adopted
// again, none is started twice, their logs lost nothing, and the new
// daemon controls them.
func TestDaemonSIGKILLKeepsContainers(t *testing.T) {
	requireE2E(t)
	root := newRoot(t)
	d := startDaemon(t, root, daemonOpts{})
	c := d.cli(t)
	buildBusybox(t, c, "bb:e2e")
	c.ok("run", "-d", "--name", "always", "--restart", "always", "bb:e2e", "sleep", "1000")
	c.ok("run", "-d", "--name", "ticker", "bb:e2e", "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done")
	if !testutil.WaitFor(10*time.Second, func() bool { return lastTick(c.try("logs", "ticker").Out) >= 3 }) {
		t.Fatalf("ticker printed no ticks: %s", c.try("logs", "ticker"))
	}
	before := map[string]string{}
	for _, name := range []string{"always", "ticker"} {
		before[name] = c.ok("inspect", "-f", "{{.State.Pid}} {{.RestartCount}}", name)
	}
	shims := len(shimsUnder(root))
	checkShimsRunFromHelper(t, root)
	beforeKill := lastTick(c.ok("logs", "ticker"))

	d.kill9()
	for name, st := range before {
		pid, _ := strconv.Atoi(strings.Fields(st)[0])
		if pid <= 0 || syscall.Kill(pid, 0) != nil {
			t.Errorf("container %s (pid %d) died with the daemon", name, pid)
		}
	}
	time.Sleep(700 * time.Millisecond) // the ticker goes on printing, about 7 ticks
	d.start()

	ps := c.ok("ps")
	for _, name := range []string{"always", "ticker"} {
		if n := strings.Count(ps, " "+name+"\n"); n != 1 {
			t.Errorf("docker ps after the restart lists %s %d times, want once:\n%s", name, n, ps)
		}
		if got := c.ok("inspect", "-f", "{{.State.Pid}} {{.RestartCount}}", name); got != before[name] {
			t.Errorf("%s: State.Pid and RestartCount were %q before the daemon was killed, %q after its restart (restarted or started twice)", name, before[name], got)
		}
		if got := c.ok("inspect", "-f", "{{.State.Running}}", name); got != "true\n" {
			t.Errorf("%s: State.Running = %q after the daemon restart", name, got)
		}
	}
	if n := len(rows(ps)); n != 2 {
		t.Errorf("docker ps after the restart has %d containers, want 2:\n%s", n, ps)
	}
	if got := len(shimsUnder(root)); got != shims || shims != 2 {
		t.Errorf("%d shim processes before the daemon was killed, %d after its restart, want 2", shims, got)
	}

	// Logs continue, and every tick is there exactly once, in order,
	// including those printed while no daemon ran.
	afterRestart := lastTick(c.ok("logs", "ticker"))
	if !testutil.WaitFor(10*time.Second, func() bool { return lastTick(c.try("logs", "ticker").Out) > afterRestart+3 }) {
		t.Errorf("docker logs ticker: no new lines after the daemon restart (last tick %d)", afterRestart)
	}
	logs := c.ok("logs", "ticker")
	if err := ticksInOrder(logs); err != "" {
		t.Errorf("docker logs ticker after the restart: %s", err)
	}
	if afterRestart < beforeKill+4 {
		t.Errorf("ticker's log lacks the ticks printed while the daemon was down: tick %d before the kill, %d right after the restart 0.7s later", beforeKill, afterRestart)
	}

	// docker logs -f through the new daemon follows the adopted container.
	f := c.background("logs", "-f", "--tail", "1", "ticker")
	if !testutil.WaitFor(10*time.Second, func() bool { return lastTick(f.out.String()) > afterRestart+3 }) {
		t.Errorf("docker logs -f ticker after the daemon restart: no new ticks beyond %d: %q", afterRestart, f.out.String())
	}

	// The new daemon supervises and controls what it adopted.
	if got := c.ok("exec", "ticker", "echo", "exec-after-restart"); got != "exec-after-restart\n" {
		t.Errorf("docker exec into an adopted container = %q", got)
	}
	pid, _ := strconv.Atoi(strings.Fields(before["always"])[0])
	syscall.Kill(pid, syscall.SIGKILL)
	if !testutil.WaitFor(15*time.Second, func() bool {
		return c.try("inspect", "-f", "{{.State.Running}} {{.RestartCount}}", "always").Out == "true 1\n"
	}) {
		t.Errorf("--restart always container killed behind the adopting daemon's back was not restarted once: inspect = %q",
			c.try("inspect", "-f", "{{.State.Running}} {{.RestartCount}}", "always").Out)
	}
	if got := c.ok("stop", "-t", "1", "always", "ticker"); got != "always\nticker\n" {
		t.Errorf("docker stop printed %q", got)
	}
	time.Sleep(500 * time.Millisecond) // a wrongly applied restart policy would show now
	for _, name := range []string{"always", "ticker"} {
		if got := c.ok("inspect", "-f", "{{.State.Status}}", name); got != "exited\n" {
			t.Errorf("%s after docker stop through the new daemon: status %q, want exited", name, got)
		}
	}
	if ps := c.ok("ps"); len(rows(ps)) != 0 {
		t.Errorf("docker ps after stopping everything:\n%s", ps)
	}
	if !f.exited(10 * time.Second) {
		t.Errorf("docker logs -f ticker still following 10s after the container stopped")
	}
}

// TestContainersExitWhileDaemonDown: containers that end while no daemon
// runs are found exited, with their exit code, by the next daemon, a
// --restart always one is restarted by it once, and a --rm one is removed
// by it. The exits are triggered from the host through a volume, while the
// daemon is dead.
func TestContainersExitWhileDaemonDown(t *testing.T) {
	requireE2E(t)
	root := newRoot(t)
	d := startDaemon(t, root, daemonOpts{})
	c := d.cli(t)
	buildBusybox(t, c, "bb:e2e")
	c.ok("run", "-d", "--name", "exiter", "-v", "trigger:/t", "bb:e2e", "sh", "-c",
		"while [ ! -e /t/exit ]; do sleep 0.05; done; exit 7")
	c.ok("run", "-d", "--name", "crasher", "--restart", "always", "-v", "trigger:/t", "bb:e2e", "sh", "-c",
		"while [ ! -e /t/crash ]; do sleep 0.05; done; rm /t/crash; exit 3")
	c.ok("run", "-d", "--rm", "--name", "oneoff", "-v", "trigger:/t", "bb:e2e", "sh", "-c",
		"while [ ! -e /t/exit ]; do sleep 0.05; done")
	trigger := volumeMountpoint(t, c, "trigger")
	pids := map[string]int{}
	for _, name := range []string{"exiter", "crasher", "oneoff"} {
		pids[name], _ = strconv.Atoi(strings.TrimSpace(c.ok("inspect", "-f", "{{.State.Pid}}", name)))
	}

	d.kill9()
	writeFile(t, trigger+"/exit", "", 0o644)
	writeFile(t, trigger+"/crash", "", 0o644)
	for name, pid := range pids {
		if !testutil.WaitFor(10*time.Second, func() bool { return syscall.Kill(pid, 0) != nil }) {
			t.Fatalf("%s (pid %d) did not exit on its trigger while the daemon was down", name, pid)
		}
	}
	d.start()

	if got := c.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "exiter"); got != "exited 7\n" {
		t.Errorf("a container that exited 7 while no daemon ran: inspect = %q, want %q", got, "exited 7\n")
	}
	if got := c.ok("wait", "exiter"); got != "7\n" {
		t.Errorf("docker wait exiter = %q, want 7", got)
	}
	wantContains(t, "docker ps -a row of exiter", psRow(t, c.ok("ps", "-a"), "exiter"), "Exited (7)")
	if ps := c.ok("ps", "-a"); strings.Contains(ps, "oneoff") {
		t.Errorf("a --rm container that exited while no daemon ran is still listed:\n%s", ps)
	}
	if !testutil.WaitFor(10*time.Second, func() bool {
		return c.try("inspect", "-f", "{{.State.Running}} {{.RestartCount}}", "crasher").Out == "true 1\n"
	}) {
		t.Errorf("--restart always container that crashed while no daemon ran: inspect = %q, want running with RestartCount 1",
			c.try("inspect", "-f", "{{.State.Running}} {{.RestartCount}}", "crasher").Out)
	}
	if n := strings.Count(c.ok("ps"), " crasher\n"); n != 1 {
		t.Errorf("docker ps lists crasher %d times", n)
	}
	c.ok("stop", "-t", "1", "crasher")
}

// rows are the lines of a docker table after its header.
func rows(table string) []string {
	l := lines(table)
	if len(l) == 0 {
		return nil
	}
	return l[1:]
}

// lastTick is the number of the last "tick N" line, or -1.
func lastTick(logs string) int {
	last := -1
	for _, l := range lines(logs) {
		if n, err := strconv.Atoi(strings.TrimPrefix(l, "tick ")); err == nil && strings.HasPrefix(l, "tick ") {
			last = n
		}
	}
	return last
}

// ticksInOrder checks that logs are "tick 0", "tick 1", ... with no gap
// or repeat; it returns a description of the first fault, or "".
func ticksInOrder(logs string) string {
	for i, l := range lines(logs) {
		if l != "tick "+strconv.Itoa(i) {
			return "line " + strconv.Itoa(i+1) + " is " + strconv.Quote(l) + ", want " + strconv.Quote("tick "+strconv.Itoa(i))
		}
	}
	return ""
}

// checkShimsRunFromHelper: the shims under root run from the sealed copy
// of reconciler-shim, the small helper built beside the binary.
func checkShimsRunFromHelper(t *testing.T, root string) {
	t.Helper()
	helper, err := os.Stat(filepath.Join(filepath.Dir(reconcilerBin), "reconciler-shim"))
	if err != nil {
		t.Skipf("no helper beside %s: %v", reconcilerBin, err)
	}
	for _, pid := range shimsUnder(root) {
		exe := fmt.Sprintf("/proc/%d/exe", pid)
		link, _ := os.Readlink(exe)
		st, err := os.Stat(exe)
		if err != nil || !strings.HasPrefix(link, "/memfd:") || st.Size() != helper.Size() {
			t.Errorf("shim %d runs from %q (%d bytes, %v), want the sealed copy of reconciler-shim (%d bytes)", pid, link, sizeOf(st), err, helper.Size())
		}
	}
}

func sizeOf(st os.FileInfo) int64 {
	if st == nil {
		return -1
	}
	return st.Size()
}
