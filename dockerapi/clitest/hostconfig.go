package clitest

import (
	"strings"
	"testing"
)

// HostConfigLimits covers docker run's --read-only, --shm-size, --ulimit
// and --cap-drop as a user sees them inside the container: the engine
// must honour them (a real dockerd does), not just accept them.
func HostConfigLimits(t *testing.T, o Options) {
	c := newCLI(t, o)
	vol, name := unique("hc-vol"), unique("hc-run")
	c.cleanup("rm", "-f", name)
	c.cleanup("volume", "rm", "-f", vol)

	t.Run("read-only", func(t *testing.T) {
		out, errOut, code := c.run("", "run", "--rm", "--read-only", "--tmpfs", "/tmp", "-v", vol+":/data", o.Image, "sh", "-c",
			`touch /x 2>&1; echo t > /tmp/t && echo tmp-ok; echo v > /data/v && echo vol-ok; echo s > /dev/shm/s && echo shm-ok
			{ echo x >> /etc/hosts; } 2>/dev/null || echo hosts-ro`)
		want := "touch: /x: Read-only file system\ntmp-ok\nvol-ok\nshm-ok\nhosts-ro\n"
		if code != 0 || out != want {
			t.Errorf("run --read-only: exit %d\n%s%s\nwant:\n%s", code, out, errOut, want)
		}
		if out := c.must("run", "--rm", "-v", vol+":/data", o.Image, "cat", "/data/v"); out != "v\n" {
			t.Errorf("the volume written by a read-only container holds %q", out)
		}
		if out := c.must("run", "--rm", o.Image, "sh", "-c", "touch /x && echo rw"); out != "rw\n" {
			t.Errorf("without --read-only: %q", out)
		}
	})

	t.Run("shm-size", func(t *testing.T) {
		df := func(args ...string) string {
			out := c.must(append(append([]string{"run", "--rm"}, args...), o.Image, "sh", "-c", "df -k /dev/shm | tail -n 1")...)
			if f := strings.Fields(out); len(f) > 1 {
				return f[1]
			}
			return out
		}
		if got := df("--shm-size", "1m"); got != "1024" {
			t.Errorf("--shm-size 1m: /dev/shm has %s KiB, want 1024", got)
		}
		if got := df(); got != "65536" {
			t.Errorf("default /dev/shm: %s KiB, want 65536", got)
		}
		if _, errOut, code := c.run("", "run", "--rm", "--shm-size", "-1", o.Image, "true"); code == 0 {
			t.Errorf("--shm-size -1 accepted: %s", errOut)
		}
	})

	t.Run("ulimit", func(t *testing.T) {
		out := c.must("run", "--rm", "--ulimit", "nofile=100:200", "--ulimit", "core=0", o.Image, "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c")
		if out != "100\n200\n0\n" {
			t.Errorf("--ulimit nofile=100:200 --ulimit core=0: %q", out)
		}
		c.must("run", "-d", "--name", name, "--ulimit", "nofile=150", o.Image, "sleep", "300")
		if out := c.must("exec", name, "sh", "-c", "ulimit -n; ulimit -Hn"); out != "150\n150\n" {
			t.Errorf("docker exec in a --ulimit nofile=150 container: %q", out)
		}
		if out := c.must("inspect", "-f", "{{range .HostConfig.Ulimits}}{{.Name}}={{.Soft}}:{{.Hard}}{{end}}", name); out != "nofile=150:150\n" {
			t.Errorf("inspect HostConfig.Ulimits: %q", out)
		}
		if _, errOut, code := c.run("", "run", "--rm", "--ulimit", "nofiles=1", o.Image, "true"); code == 0 || !strings.Contains(errOut, "nofiles") {
			t.Errorf("--ulimit nofiles=1: exit %d %q", code, errOut)
		}
	})

	t.Run("cap-drop", func(t *testing.T) {
		// Docker's default set a80425fb less NET_RAW (bit 13) and CHOWN (bit 0).
		out := c.must("run", "--rm", "--cap-drop", "net_raw", "--cap-drop", "CAP_CHOWN", o.Image, "sh", "-c",
			"grep CapEff /proc/1/status; chown 5 /tmp 2>/dev/null || echo chown-denied")
		if out != "CapEff:\t00000000a80405fa\nchown-denied\n" {
			t.Errorf("--cap-drop net_raw --cap-drop CAP_CHOWN: %q", out)
		}
		if out := c.must("run", "--rm", "--cap-drop", "ALL", o.Image, "grep", "CapEff", "/proc/1/status"); out != "CapEff:\t0000000000000000\n" {
			t.Errorf("--cap-drop ALL: %q", out)
		}
		if _, errOut, code := c.run("", "run", "--rm", "--cap-drop", "NOPE", o.Image, "true"); code == 0 || !strings.Contains(errOut, "NOPE") {
			t.Errorf("--cap-drop NOPE: exit %d %q", code, errOut)
		}
	})
}

// Update covers docker update: -m (with --memory-swap equal to it) on a
// running container changes the limit docker stats shows, and a restart
// keeps it; --cpus, --cpu-quota/--cpu-period, --pids-limit and --restart
// on a stopped one show in inspect; a flag the engine cannot change is a
// 400 naming it, and changes nothing.
func Update(t *testing.T, o Options) {
	c := newCLI(t, o)
	run, stopped := unique("up-run"), unique("up-stopped")
	c.cleanup("rm", "-f", run, stopped)
	c.must("run", "-d", "--name", run, "-m", "64m", o.Image, "sleep", "300")
	limit := func() string {
		out := c.must("stats", "--no-stream", "--format", "{{.MemUsage}}", run)
		_, l, _ := strings.Cut(strings.TrimSpace(out), " / ")
		return l
	}
	if got := limit(); got != "64MiB" {
		t.Fatalf("memory limit before update: %q", got)
	}
	if out := c.must("update", "-m", "128m", "--memory-swap", "128m", run); out != run+"\n" {
		t.Errorf("update printed %q, want the name", out)
	}
	if got := limit(); got != "128MiB" {
		t.Errorf("memory limit after update -m 128m: %q", got)
	}
	c.must("update", "-m", "96m", "--memory-swap", "-1", run)
	if got := limit(); got != "96MiB" {
		t.Errorf("memory limit after update -m 96m: %q", got)
	}
	c.must("restart", "-t", "0", run)
	if got := limit(); got != "96MiB" {
		t.Errorf("memory limit after a restart: %q", got)
	}
	if got := c.must("inspect", "-f", "{{.HostConfig.Memory}} {{.State.Running}}", run); got != "100663296 true\n" {
		t.Errorf("inspect after update and restart: %q", got)
	}

	c.must("create", "--name", stopped, o.Image, "sleep", "300")
	c.must("update", "--cpus", "0.5", "--pids-limit", "50", "--restart", "on-failure:3", stopped)
	format := "{{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"
	if got := c.must("inspect", "-f", format, stopped); got != "500000000 50 on-failure:3\n" {
		t.Errorf("inspect of a stopped container after update: %q", got)
	}
	c.must("update", "--cpu-quota", "25000", "--cpu-period", "100000", "--pids-limit", "-1", "--restart", "no", stopped)
	if got := c.must("inspect", "-f", "{{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}", stopped); got != "250000000 no\n" {
		t.Errorf("inspect after update --cpu-quota 25000 --cpu-period 100000: %q", got)
	}
	c.must("start", stopped)
	if got := c.must("inspect", "-f", "{{.State.Running}}", stopped); got != "true\n" {
		t.Errorf("start after update: running %q", got)
	}

	for _, bad := range [][]string{
		{"--cpuset-cpus", "0"}, {"--blkio-weight", "500"}, {"--cpu-shares", "512"}, {"--kernel-memory", "10m"},
		{"--memory-reservation", "32m"},
	} {
		_, errOut, code := c.run("", append(append([]string{"update"}, bad...), run)...)
		if code != 1 || !strings.Contains(errOut, bad[0]) {
			t.Errorf("update %s: exit %d %q, want an error naming %s", strings.Join(bad, " "), code, errOut, bad[0])
		}
	}
	if _, errOut, code := c.run("", "update", "-m", "128m", "--memory-swap", "256m", run); code != 1 || !strings.Contains(errOut, "--memory-swap") {
		t.Errorf("update --memory-swap 256m: exit %d %q", code, errOut)
	}
	if got := limit(); got != "96MiB" {
		t.Errorf("memory limit after refused updates: %q", got)
	}
	if _, errOut, code := c.run("", "update", "-m", "64m", run+"-nosuch"); code != 1 || !strings.Contains(errOut, "No such container") {
		t.Errorf("update of a missing container: exit %d %q", code, errOut)
	}
}
