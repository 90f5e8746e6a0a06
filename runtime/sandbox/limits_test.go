package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime/cgroups"
)

func TestMemoryLimitOOMKill(t *testing.T) {
	cfg, out := testConfig(t, "sh", "-c", "tail /dev/zero")
	cfg.Resources = cgroups.Resources{MemoryBytes: 16 << 20}
	st := runContainer(t, cfg)
	if !st.OOMKilled || st.Code != 137 || !st.Signaled {
		t.Fatalf("want an OOM kill with exit code 137, got %+v (output %q)", st, out)
	}
	err := (&ExitError{Args: cfg.Args, Status: st}).Error()
	if !strings.Contains(err, "OOM") {
		t.Fatalf("exit error does not say OOM: %s", err)
	}
}

func TestNoOOMWithoutLimitPressure(t *testing.T) {
	cfg, out := testConfig(t, "sh", "-c", "head -c 1000000 /dev/zero | wc -c")
	cfg.Resources = cgroups.Resources{MemoryBytes: 64 << 20}
	if st := runContainer(t, cfg); st.OOMKilled || st.Code != 0 {
		t.Fatalf("got %+v, output %q", st, out)
	}
}

func TestPidsLimit(t *testing.T) {
	// sh, a subshell and at most 6 sleeps fit in 8 tasks; further forks
	// fail. Once the subshell is gone, sh and the 6 sleeps remain.
	// Counting uses only shell builtins, which need no fork.
	out := sh(t, `(for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 30 & done) 2>/dev/null
		n=0; for p in /proc/[0-9]*; do n=$((n+1)); done
		echo procs=$n`, func(c *Config) {
		c.Resources = cgroups.Resources{PidsLimit: 8}
	})
	if out != "procs=7\n" {
		t.Fatalf("pids limit 8: want sh and 6 sleeps, got %q", out)
	}
}

func TestCgroupLimitsAppliedAndRemoved(t *testing.T) {
	cfg, out := testConfig(t, "sh", "-c", "cat /proc/self/cgroup")
	cfg.Resources = cgroups.Resources{MemoryBytes: 32 << 20, NanoCPUs: 500_000_000, PidsLimit: 50}
	p, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cgroups.Open("", cfg.ID)
	if err != nil {
		t.Fatal(err)
	}
	p.Wait()
	if !cgroups.IsV2() {
		for file, want := range map[string]string{
			filepath.Join(g.Dirs["memory"], "memory.limit_in_bytes"): "33554432",
			filepath.Join(g.Dirs["cpu"], "cpu.cfs_quota_us"):         "50000",
			filepath.Join(g.Dirs["cpu"], "cpu.cfs_period_us"):        "100000",
			filepath.Join(g.Dirs["pids"], "pids.max"):                "50",
		} {
			b, err := os.ReadFile(file)
			if err != nil || strings.TrimSpace(string(b)) != want {
				t.Errorf("%s = %q (%v), want %s", file, b, err, want)
			}
		}
	}
	if !strings.Contains(out.String(), "/reconciler/"+cfg.ID) {
		t.Errorf("container not in its cgroup:\n%s", out)
	}
	if err := Cleanup(cfg); err != nil {
		t.Fatal(err)
	}
	if err := Cleanup(cfg); err != nil {
		t.Fatalf("second Cleanup: %v", err)
	}
	for _, d := range g.Dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("cgroup %s not removed: %v", d, err)
		}
	}
}

func TestRunReportsExitCodeAndCancels(t *testing.T) {
	cfg, _ := testConfig(t, "sh", "-c", "exit 3")
	err := Run(context.Background(), cfg)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(err.Error(), "non-zero code: 3") {
		t.Fatalf("Run of exit 3: %v", err)
	}
	cfg, _ = testConfig(t, "sleep", "30")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if err := Run(ctx, cfg); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run with a cancelled context: %v", err)
	}
	if time.Since(t0) > 10*time.Second {
		t.Fatal("cancel did not kill the container")
	}
	if g, _ := cgroups.Open("", cfg.ID); g != nil {
		for _, d := range g.Dirs {
			if _, err := os.Stat(d); err == nil {
				t.Errorf("cgroup %s left after Run", d)
			}
		}
	}
	cfg, _ = testConfig(t, "true")
	if err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentStarts(t *testing.T) {
	needRoot(t)
	const n = 8
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			cfg, out := testConfig(t, "sh", "-c", "echo $$ $(hostname)")
			err := Run(context.Background(), cfg)
			if err == nil && out.String() != "1 "+cfg.ID[:12]+"\n" {
				err = errors.New("unexpected output " + out.String())
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestStartRefusesARunningID(t *testing.T) {
	_, cfg := startSleeper(t, nil)
	cfg2, _ := testConfig(t, "true")
	cfg2.ID = cfg.ID
	if _, err := Start(cfg2); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second start of %s: %v", cfg.ID, err)
	}
	// The first container is untouched.
	g, _ := cgroups.Open("", cfg.ID)
	if pids, _ := g.Pids(); len(pids) != 1 {
		t.Fatalf("first container's cgroup holds %v", pids)
	}
}
