package clitest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
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

// ProcessOptions covers docker run's --init, --log-opt max-size and
// max-file, and --oom-score-adj as a user sees them. The engine must run
// on this machine: the log files are counted beside inspect's LogPath.
func ProcessOptions(t *testing.T, o Options) {
	c := newCLI(t, o)
	sleeper, logger, created := unique("po-init"), unique("po-logs"), unique("po-created")
	c.cleanup("rm", "-f", sleeper, logger, created)

	t.Run("init", func(t *testing.T) {
		// PID 1 is docker-init, and ps its child.
		out := c.must("run", "--rm", "--init", o.Image, "ps", "-o", "pid,ppid,comm")
		procs := map[string][2]string{} // comm: pid, ppid
		for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			if f := strings.Fields(l); len(f) == 3 {
				procs[f[2]] = [2]string{f[0], f[1]}
			}
		}
		if procs["docker-init"][0] != "1" || procs["ps"][1] != "1" || len(procs) != 2 {
			t.Errorf("run --init ps: want docker-init as PID 1 and ps its child:\n%s", out)
		}
		// The init forwards docker stop's SIGTERM to sleep (which as PID 1
		// would ignore it and be killed after the grace period: 137).
		c.must("run", "-d", "--init", "--name", sleeper, o.Image, "sleep", "1000")
		format := "{{.Path}} {{.Args}} {{.HostConfig.Init}}"
		if got := c.must("inspect", "-f", format, sleeper); got != "sleep [1000] true\n" {
			t.Errorf("inspect %s of a --init container: %q (dockerd shows the program, not the init)", format, got)
		}
		// Once the init has started sleep, it has blocked the signals it
		// forwards; before that, a SIGTERM to PID 1 would be dropped.
		if !testutil.WaitFor(30*time.Second, func() bool { return strings.Contains(c.must("top", sleeper), "sleep 1000") }) {
			t.Fatalf("docker top %s never shows sleep 1000", sleeper)
		}
		c.must("stop", sleeper)
		if got := c.must("inspect", "-f", "{{.State.ExitCode}}", sleeper); got != "143\n" {
			t.Errorf("docker stop of --init sleep 1000: exit code %q, want 143 (SIGTERM reached sleep)", got)
		}
		if got := c.must("run", "--rm", o.Image, "cat", "/proc/1/comm"); got != "cat\n" {
			t.Errorf("without --init PID 1 is %q", got)
		}
	})

	t.Run("log-opt", func(t *testing.T) {
		// About 70 bytes an entry: 400 lines fill many 1 kB files, of which
		// two are kept.
		c.must("run", "--name", logger, "--log-opt", "max-size=1k", "--log-opt", "max-file=2", o.Image,
			"sh", "-c", "i=1; while [ $i -le 400 ]; do echo line-$i; i=$((i+1)); done")
		if got := c.must("inspect", "-f", "{{json .HostConfig.LogConfig}}", logger); got != `{"Type":"json-file","Config":{"max-file":"2","max-size":"1k"}}`+"\n" {
			t.Errorf("inspect HostConfig.LogConfig: %s", got)
		}
		plain := strings.TrimSpace(c.must("create", o.Image, "true"))
		if got := c.must("inspect", "-f", "{{json .HostConfig.LogConfig}}", plain); got != `{"Type":"json-file","Config":{}}`+"\n" {
			t.Errorf("inspect HostConfig.LogConfig without --log-opt: %s, want Config {} as dockerd has it", got)
		}
		c.must("rm", plain)
		logPath := strings.TrimSpace(c.must("inspect", "-f", "{{.LogPath}}", logger))
		files, _ := filepath.Glob(logPath + "*")
		if len(files) == 0 || len(files) > 2 {
			t.Errorf("log files %v: want 1 or 2 (max-file=2)", files)
		}
		for _, f := range files {
			if st, err := os.Stat(f); err != nil || st.Size() > 1000 {
				t.Errorf("log file %s: %v bytes (%v), max-size=1k is 1000", f, st.Size(), err)
			}
		}
		lines := strings.Split(strings.TrimSuffix(c.must("logs", logger), "\n"), "\n")
		first, _ := strconv.Atoi(strings.TrimPrefix(lines[0], "line-"))
		if first <= 1 || len(lines) != 400-first+1 {
			t.Fatalf("docker logs after rotation: %d lines from %q, want the tail", len(lines), lines[0])
		}
		for i, l := range lines {
			if l != "line-"+strconv.Itoa(first+i) {
				t.Fatalf("docker logs line %d is %q, want line-%d: not the tail", i, l, first+i)
			}
		}
		for _, bad := range []struct{ opt, want string }{
			{"compress=true", "--log-opt compress is not supported: the json-file log takes max-size and max-file only"},
			{"tag={{.Name}}", "--log-opt tag is not supported"},
			{"max-size=lots", "--log-opt max-size=lots: want a positive size"},
			{"max-file=0", "--log-opt max-file=0: want a whole number of at least 1"},
		} {
			if _, errOut, code := c.run("", "run", "--rm", "--log-opt", bad.opt, o.Image, "true"); code != 125 || !strings.Contains(errOut, bad.want) {
				t.Errorf("run --log-opt %s: exit %d %q, want %q", bad.opt, code, errOut, bad.want)
			}
		}
	})

	t.Run("oom-score-adj", func(t *testing.T) {
		if got := c.must("run", "--rm", "--oom-score-adj", "500", o.Image, "cat", "/proc/self/oom_score_adj"); got != "500\n" {
			t.Errorf("run --oom-score-adj 500: oom_score_adj %q", got)
		}
		c.must("create", "--name", created, "--oom-score-adj", "300", o.Image, "true")
		if got := c.must("inspect", "-f", "{{.HostConfig.OomScoreAdj}}", created); got != "300\n" {
			t.Errorf("inspect HostConfig.OomScoreAdj: %q", got)
		}
		if _, errOut, code := c.run("", "run", "--rm", "--oom-score-adj", "1001", o.Image, "true"); code != 125 || !strings.Contains(errOut, "1001") || !strings.Contains(errOut, "[-1000, 1000]") {
			t.Errorf("run --oom-score-adj 1001: exit %d %q", code, errOut)
		}
	})
}

// MountOptions covers docker run --mount's options as a user sees them:
// tmpfs-size and tmpfs-mode, volume-nocopy, volume-label and the
// defaults are honoured; propagation, non-recursive binds and volume
// drivers are refused naming the option. The engine must run on this
// machine (binds of a temporary directory). CLI 28.2 has no
// bind-create-src (BindOptions.CreateMountpoint, which compose sends).
func MountOptions(t *testing.T, o Options) {
	c := newCLI(t, o)
	copied, empty, labelled, holder := unique("mo-copied"), unique("mo-empty"), unique("mo-labelled"), unique("mo-holder")
	c.cleanup("rm", "-f", holder)
	c.cleanup("volume", "rm", "-f", copied, empty, labelled)

	if out := c.must("run", "--rm", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770", o.Image,
		"sh", "-c", "stat -c %a /t; df -k /t | tail -n 1"); !strings.HasPrefix(out, "1770\n") || strings.Fields(out)[2] != "1024" {
		t.Errorf("--mount tmpfs-size=1m,tmpfs-mode=1770: %q, want mode 1770 and 1024 KiB", out)
	}
	if out := c.must("run", "--rm", "--mount", "type=tmpfs,dst=/t", o.Image, "stat", "-c", "%a", "/t"); out != "1777\n" {
		t.Errorf("--mount type=tmpfs without a mode: %q, want 1777", out)
	}

	// The image's /bin is copied into a new volume mounted there, unless
	// volume-nocopy (the copy is made at create).
	c.must("create", "--name", holder, "--mount", "src="+copied+",dst=/bin", "--mount", "src="+empty+",dst=/usr/bin,volume-nocopy",
		"--mount", "src="+labelled+",dst=/l,volume-label=team=db", o.Image, "true")
	if out := c.must("run", "--rm", "-v", copied+":/c", o.Image, "ls", "/c"); !strings.Contains(out, "busybox\n") {
		t.Errorf("a volume created at /bin holds %q, want the image's /bin", out)
	}
	c.must("run", "--rm", "-v", empty+":/usr/bin", o.Image, "true") // would copy now, if create had not marked it
	if out := c.must("run", "--rm", "-v", empty+":/e", o.Image, "ls", "-A", "/e"); out != "" {
		t.Errorf("a volume-nocopy volume holds %q", out)
	}
	if out := c.must("volume", "inspect", "-f", "{{.Labels}}", labelled); out != "map[team:db]\n" {
		t.Errorf("volume-label=team=db: the volume's labels are %q", out)
	}

	src := t.TempDir()
	c.must("run", "--rm", "--mount", "type=bind,src="+src+",dst=/b,bind-propagation=rprivate,consistency=cached", o.Image, "touch", "/b/f")
	if _, err := os.Stat(filepath.Join(src, "f")); err != nil {
		t.Errorf("bind with bind-propagation=rprivate: %v", err)
	}
	// bind-recursive=readonly and =writable need API 1.44, which the
	// CLI does not send to an engine speaking 1.41; the unit tests cover them.
	for _, bad := range []struct{ mount, want string }{
		{"type=bind,src=" + src + ",dst=/b,bind-propagation=shared", "--mount bind-propagation=shared is not supported: binds are private"},
		{"type=bind,src=" + src + ",dst=/b,bind-recursive=disabled", "--mount bind-recursive=disabled (bind-nonrecursive) is not supported"},
		{"src=" + empty + ",dst=/v,volume-driver=nfs", "--mount volume-driver=nfs is not supported"},
		{"src=" + empty + ",dst=/v,volume-opt=type=nfs", "--mount volume-opt is not supported"},
	} {
		if _, errOut, code := c.run("", "run", "--rm", "--mount", bad.mount, o.Image, "true"); code != 125 || !strings.Contains(errOut, bad.want) {
			t.Errorf("--mount %s: exit %d %q, want %q", bad.mount, code, errOut, bad.want)
		}
	}
}
