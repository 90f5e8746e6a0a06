package e2e

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// TestVolumes is issue 5's "done when", through the docker CLI: volume data
// outlives its containers and a daemon SIGKILL; copy-up happens on the
// first mount only; removal of a volume in use and subpath escapes are
// refused.
func TestVolumes(t *testing.T) {
	requireE2E(t)
	root := newRoot(t)
	d := startDaemon(t, root, daemonOpts{})
	buildBusybox(t, d.cli(t), "bb:e2e")
	buildFrom(t, d.cli(t), "seeded:e2e", "FROM bb:e2e\n"+
		`RUN mkdir -p /seed/sub && echo from-image > /seed/file && ln -s file /seed/link && echo deep > /seed/sub/f && chmod 0640 /seed/file`+"\n")

	t.Run("data-outlives-container", func(t *testing.T) {
		c := d.cli(t)
		c.ok("run", "--name", "writer", "-v", "keep:/data", "bb:e2e", "sh", "-c", "echo persisted > /data/f")
		c.ok("rm", "writer")
		if got := c.ok("run", "--rm", "-v", "keep:/data", "bb:e2e", "cat", "/data/f"); got != "persisted\n" {
			t.Errorf("the next container reads %q from the volume, want %q", got, "persisted\n")
		}
	})

	t.Run("copy-up-first-mount-only", func(t *testing.T) {
		c := d.cli(t)
		got := c.ok("run", "--rm", "-v", "seedvol:/seed", "seeded:e2e", "sh", "-c",
			"cat /seed/file /seed/sub/f; readlink /seed/link; stat -c %a /seed/file")
		if want := "from-image\ndeep\nfile\n640\n"; got != want {
			t.Errorf("first mount of an empty volume over image content: got %q, want %q (content, symlink and mode copied up)", got, want)
		}
		c.ok("run", "--rm", "-v", "seedvol:/seed", "seeded:e2e", "sh", "-c", "rm -rf /seed/* && ls -A /seed")
		if got := c.ok("run", "--rm", "-v", "seedvol:/seed", "seeded:e2e", "ls", "-A", "/seed"); got != "" {
			t.Errorf("a volume emptied by a container was filled again from the image at the next mount: ls -A = %q", got)
		}
		// A volume that already holds data is never merged with the image.
		c.ok("run", "--rm", "-v", "mine:/seed", "bb:e2e", "sh", "-c", "echo mine > /seed/own")
		if got := c.ok("run", "--rm", "-v", "mine:/seed", "seeded:e2e", "ls", "-A", "/seed"); got != "own\n" {
			t.Errorf("a non-empty volume mounted over image content: ls -A = %q, want only %q", got, "own\n")
		}
	})

	t.Run("in-use-removal-refused", func(t *testing.T) {
		c := d.cli(t)
		id := strings.TrimSpace(c.ok("run", "-d", "--name", "user", "-v", "busy:/data", "bb:e2e", "sh", "-c", "echo precious > /data/f; exec sleep 1000"))
		r := c.fails("volume", "rm", "busy")
		wantContains(t, "docker volume rm busy (in use)", r.Err, "volume is in use", id)
		c.ok("rm", "-f", "user")
		c.ok("volume", "rm", "busy")
	})

	t.Run("subpath-escape-refused", func(t *testing.T) {
		c := d.cli(t)
		c.ok("volume", "create", "sv")
		c.ok("run", "--rm", "-v", "sv:/v", "bb:e2e", "sh", "-c", "mkdir /v/inside && echo in > /v/inside/f && ln -s / /v/esc && ln -s ../../.. /v/up")
		r := c.try("run", "--rm", "--mount", "type=volume,src=sv,dst=/x,volume-subpath=inside", "bb:e2e", "cat", "/x/f")
		if r.Code != 0 && !strings.Contains(r.Err, "Error response from daemon") {
			t.Skipf("this docker CLI does not send volume-subpath: %s", r)
		}
		if r.Code != 0 || r.Out != "in\n" {
			t.Fatalf("volume-subpath=inside: want cat /x/f to print %q, got %s", "in\n", r)
		}
		for _, sub := range []string{"../..", "inside/../../..", "esc", "up"} {
			before := c.ok("ps", "-aq")
			r := c.try("run", "--rm", "--name", "escape", "--mount", "type=volume,src=sv,dst=/x,volume-subpath="+sub, "bb:e2e", "ls", "/x")
			if r.Code != 125 {
				t.Errorf("volume-subpath=%s: want exit 125 and an error, got %s", sub, r)
				continue
			}
			wantContains(t, "volume-subpath="+sub, r.Err, "Error response from daemon", sub)
			if after := c.ok("ps", "-aq"); after != before {
				t.Errorf("volume-subpath=%s was refused but left a container behind: %q", sub, after)
			}
		}
	})

	t.Run("mount-kinds", func(t *testing.T) {
		c := d.cli(t)
		r := c.try("run", "--rm", "-v", "rov:/data:ro", "bb:e2e", "sh", "-c", "echo x > /data/f")
		if r.Code == 0 || !strings.Contains(r.Err, "Read-only file system") {
			t.Errorf("write to a volume mounted :ro: want a read-only failure, got %s", r)
		}
		host := t.TempDir()
		writeFile(t, host+"/in", "from-host\n", 0o644)
		if got := c.ok("run", "--rm", "-v", host+":/h", "bb:e2e", "sh", "-c", "cat /h/in; echo from-container > /h/out"); got != "from-host\n" {
			t.Errorf("bind mount of a host folder: cat = %q", got)
		}
		if got := readFile(host + "/out"); got != "from-container\n" {
			t.Errorf("bind mount: the host sees %q, want %q", got, "from-container\n")
		}
		r = c.try("run", "--rm", "--mount", "type=bind,src="+host+",dst=/h,readonly", "bb:e2e", "touch", "/h/new")
		if r.Code == 0 || !strings.Contains(r.Err, "Read-only file system") {
			t.Errorf("write to a readonly bind: %s", r)
		}
		r = c.try("run", "--rm", "-v", host+"/missing:/h", "bb:e2e", "true")
		if r.Code != 125 || !strings.Contains(r.Err, host+"/missing") {
			t.Errorf("bind of a missing host path: want exit 125 naming it, got %s", r)
		}
		r = c.try("run", "--rm", "--tmpfs", "/scratch:size=1m", "bb:e2e", "sh", "-c", "head -c 2000000 /dev/zero > /scratch/big")
		if r.Code == 0 {
			t.Errorf("2 MB written into a 1 MB tmpfs: %s", r)
		}
	})

	t.Run("bad-input", func(t *testing.T) {
		c := d.cli(t)
		for _, name := range []string{"a", "bad/name", "..", "-dash"} {
			before := c.ok("volume", "ls", "-q")
			if r := c.try("volume", "create", name); r.Code == 0 {
				t.Errorf("docker volume create %q succeeded: %s", name, r)
			}
			if after := c.ok("volume", "ls", "-q"); after != before {
				t.Errorf("a refused docker volume create %q left a volume: %q", name, after)
			}
		}
		c.ok("volume", "create", "--label", "team=a", "labelled")
		c.ok("volume", "create", "--label", "team=a", "labelled") // the same options: a no-op
		if r := c.try("volume", "create", "--label", "team=b", "labelled"); r.Code == 0 || !strings.Contains(r.Err, "already exists with labels {team=a}") {
			t.Errorf("docker volume create of an existing volume with other labels: %s, want refused naming its labels", r)
		}
		c.ok("volume", "create", "plain")
		if got := c.ok("volume", "ls", "-q", "--filter", "label=team=a"); got != "labelled\n" {
			t.Errorf("docker volume ls -q --filter label=team=a = %q, want %q", got, "labelled\n")
		}
	})

	t.Run("sigkill-mid-write", func(t *testing.T) {
		c := d.cli(t)
		c.ok("run", "-d", "--name", "appender", "-v", "wlog:/data", "bb:e2e", "sh", "-c",
			"i=0; while true; do echo $i >> /data/log; i=$((i+1)); done")
		mountpoint := volumeMountpoint(t, c, "wlog")
		if !testutil.WaitFor(10*time.Second, func() bool { return countLines(readFile(mountpoint+"/log")) > 1000 }) {
			t.Fatalf("the appender wrote fewer than 1000 lines in 10s")
		}
		pid := c.ok("inspect", "-f", "{{.State.Pid}}", "appender")
		d.kill9()
		atKill := countLines(readFile(mountpoint + "/log"))
		time.Sleep(300 * time.Millisecond)
		d.start()

		if got := c.ok("inspect", "-f", "{{.State.Pid}}", "appender"); got != pid {
			t.Errorf("the writer's pid was %q before the daemon was killed, %q after", pid, got)
		}
		// Checked inside a container (the output stays small): every line
		// is its number, none lost or repeated, and none written before
		// the kill is missing.
		check := c.ok("run", "--rm", "-v", "wlog:/data", "bb:e2e", "awk",
			`$0 != NR-1 { print "line " NR " is " $0; exit } END { print NR }`, "/data/log")
		if n, err := strconv.Atoi(strings.TrimSpace(check)); err != nil {
			t.Errorf("the volume's log after the daemon restart: %s", check)
		} else if n < atKill {
			t.Errorf("the volume's log has %d lines after the daemon restart, %d when it was killed: data lost", n, atKill)
		}
		n1 := countLines(readFile(mountpoint + "/log"))
		if !testutil.WaitFor(5*time.Second, func() bool { return countLines(readFile(mountpoint+"/log")) > n1+1000 }) {
			t.Errorf("the writer stopped writing after the daemon restart (%d lines)", n1)
		}
		c.ok("rm", "-f", "appender")
		if got := c.ok("volume", "ls", "-q"); !strings.Contains(got, "wlog") {
			t.Errorf("volume wlog is gone after its container was removed: %q", got)
		}
	})
}

// volumeMountpoint is the host folder of a volume, from docker volume inspect.
func volumeMountpoint(t *testing.T, c *cli, name string) string {
	t.Helper()
	var vols []struct{ Mountpoint string }
	if err := json.Unmarshal([]byte(c.ok("volume", "inspect", name)), &vols); err != nil || len(vols) != 1 || vols[0].Mountpoint == "" {
		t.Fatalf("docker volume inspect %s: %v %+v", name, err, vols)
	}
	return vols[0].Mountpoint
}

// countLines counts complete (newline-terminated) lines.
func countLines(s string) int { return strings.Count(s, "\n") }
