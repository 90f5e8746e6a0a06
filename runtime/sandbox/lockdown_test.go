package sandbox

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// needLaunch skips a test of the launch without an init process where
// containers start with one.
func needLaunch(t *testing.T) {
	t.Helper()
	if !StartsWithoutInit() {
		t.Skip("containers start with an init process here: no launch thread")
	}
}

// lockedDownYet says whether t's stage has locked down by now.
func (t *launchThread) lockedDownYet() bool {
	<-t.staged
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ahead.LockedDown()
}

// awaitLockDown waits until p's launch thread has loaded its filter ahead.
func awaitLockDown(t *testing.T) func(*Pending) {
	return func(p *Pending) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !p.thread.lockedDownYet(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the launch thread did not lock down while it waited")
			}
		}
	}
}

// A container launched from a thread that loaded its seccomp filter
// ahead is confined and set up as any other: its root, binds and tmpfs
// mounted from another thread, its own /proc, namespaces and hostname.
func TestLockedDownStageLaunches(t *testing.T) {
	needLaunch(t)
	shared := t.TempDir()
	if err := os.WriteFile(filepath.Join(shared, "f"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _ := testConfig(t, "sh", "-c", `grep -E '^(Seccomp|NoNewPrivs|CapEff):' /proc/self/status
		echo pid $$; hostname; cat /shared/f; touch /scratch/x && echo tmpfs-ok
		mount -t tmpfs none /mnt 2>/dev/null && echo MOUNTED
		unshare -n true 2>/dev/null && echo NETNS-CREATED
		ls /sys/class/net; pwd`)
	cfg.Hostname = "locked"
	cfg.Cwd = "/work"
	cfg.Mounts = []Mount{{Type: "bind", Source: shared, Target: "/shared", ReadOnly: true}, {Type: "tmpfs", Target: "/scratch"}}
	st, out := prestartedThen(t, cfg, cfg.RootfsDir, false, "", awaitLockDown(t))
	want := "CapEff:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\npid 1\nlocked\nfrom the host\ntmpfs-ok\nlo\n/work\n"
	if st.Code != 0 || out != want {
		t.Fatalf("exit %+v, got:\n%s\nwant:\n%s", st, out, want)
	}
}

// A container on the host's network cannot use a locked-down stage (its
// thread can no longer join that network): it launches without it.
func TestLockedDownStageHostNetwork(t *testing.T) {
	needLaunch(t)
	host, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Skip(err)
	}
	cfg, _ := testConfig(t, "sh", "-c", `ls /sys/class/net | wc -l; grep Seccomp: /proc/self/status`)
	cfg.Network = NetworkHost
	st, out := prestartedThen(t, cfg, cfg.RootfsDir, false, "", awaitLockDown(t))
	if want := itoa(len(host)) + "\nSeccomp:\t2\n"; st.Code != 0 || out != want {
		t.Fatalf("exit %+v, got %q, want %q", st, out, want)
	}
}

// A stage at another folder than the container's does not fit either.
func TestLockedDownStageElsewhere(t *testing.T) {
	needLaunch(t)
	cfg, _ := testConfig(t, "sh", "-c", `ls /sys/class/net; grep Seccomp: /proc/self/status`)
	st, out := prestartedThen(t, cfg, t.TempDir(), false, "", awaitLockDown(t))
	if want := "lo\nSeccomp:\t2\n"; st.Code != 0 || out != want {
		t.Fatalf("exit %+v, got %q, want %q", st, out, want)
	}
}

// A thread a start already waits for does not lock down after: the
// filter would be on the start's path either way.
func TestWantedThreadDoesNotLockDown(t *testing.T) {
	needLaunch(t)
	needRoot(t)
	cfg, _ := testConfig(t, "true")
	lt := newLaunchThread(cfg.RootfsDir, "")
	defer lt.discard()
	spec, err := newSpec(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !lt.fits(spec) {
		t.Fatal("a fresh stage does not fit")
	}
	time.Sleep(3 * lockDownAfter)
	if lt.lockedDownYet() {
		t.Fatal("the thread locked down although a start wanted it")
	}
}

// A launch from a locked-down stage that fails, in the mounts or on the
// launching thread, reports why and leaves no cgroup behind.
func TestLockedDownStageFailures(t *testing.T) {
	needLaunch(t)
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { os.Symlink("/etc", filepath.Join(c.UpperDir, "proc")) }, "/proc into the container's root"},
		{func(c *Config) { c.Args = []string{"/bin/web"} }, "exec /bin/web: no such file or directory in the image"},
	} {
		cfg, _ := testConfig(t, "true")
		tc.edit(&cfg)
		p, err := Prestart(PrestartConfig{RootfsDir: cfg.RootfsDir})
		if err != nil {
			t.Fatal(err)
		}
		awaitLockDown(t)(p)
		lt := p.thread
		proc, err := p.Start(cfg)
		if !startFailed(t, cfg, proc, err, tc.want) {
			continue
		}
		select {
		case <-lt.ended:
		case <-time.After(5 * time.Second):
			t.Error("the launch thread did not end")
		}
	}
}
