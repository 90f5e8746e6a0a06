package sandbox

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime/cgroups"
)

// needPrestartedInit skips a test of what a prestarted init does where
// Prestart starts none (TestWithInitProcess runs it with one).
func needPrestartedInit(t *testing.T) {
	t.Helper()
	if StartsWithoutInit() {
		t.Skip("containers start without an init process here: Prestart prepares none")
	}
}

// prestarted runs cfg on a prestarted init whose stdout and stderr are a
// pipe (stdin too when withStdin, fed with input) and returns its output.
// The init knows cfg's RootfsDir ahead, as the runtime's do.
func prestarted(t *testing.T, cfg Config, withStdin bool, input string) (ExitStatus, string) {
	t.Helper()
	return prestartedStaging(t, cfg, cfg.RootfsDir, withStdin, input)
}

// prestartedStaging is prestarted with the init told stageDir ahead.
func prestartedStaging(t *testing.T, cfg Config, stageDir string, withStdin bool, input string) (ExitStatus, string) {
	t.Helper()
	return prestartedThen(t, cfg, stageDir, withStdin, input, nil)
}

// prestartedThen is prestartedStaging calling between, if not nil, after
// Prestart and before Start.
func prestartedThen(t *testing.T, cfg Config, stageDir string, withStdin bool, input string, between func(*Pending)) (ExitStatus, string) {
	t.Helper()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	pc := PrestartConfig{Stdout: outW, Stderr: outW, RootfsDir: stageDir}
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
	if between != nil {
		between(p)
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
	cfg, _ := testConfig(t, "sh", "-c", `hostname; echo pid $$; ls /sys/class/net; echo lo flags $(cat /sys/class/net/lo/flags); cat /proc/self/cgroup; wc -c < /dev/stdin
		echo net $(readlink /proc/self/ns/net) $(tail -n +3 /proc/net/dev | cut -d: -f1)`)
	st, out := prestarted(t, cfg, false, "")
	if st.Code != 0 {
		t.Fatalf("exit %+v:\n%s", st, out)
	}
	// Its own network namespace, seen from the process (/sys shows the
	// one it was mounted in): not the host's, lo alone.
	hostNet, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, hostNet) {
		t.Errorf("the container is in the host's network namespace %s:\n%s", hostNet, out)
	}
	for _, want := range []string{cfg.ID[:12] + "\n", "pid 1\n", "lo\nlo flags 0x9\n", "/reconciler/" + cfg.ID, "\n0\n", "] lo\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, spareGroupPrefix) {
		t.Errorf("the container is still in its spare group:\n%s", out)
	}
}

// A prestarted init mounts /proc, /dev and /sys ahead, where the spec's
// RootfsDir will be, or again once it knows it is elsewhere (or that
// nothing was staged): either way the container sees them as one started
// the usual way does, with /dev/shm at the size asked for.
func TestPrestartedInitStagesProcDevSys(t *testing.T) {
	for _, where := range []string{"RootfsDir", "elsewhere", "nowhere"} {
		t.Run(where, func(t *testing.T) {
			for _, c := range []struct {
				script string
				check  func(*testing.T, string)
			}{
				{maskedScript, checkMasked},
				{minimalDevScript, checkMinimalDev},
				{`grep ' /dev/shm ' /proc/mounts | grep -o 'size=[0-9]*k'`, func(t *testing.T, out string) {
					if out != "size=8192k\n" {
						t.Errorf("/dev/shm: got %q, want size=8192k", out)
					}
				}},
			} {
				cfg, _ := testConfig(t, "sh", "-c", c.script)
				cfg.ShmSize = 8 << 20
				stage := map[string]string{"RootfsDir": cfg.RootfsDir, "elsewhere": t.TempDir()}[where]
				st, out := prestartedStaging(t, cfg, stage, false, "")
				if st.Code != 0 {
					t.Fatalf("exit %+v:\n%s", st, out)
				}
				c.check(t, out)
			}
		})
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

// awaitStaged waits until p (its init, or its launch thread) has staged
// at root, and returns the file that lists the mounts it sees.
func awaitStaged(t *testing.T, p *Pending, root string) (mountinfo string) {
	t.Helper()
	if p.h != nil {
		mountinfo = "/proc/" + itoa(p.h.cmd.Process.Pid) + "/mountinfo"
	} else {
		<-p.thread.staged
		if p.thread.ahead == nil {
			t.Fatal("the launch thread failed to stage")
		}
		mountinfo = "/proc/self/task/" + itoa(p.thread.tid) + "/mountinfo"
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if b, _ := os.ReadFile(mountinfo); strings.Contains(string(b), " "+root+"/sys/firmware ") {
			return mountinfo
		}
	}
	t.Fatalf("nothing staged at %s", root)
	return ""
}

// The staging happens while the pending start waits for its spec (in
// its init, or on its launch thread), in its own mount namespace only.
func TestPrestartStagesBeforeItsSpec(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	p, err := Prestart(PrestartConfig{RootfsDir: root})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Discard()
	b, _ := os.ReadFile(awaitStaged(t, p, root))
	info := string(b)
	want := []string{root + "/dev ", root + "/dev/shm ", root + "/sys "}
	if p.h != nil { // an init's PID namespace has a process: its own
		want = append(want, root+"/proc ", root+"/proc/kcore ")
	} else if strings.Contains(info, " "+root+"/proc ") {
		t.Errorf("a launch thread mounted /proc before its container had a process:\n%s", info)
	}
	for _, w := range want {
		if _, err := os.Stat("/proc/kcore"); err != nil && strings.HasSuffix(w, "kcore ") {
			continue
		}
		if !strings.Contains(info, " "+w) {
			t.Errorf("the pending start has nothing mounted at %s:\n%s", w, info)
		}
	}
	if host, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(host), " "+root) {
		t.Errorf("the staging reached the host's mounts:\n%s", host)
	}
}

// A pending start's mount namespace is a copy of the host's made ahead.
// Where the host's mounts propagate (shared, as systemd makes them), it
// follows them until its container comes: a file system unmounted on the
// host since is not held, one mounted since is seen. Elsewhere, a bind
// source mounted since is still seen: a launch captures its binds in the
// host's namespace, and a prestarted init that does not see a source as
// the host does is replaced by a fresh one.
func TestPrestartSeesTheHostsMountsAsTheyAre(t *testing.T) {
	cfg, _ := testConfig(t, "sh", "-c", "cat /shared/hello /private/hello")
	shared := t.TempDir()
	mount := func(dir string) {
		t.Helper()
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	}
	mount(shared)
	if err := syscall.Mount("", shared, "", syscall.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
	gone, later, private := filepath.Join(shared, "gone"), filepath.Join(shared, "later"), t.TempDir()
	for _, dir := range []string{gone, later} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mount(gone)
	cfg.Mounts = []Mount{{Type: "bind", Source: later, Target: "/shared"}, {Type: "bind", Source: private, Target: "/private"}}
	st, out := prestartedThen(t, cfg, cfg.RootfsDir, false, "", func(p *Pending) {
		mountinfo := awaitStaged(t, p, cfg.RootfsDir)
		if err := syscall.Unmount(gone, 0); err != nil {
			t.Fatal(err)
		}
		for _, dir := range []string{later, private} {
			mount(dir)
			if err := os.WriteFile(filepath.Join(dir, "hello"), []byte("mounted since in "+filepath.Base(dir)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if b, _ := os.ReadFile(mountinfo); strings.Contains(string(b), " "+gone+" ") {
			t.Errorf("the pending start still holds %s, unmounted on the host:\n%s", gone, b)
		}
	})
	want := "mounted since in later\nmounted since in " + filepath.Base(private) + "\n"
	if st.Code != 0 || out != want {
		t.Fatalf("exit %+v, output %q, want %q", st, out, want)
	}
}

func TestPrestartDiscardLeavesNothing(t *testing.T) {
	needRoot(t)
	root := t.TempDir()
	p, err := Prestart(PrestartConfig{RootfsDir: root})
	if err != nil {
		t.Fatal(err)
	}
	awaitStaged(t, p, root)
	if p.h == nil {
		th := p.thread
		task := "/proc/self/task/" + itoa(th.tid)
		p.Discard()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
			if _, err := os.Stat(task); os.IsNotExist(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the pending launch thread %s still exists", task)
			}
		}
		if th.group != nil {
			for _, d := range th.group.Dirs {
				if _, err := os.Stat(d); !os.IsNotExist(err) {
					t.Errorf("spare group %s left behind", d)
				}
			}
		} else if !cgroups.IsV2() {
			t.Error("the launch thread made no spare group")
		}
		return
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

// TestRemoveStaleSpareGroups: the spare groups of owners that are gone
// go, with what they still hold (a program forked into one just before
// its shim died, its group not yet renamed); a live owner's stay.
func TestRemoveStaleSpareGroups(t *testing.T) {
	needRoot(t)
	if cgroups.IsV2() {
		t.Skip("spare groups are v1 only")
	}
	stale, err := cgroups.Create("", spareGroupPrefix+"999999999-1", cgroups.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	// Moved in once started, not born there: cgroups.Group.Start puts
	// the calling thread in the group for the fork, and a runtime
	// starting in another test process meanwhile would kill this one
	// with the group it finds stale.
	orphan := exec.Command("sleep", "60")
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- orphan.Wait() }()
	if err := stale.Add(orphan.Process.Pid); err != nil {
		orphan.Process.Kill()
		t.Fatal(err)
	}
	live, err := cgroups.Create("", spareGroupPrefix+itoa(os.Getpid())+"-999", cgroups.Resources{})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Remove()
	RemoveStaleSpareGroups("")
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		orphan.Process.Kill()
		t.Fatal("the process left in a stale spare group still runs")
	}
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
