package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// cliRunDetached covers run -d with labels, env and a volume; ps, inspect, logs,
// exec; rm refused while running, rm -f.
func cliRunDetached(t *testing.T, d *daemon) {
	c := d.cli(t)
	id := strings.TrimSpace(c.ok("run", "-d", "--name", "web", "--label", "app=demo", "--label", "tier=front",
		"-e", "GREETING=hello", "-v", "webdata:/data", "bb:e2e",
		"sh", "-c", `echo "$GREETING" > /data/greeting; echo started; exec sleep 1000`))
	if !fullID.MatchString(id) {
		t.Fatalf("docker run -d printed %q, want a 64-hex container ID", id)
	}
	ps := c.ok("ps")
	row := psRow(t, ps, "web")
	wantContains(t, "docker ps row of web", row, id[:12], "bb:e2e", "Up ")
	if got := c.ok("inspect", "-f", "{{.State.Running}} {{json .Config.Labels}}", "web"); strings.TrimSpace(got) != `true {"app":"demo","tier":"front"}` {
		t.Errorf("inspect web: got %q, want %q", got, `true {"app":"demo","tier":"front"}`)
	}
	if !testutil.WaitFor(10*time.Second, func() bool { return strings.Contains(c.try("logs", "web").Out, "started") }) {
		t.Errorf("docker logs web: want %q, got %s", "started", c.try("logs", "web"))
	}
	// The env var reached the container and the named volume got its write.
	if got := c.ok("exec", "web", "cat", "/data/greeting"); got != "hello\n" {
		t.Errorf("docker exec web cat /data/greeting = %q, want %q", got, "hello\n")
	}
	r := c.try("exec", "web", "sh", "-c", "echo out-$GREETING; exit 5")
	if r.Code != 5 || r.Out != "out-hello\n" {
		t.Errorf("docker exec web sh -c 'echo out-$GREETING; exit 5': want exit 5 and %q, got %s", "out-hello\n", r)
	}
	if vols := c.ok("volume", "ls", "-q"); !strings.Contains(vols, "webdata") {
		t.Errorf("docker volume ls -q: want webdata (created by run -v), got %q", vols)
	}
	rm := c.fails("rm", "web")
	wantContains(t, "docker rm of a running container", rm.Err, "running")
	if !strings.Contains(c.ok("ps", "-q"), id[:12]) {
		t.Errorf("docker rm web (refused) removed it anyway")
	}
	if got := c.ok("rm", "-f", "web"); strings.TrimSpace(got) != "web" {
		t.Errorf("docker rm -f web printed %q, want web", got)
	}
	if ps := c.ok("ps", "-a"); strings.Contains(ps, "web") {
		t.Errorf("docker ps -a after rm -f still lists web:\n%s", ps)
	}
}

// cliRunRmAttached covers run --rm attached: both streams and the exit code; the
// container is gone after.
func cliRunRmAttached(t *testing.T, d *daemon) {
	c := d.cli(t)
	r := c.try("run", "--rm", "--name", "once", "bb:e2e", "sh", "-c", rootIsVolatile+"; echo to-stderr >&2; exit 3")
	if r.Code != 3 || r.Out != "volatile\n" || !strings.Contains(r.Err, "to-stderr") {
		t.Errorf("docker run --rm (attached): want exit 3, stdout %q (a volatile root), stderr with %q; got %s", "volatile\n", "to-stderr", r)
	}
	if !testutil.WaitFor(5*time.Second, func() bool { return !strings.Contains(c.ok("ps", "-a"), "once") }) {
		t.Errorf("docker run --rm: container still listed:\n%s", c.ok("ps", "-a"))
	}
	c.ok("create", "--rm", "--name", "later", "bb:e2e", "true")
	if got := c.ok("inspect", "-f", "{{.HostConfig.AutoRemove}}", "later"); got != "true\n" {
		t.Errorf("docker create --rm: HostConfig.AutoRemove = %q, want true", got)
	}
	c.ok("rm", "later")
}

// rootIsVolatile prints whether the container's root overlay is mounted
// volatile, as it is for docker run --rm.
const rootIsVolatile = `grep ' / / ' /proc/self/mountinfo | grep -o volatile || echo durable`

// cliRunAttachedLargeOutput covers about 30 MB of container log: the attach stream
// must carry all of it once, in order, while the log rotates underneath.
func cliRunAttachedLargeOutput(t *testing.T, d *daemon) {
	const last = 400000
	out := d.cli(t).ok("run", "--rm", "bb:e2e", "seq", "0", strconv.Itoa(last))
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range got {
		if l != strconv.Itoa(i) {
			t.Fatalf("docker run --rm bb:e2e seq 0 %d: %d lines; line %d is %q, want %q", last, len(got), i+1, l, strconv.Itoa(i))
		}
	}
	if len(got) != last+1 {
		t.Errorf("docker run --rm bb:e2e seq 0 %d: %d lines, want %d", last, len(got), last+1)
	}
}

// cliRunStdin covers echo foo | docker run -i --rm IMG cat (contract §5: raw stdin
// on the hijacked attach, then a half-close that ends cat), and start -ai.
func cliRunStdin(t *testing.T, d *daemon) {
	c := d.cli(t)
	r := c.runIn(strings.NewReader("from stdin\n"), "run", "-i", "--rm", "bb:e2e", "cat")
	if r.Code != 0 || r.Out != "from stdin\n" {
		t.Errorf("echo 'from stdin' | docker run -i --rm bb:e2e cat: want %q, got %s", "from stdin\n", r)
	}
	c.ok("create", "-i", "--name", "stdin", "bb:e2e", "cat")
	if got := c.ok("inspect", "-f", "{{.Config.OpenStdin}}", "stdin"); got != "true\n" {
		t.Errorf("docker create -i: Config.OpenStdin = %q, want true (start -ai reads it to decide on attaching stdin)", got)
	}
	r = c.runIn(strings.NewReader("via start\n"), "start", "-ai", "stdin")
	if r.Code != 0 || r.Out != "via start\n" {
		t.Errorf("echo 'via start' | docker start -ai stdin: want %q, got %s", "via start\n", r)
	}
	c.try("rm", "-f", "stdin")
}

// cliRunTty covers docker run -t: raw output through a terminal (contract §4.2),
// the same raw bytes in docker logs.
func cliRunTty(t *testing.T, d *daemon) {
	c := d.cli(t)
	r := c.try("run", "-t", "--name", "tty", "bb:e2e", "sh", "-c", "tty >/dev/null && echo on-a-tty")
	if r.Code != 0 || r.Out != "on-a-tty\r\n" {
		t.Errorf("docker run -t: want %q (a terminal's CRLF), got %s", "on-a-tty\r\n", r)
	}
	if r.Code == 0 {
		if got := c.ok("logs", "tty"); got != "on-a-tty\r\n" {
			t.Errorf("docker logs of a -t container = %q, want %q", got, "on-a-tty\r\n")
		}
	}
	c.try("rm", "-f", "tty")
}

// cliExec covers exec with stdin, env and workdir; a missing binary (126) and a
// stopped container.
func cliExec(t *testing.T, d *daemon) {
	c := d.cli(t)
	c.ok("run", "-d", "--name", "ex", "bb:e2e", "sleep", "1000")
	r := c.runIn(strings.NewReader("to exec\n"), "exec", "-i", "ex", "cat")
	if r.Code != 0 || r.Out != "to exec\n" {
		t.Errorf("echo 'to exec' | docker exec -i ex cat: %s", r)
	}
	if got := c.ok("exec", "-e", "FOO=bar", "-w", "/bin", "ex", "sh", "-c", "echo $FOO $(pwd)"); got != "bar /bin\n" {
		t.Errorf("docker exec -e FOO=bar -w /bin: got %q, want %q", got, "bar /bin\n")
	}
	// dockerd: exit 126 and the runtime's error when the binary is missing.
	r = c.try("exec", "ex", "nosuchbinary")
	if r.Code != 126 || !strings.Contains(r.Out+r.Err, "nosuchbinary") {
		t.Errorf("docker exec ex nosuchbinary: want exit 126 naming the binary, got %s", r)
	}
	c.ok("stop", "-t", "1", "ex")
	r = c.fails("exec", "ex", "true")
	wantContains(t, "docker exec into a stopped container", r.Err, "is not running")
	c.ok("rm", "ex")
}

// cliLifecycle covers stop, start, restart, kill and wait, seen through inspect and
// ps.
func cliLifecycle(t *testing.T, d *daemon) {
	c := d.cli(t)
	c.ok("run", "-d", "--name", "life", "bb:e2e", "sleep", "1000")
	started1 := c.ok("inspect", "-f", "{{.State.StartedAt}}", "life")
	if got := c.ok("stop", "-t", "1", "life"); got != "life\n" {
		t.Errorf("docker stop printed %q, want %q", got, "life\n")
	}
	if got := c.ok("inspect", "-f", "{{.State.Running}} {{.State.Status}}", "life"); got != "false exited\n" {
		t.Errorf("after stop: inspect = %q, want %q", got, "false exited\n")
	}
	if ps := c.ok("ps"); strings.Contains(ps, "life") {
		t.Errorf("docker ps lists a stopped container:\n%s", ps)
	}
	wantContains(t, "docker ps -a row of life", psRow(t, c.ok("ps", "-a"), "life"), "Exited (")
	if got := c.ok("start", "life"); got != "life\n" {
		t.Errorf("docker start printed %q, want %q", got, "life\n")
	}
	if got := c.ok("inspect", "-f", "{{.State.Running}}", "life"); got != "true\n" {
		t.Errorf("after start: State.Running = %q", got)
	}
	started2 := c.ok("inspect", "-f", "{{.State.StartedAt}}", "life")
	if started2 == started1 {
		t.Errorf("docker start: StartedAt unchanged (%s)", started1)
	}
	if got := c.ok("restart", "-t", "1", "life"); got != "life\n" {
		t.Errorf("docker restart printed %q, want %q", got, "life\n")
	}
	if got := c.ok("inspect", "-f", "{{.State.Running}}", "life"); got != "true\n" {
		t.Errorf("after restart: State.Running = %q", got)
	}
	if started3 := c.ok("inspect", "-f", "{{.State.StartedAt}}", "life"); started3 == started2 {
		t.Errorf("docker restart: StartedAt unchanged (%s)", started2)
	}
	if got := c.ok("kill", "life"); got != "life\n" {
		t.Errorf("docker kill printed %q, want %q", got, "life\n")
	}
	if got := c.ok("wait", "life"); got != "137\n" {
		t.Errorf("docker wait after kill printed %q, want %q", got, "137\n")
	}
	if got := c.ok("inspect", "-f", "{{.State.ExitCode}}", "life"); got != "137\n" {
		t.Errorf("after kill: State.ExitCode = %q, want 137", got)
	}
	c.ok("rm", "life")
}

// cliIsolationAndPolicies covers PID 1, hostname, user, workdir, Docker's
// confinement, an OOM kill under -m, and an on-failure restart count.
func cliIsolationAndPolicies(t *testing.T, d *daemon) {
	c := d.cli(t)
	id := strings.TrimSpace(c.ok("create", "--name", "iso", "bb:e2e", "sh", "-c", "echo $$; hostname"))
	if got, want := c.ok("start", "-a", "iso"), "1\n"+id[:12]+"\n"; got != want {
		t.Errorf("docker start -a iso (PID and default hostname): got %q, want %q", got, want)
	}
	c.ok("rm", "iso")
	if got := c.ok("run", "--rm", "-h", "myhost", "-u", "1000:1000", "-w", "/etc", "bb:e2e", "sh", "-c", "hostname; id -u; id -g; pwd"); got != "myhost\n1000\n1000\n/etc\n" {
		t.Errorf("docker run -h myhost -u 1000:1000 -w /etc: got %q", got)
	}
	// Docker's defaults: its capability set, no_new_privs, no mounts,
	// read-only /sys and /proc/sys, masked /proc/kcore.
	probe := `grep -E "^(CapEff|NoNewPrivs)" /proc/self/status | tr -s "\t" " "
mkdir -p /mnt; mount -t tmpfs none /mnt 2>/dev/null && echo mount-allowed || echo mount-refused
touch /sys/x 2>/dev/null && echo sys-writable || echo sys-read-only
(echo 1 > /proc/sys/kernel/panic) 2>/dev/null && echo procsys-writable || echo procsys-read-only
cat /proc/kcore >/dev/null 2>&1 && echo kcore-readable || echo kcore-masked`
	want := "CapEff: 00000000a80425fb\nNoNewPrivs: 1\nmount-refused\nsys-read-only\nprocsys-read-only\nkcore-masked\n"
	if got := c.ok("run", "--rm", "bb:e2e", "sh", "-c", probe); got != want {
		t.Errorf("container confinement (Docker's defaults):\ngot  %q\nwant %q", got, want)
	}
	r := c.try("run", "--name", "oom", "-m", "32m", "bb:e2e", "sh", "-c", "head -c 200m /dev/zero | tail > /dev/null")
	if r.Code != 137 {
		t.Errorf("docker run -m 32m of a 200 MB memory hog: want exit 137, got %s", r)
	}
	if got := c.ok("inspect", "-f", "{{.State.OOMKilled}}", "oom"); got != "true\n" {
		t.Errorf("OOM-killed container: State.OOMKilled = %q", got)
	}
	c.ok("rm", "oom")
	c.ok("run", "-d", "--name", "onfail", "--restart", "on-failure:2", "bb:e2e", "sh", "-c", "exit 1")
	if !testutil.WaitFor(10*time.Second, func() bool {
		return c.try("inspect", "-f", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", "onfail").Out == "2 exited 1\n"
	}) {
		t.Errorf("--restart on-failure:2 of a failing command: inspect = %q, want RestartCount 2, exited, code 1",
			c.try("inspect", "-f", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", "onfail").Out)
	}
	c.ok("rm", "-f", "onfail")
}

// cliLogsFollow covers logs -f prints lines as they come and ends when the
// container exits.
func cliLogsFollow(t *testing.T, d *daemon) {
	c := d.cli(t)
	c.ok("run", "-d", "--name", "counter", "bb:e2e", "sh", "-c", "for i in 1 2 3 4 5; do echo n$i; sleep 0.2; done")
	f := c.background("logs", "-f", "counter")
	if !f.exited(20 * time.Second) {
		t.Fatalf("docker logs -f counter still following 20s after a 1s container; output so far: %q", f.out.String())
	}
	if want := "n1\nn2\nn3\nn4\nn5\n"; f.out.String() != want {
		t.Errorf("docker logs -f counter = %q, want %q (stderr %q)", f.out.String(), want, f.errb.String())
	}
	c.ok("rm", "counter")
}
