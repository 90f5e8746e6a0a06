package sandbox

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/reconciler/reconciler/runtime/cgroups"
)

// prestarted runs cfg on a prestarted init whose stdout and stderr are a
// pipe (stdin too when withStdin, fed with input) and returns its output.
func prestarted(t *testing.T, cfg Config, withStdin bool, input string) (ExitStatus, string) {
	t.Helper()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	pc := PrestartConfig{Stdout: outW, Stderr: outW}
	var inW *os.File
	if withStdin {
		var inR *os.File
		if inR, inW, err = os.Pipe(); err != nil {
			t.Fatal(err)
		}
		defer inR.Close()
		pc.Stdin = inR
	}
	p, err := Prestart(pc)
	outW.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Stdout, cfg.Stderr, cfg.Stdin = outW, outW, nil
	if withStdin {
		cfg.Stdin = pc.Stdin
	}
	proc, err := p.Start(cfg)
	if err != nil {
		t.Fatalf("Start on a prestarted init: %v", err)
	}
	if inW != nil {
		io.WriteString(inW, input)
		inW.Close()
	}
	out, _ := io.ReadAll(outR)
	st, err := proc.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := Cleanup(cfg); err != nil {
		t.Error(err)
	}
	return st, string(out)
}

func TestPrestartedInitRunsTheContainer(t *testing.T) {
	cfg, _ := testConfig(t, "sh", "-c", `hostname; echo pid $$; ls /sys/class/net; cat /proc/self/cgroup; wc -c < /dev/stdin`)
	st, out := prestarted(t, cfg, false, "")
	if st.Code != 0 {
		t.Fatalf("exit %+v:\n%s", st, out)
	}
	for _, want := range []string{cfg.ID[:12] + "\n", "pid 1\n", "lo\n", "/reconciler/" + cfg.ID, "\n0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, spareGroupPrefix) {
		t.Errorf("the container is still in its spare group:\n%s", out)
	}
}

func TestPrestartedInitStdinAndHostNetwork(t *testing.T) {
	host, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Skip(err)
	}
	cfg, _ := testConfig(t, "sh", "-c", `ls /sys/class/net | wc -l; cat`)
	cfg.Network = NetworkHost
	st, out := prestarted(t, cfg, true, "typed in\n")
	if st.Code != 0 || out != itoa(len(host))+"\ntyped in\n" {
		t.Fatalf("want %d host interfaces and the input echoed, got exit %+v:\n%s", len(host), st, out)
	}
}

func TestPrestartedInitTakesLimits(t *testing.T) {
	if cgroups.IsV2() {
		t.Skip("checks v1 files")
	}
	cfg, _ := testConfig(t, "sleep", "10")
	cfg.Resources = cgroups.Resources{MemoryBytes: 64 << 20, PidsLimit: 20}
	p, err := Prestart(PrestartConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Stdout, cfg.Stderr = nil, nil
	proc, err := p.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		proc.Signal(syscall.SIGKILL)
		proc.Wait()
		Cleanup(cfg)
	}()
	g, _ := cgroups.Open("", cfg.ID)
	for file, want := range map[string]string{
		filepath.Join(g.Dirs["memory"], "memory.limit_in_bytes"): "67108864",
		filepath.Join(g.Dirs["pids"], "pids.max"):                "20",
	} {
		if b, err := os.ReadFile(file); err != nil || strings.TrimSpace(string(b)) != want {
			t.Errorf("%s = %q (%v), want %s", file, b, err, want)
		}
	}
	if b, _ := os.ReadFile("/proc/" + itoa(proc.Pid()) + "/cgroup"); !strings.Contains(string(b), "/reconciler/"+cfg.ID) {
		t.Errorf("the container is not in its group:\n%s", b)
	}
}

func TestPrestartDiscardLeavesNothing(t *testing.T) {
	needRoot(t)
	p, err := Prestart(PrestartConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pid := p.h.cmd.Process.Pid
	p.Discard()
	if _, err := os.Stat("/proc/" + itoa(pid)); !os.IsNotExist(err) {
		t.Errorf("pending init %d still exists", pid)
	}
	if p.group != nil {
		for _, d := range p.group.Dirs {
			if _, err := os.Stat(d); !os.IsNotExist(err) {
				t.Errorf("spare group %s left behind", d)
			}
		}
	}
}

func TestPrestartedInitRefusesARunningID(t *testing.T) {
	cfg, _ := testConfig(t, "sleep", "10")
	first, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		first.Signal(syscall.SIGKILL)
		first.Wait()
		Cleanup(cfg)
	}()
	p, err := Prestart(PrestartConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Stdout, cfg.Stderr = nil, nil
	if _, err := p.Start(cfg); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second start of one ID: %v", err)
	}
	if pids, _ := first.group.Pids(); len(pids) == 0 {
		t.Fatal("the running container lost its cgroup")
	}
}

func TestRemoveStaleSpareGroups(t *testing.T) {
	needRoot(t)
	if cgroups.IsV2() {
		t.Skip("spare groups are v1 only")
	}
	stale, err := cgroups.Create("", spareGroupPrefix+"999999999-1", cgroups.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	live, err := cgroups.Create("", spareGroupPrefix+itoa(os.Getpid())+"-999", cgroups.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Remove()
	RemoveStaleSpareGroups("")
	for _, d := range stale.Dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("stale spare group %s kept", d)
		}
	}
	for _, d := range live.Dirs {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("live owner's spare group %s removed", d)
		}
	}
}
