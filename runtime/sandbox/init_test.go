package sandbox

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/testutil"
)

// needInit skips the test when no init for --init is installed (the
// Makefile's deps install Debian's tini).
func needInit(t *testing.T) string {
	t.Helper()
	p, err := FindInit()
	if err != nil {
		t.Skipf("needs an init for --init: %v", err)
	}
	return p
}

// TestInitRunsProgramAsChild: with Init, PID 1 is docker-init (bound
// read-only at /sbin/docker-init, nodev, and not remountable) and the
// program is its child.
func TestInitRunsProgramAsChild(t *testing.T) {
	init := needInit(t)
	out := sh(t, `echo "parent=$PPID pid1=$(cat /proc/1/comm)"
		tr '\0' ' ' < /proc/1/cmdline; echo
		grep ' /sbin/docker-init ' /proc/self/mountinfo | grep -q ' ro,nodev' && echo ro-nodev
		{ echo x > /sbin/docker-init; } 2>/dev/null || echo write-refused
		mount -o remount,rw /sbin/docker-init 2>/dev/null || echo remount-refused`, func(c *Config) { c.Init = init })
	want := "parent=1 pid1=docker-init\n/sbin/docker-init -- sh -c " // the script follows
	if !strings.HasPrefix(out, want) || !strings.HasSuffix(out, "\nro-nodev\nwrite-refused\nremount-refused\n") {
		t.Fatalf("with Init %s:\n%s\nwant it to start with %q and end with ro-nodev, write-refused, remount-refused", init, out, want)
	}
	if out := sh(t, `echo "me=$$ pid1=$(cat /proc/1/comm)"; test -e /sbin/docker-init || echo no-init`); out != "me=1 pid1=sh\nno-init\n" {
		t.Fatalf("without Init: %q", out)
	}
}

// TestInitForwardsSignalsAndReaps: a SIGTERM to the init reaches the
// program (sleep, which as PID 1 would ignore it), and the init's exit
// code is the program's (128+15); orphans are reaped.
func TestInitForwardsSignalsAndReaps(t *testing.T) {
	init := needInit(t)
	cfg, out := testConfig(t, "sleep", "1000")
	cfg.Init = init
	p, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Signal(syscall.SIGKILL) })
	// A signal that comes before the init blocks signals (it does before
	// forking the program) finds PID 1 without a handler and is dropped.
	children := "/proc/" + itoa(p.Pid()) + "/task/" + itoa(p.Pid()) + "/children"
	testutil.Eventually(t, 10*time.Second, "the init starts the program", func() bool { b, _ := os.ReadFile(children); return len(b) > 0 })
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	Cleanup(cfg)
	if st.Code != 143 || st.Signaled {
		t.Fatalf("SIGTERM to the init of sleep 1000: %+v, output %q; want exit code 143", st, out)
	}

	// The inner sh exits at once, leaving its sleep to the init; once
	// that exits, only the init can reap it.
	got := sh(t, `sh -c 'sleep 0 & exit 0'
		for i in $(seq 200); do
			z=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null)
			[ -z "$z" ] && break
			sleep 0.05
		done
		echo "zombies=[$z]"`, func(c *Config) { c.Init = init })
	if got != "zombies=[]\n" {
		t.Fatalf("orphan under the init: %q", got)
	}
}

// TestOOMScoreAdj: the program runs with the adjustment asked for;
// lowering it below the runtime's own needs CAP_SYS_RESOURCE, and
// without it the start fails saying so.
func TestOOMScoreAdj(t *testing.T) {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		t.Fatal(err)
	}
	own := strings.TrimSpace(string(b))
	if own == "1000" {
		t.Skip("this process already runs with oom_score_adj 1000")
	}
	if out := sh(t, "cat /proc/self/oom_score_adj", func(c *Config) { c.OOMScoreAdj = 1000 }); out != "1000\n" {
		t.Errorf("OOMScoreAdj 1000: %q", out)
	}
	if out := sh(t, "cat /proc/self/oom_score_adj"); out != own+"\n" {
		t.Errorf("OOMScoreAdj 0: %q, want the runtime's own %s", out, own)
	}
	cfg, out := testConfig(t, "cat", "/proc/self/oom_score_adj")
	cfg.OOMScoreAdj = -1000
	p, err := Start(cfg)
	if hasCap(unix.CAP_SYS_RESOURCE) {
		if err != nil {
			t.Fatal(err)
		}
		p.Wait()
		Cleanup(cfg)
		if out.String() != "-1000\n" {
			t.Errorf("OOMScoreAdj -1000 with CAP_SYS_RESOURCE: %q", out)
		}
	} else if err == nil {
		p.Wait()
		Cleanup(cfg)
		t.Errorf("OOMScoreAdj -1000 without CAP_SYS_RESOURCE started: %q", out)
	} else if !strings.Contains(err.Error(), "--oom-score-adj -1000: lowering the OOM score adjustment below the runtime's own ("+own+") needs CAP_SYS_RESOURCE") {
		t.Errorf("OOMScoreAdj -1000 without CAP_SYS_RESOURCE: %v", err)
	}
	for _, n := range []int{1001, -1001} {
		cfg, _ := testConfig(t, "true")
		cfg.OOMScoreAdj = n
		if _, err := Start(cfg); err == nil || !strings.Contains(err.Error(), "range is [-1000, 1000]") {
			t.Errorf("OOMScoreAdj %d: %v", n, err)
		}
	}
}

// hasCap reports whether this process has capability c in effect.
func hasCap(c int) bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[c/32].Effective&(1<<(c%32)) != 0
}

// TestFindInitMissing: without docker-init and tini-static in PATH, the
// error says which package to install.
func TestFindInitMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := FindInit(); err != ErrNoInit || !strings.Contains(err.Error(), "install Debian's tini package") {
		t.Fatalf("FindInit with an empty PATH: %v", err)
	}
}
