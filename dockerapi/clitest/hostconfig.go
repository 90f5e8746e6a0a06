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
