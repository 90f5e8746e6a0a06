package runtime

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/reexec"
	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/logs"
)

// testDaemon is a "daemon" in a subprocess: it opens a Runtime, starts two
// containers, reports their IDs and init PIDs, and waits to be SIGKILLed.
const testDaemon = "runtime-test-daemon"

func init() { reexec.Register(testDaemon, testDaemonMain) }

func testDaemonMain() {
	root, lower := os.Args[1], os.Args[2]
	r, err := New(root, Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	ticker := Spec{Name: "ticker", LowerDirs: []string{lower}, Args: []string{"sh", "-c", "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.05; done"}}
	crasher := Spec{Name: "crasher", LowerDirs: []string{lower}, Args: []string{"sh", "-c", "echo up; sleep 0.3; exit 1"},
		RestartPolicy: RestartPolicy{Name: RestartOnFailure}}
	for _, s := range []Spec{ticker, crasher} {
		id, err := r.Create(context.Background(), s)
		if err == nil {
			err = r.Start(context.Background(), id)
		}
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		c, _ := r.Inspect(id)
		fmt.Println(s.Name, id, c.State.Pid)
	}
	fmt.Println("ready")
	select {}
}

// startTestDaemon runs the reexec'd daemon name on a fresh state root (its
// containers removed when the test ends) with the busybox layer, and
// returns the root, the process and the file its output goes to.
func startTestDaemon(t *testing.T, name string) (root string, daemon *exec.Cmd, out string) {
	t.Helper()
	lower := busybox(t)
	root = filepath.Join(t.TempDir(), "containers")
	t.Cleanup(func() { cleanupRoot(t, root) })
	f, err := os.Create(filepath.Join(t.TempDir(), "daemon.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	daemon = reexec.Command(name, root, lower)
	daemon.Stdout, daemon.Stderr = f, f
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	return root, daemon, f.Name()
}

func TestDaemonKilledContainersSurvive(t *testing.T) {
	testutil.NeedRoot(t, "shims, mounts, namespaces and cgroups")
	root, daemon, out := startTestDaemon(t, testDaemon)
	pids := map[string]int{}
	ids := map[string]string{}
	eventually(t, "the daemon to start its containers", func() bool {
		b, _ := os.ReadFile(out)
		if strings.Contains(string(b), "error:") {
			daemon.Process.Kill()
			t.Fatalf("daemon: %s", b)
		}
		if !strings.Contains(string(b), "ready") {
			return false
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 3 {
				ids[f[0]] = f[1]
				pids[f[0]], _ = strconv.Atoi(f[2])
			}
		}
		return true
	})
	daemon.Process.Signal(unix.SIGKILL)
	daemon.Wait()

	// Restarts go on while no daemon runs (read the state file directly).
	eventually(t, "a restart of the crasher without a daemon", func() bool {
		st, _ := shim.ReadState(filepath.Join(root, ids["crasher"]))
		return st.RestartCount >= 1
	})

	r, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := r.Subscribe(ctx)
	list, _ := r.List()
	if len(list) != 2 {
		t.Fatalf("found %d containers, want 2", len(list))
	}
	tk, _ := r.Inspect("ticker")
	if tk.State.Status != StateRunning || tk.State.Pid != pids["ticker"] || tk.State.StartCount != 1 {
		t.Errorf("ticker after daemon restart: %+v, want running pid %d started once", tk.State, pids["ticker"])
	}
	// Its log goes on.
	n := len(readAll(t, must(r.Logs(ctx, "ticker", LogOptions{Tail: logs.TailAll}))))
	time.Sleep(300 * time.Millisecond)
	if m := len(readAll(t, must(r.Logs(ctx, "ticker", LogOptions{Tail: logs.TailAll})))); m <= n {
		t.Errorf("ticker log did not grow: %d -> %d lines", n, m)
	}
	// The new runtime notices what the shims do.
	timeout := time.After(5 * time.Second)
	for seen := false; !seen; {
		select {
		case e := <-ev:
			seen = e.Action == "die" && e.Name == "crasher" && e.Attributes["exitCode"] == "1"
		case <-timeout:
			t.Fatal("no die event of the crasher after the daemon restart")
		}
	}
	// Stop works on an adopted container.
	if err := r.Stop(ctx, "ticker", time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := shim.ProcStartTime(pids["ticker"]); err == nil {
		t.Errorf("ticker's init %d still alive after stop", pids["ticker"])
	}

	// A shim killed with SIGKILL takes its container along: the next
	// runtime records the loss, and restarts the container by its policy.
	cr, _ := r.Inspect("crasher")
	unix.Kill(cr.State.ShimPid, unix.SIGKILL)
	eventually(t, "the shim to die", func() bool { return !shim.Alive(cr.State.ShimPid, cr.State.ShimStartTime) })
	r2, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	cr2, _ := r2.Inspect("crasher")
	if cr2.State.ShimPid == cr.State.ShimPid || !shim.Alive(cr2.State.ShimPid, cr2.State.ShimStartTime) {
		t.Errorf("crasher not restarted under a new shim: %+v", cr2.State)
	}
	if _, err := shim.ProcStartTime(cr.State.Pid); err == nil && cr.State.Pid != cr2.State.Pid {
		t.Errorf("the lost shim's container %d still runs", cr.State.Pid)
	}
}

func TestLostShimRestartedByPolicy(t *testing.T) {
	r := newRuntime(t, false)
	s := boxSpec(t, "phoenix", "exec sleep 1000")
	s.RestartPolicy.Name = RestartAlways
	id := mustCreate(t, r, s)
	mustStart(t, r, id)
	c, _ := r.Inspect(id)
	unix.Kill(c.State.ShimPid, unix.SIGKILL)
	eventually(t, "a new shim", func() bool {
		n, _ := r.Inspect(id)
		return n.State.Status == StateRunning && n.State.ShimPid != c.State.ShimPid && shim.Alive(n.State.ShimPid, n.State.ShimStartTime)
	})
	n, _ := r.Inspect(id)
	if n.State.ShimLost || n.State.Pid == c.State.Pid {
		t.Errorf("after recovery: %+v", n.State)
	}
	if _, err := shim.ProcStartTime(c.State.Pid); err == nil {
		t.Errorf("the lost shim's container %d still runs", c.State.Pid)
	}
	// Without a restart policy the loss is recorded and left alone.
	s2 := boxSpec(t, "mortal", "exec sleep 1000")
	id2 := mustCreate(t, r, s2)
	mustStart(t, r, id2)
	c2, _ := r.Inspect(id2)
	unix.Kill(c2.State.ShimPid, unix.SIGKILL)
	eventually(t, "the loss recorded", func() bool {
		n, _ := r.Inspect(id2)
		return n.State.Status == StateExited && n.State.ShimLost && n.State.ExitCode == 255
	})
	time.Sleep(1500 * time.Millisecond)
	if n, _ := r.Inspect(id2); n.State.Status != StateExited {
		t.Errorf("a no-policy container was restarted: %+v", n.State)
	}
}

func TestShimEndsWhenItsDirectoryIsDeleted(t *testing.T) {
	r := newRuntime(t, true)
	s := hostSpec("orphan", "exec sleep 1000")
	s.RestartPolicy.Name = RestartAlways
	id := mustCreate(t, r, s)
	mustStart(t, r, id)
	r.settle(id, time.Now().Add(5*time.Second)) // its state written, reported before
	c, _ := r.Inspect(id)
	if err := os.RemoveAll(c.Dir); err != nil {
		t.Fatal(err)
	}
	// The shim then exits, or serves no more (a spare again).
	eventually(t, "the orphaned container to exit, its shim with it", func() bool {
		_, errInit := shim.ProcStartTime(c.State.Pid)
		return errInit != nil && !shim.Serving(c.Dir, c.State)
	})
}

func TestAlwaysComesBackAfterAReboot(t *testing.T) {
	r := newRuntime(t, true)
	ctx := context.Background()
	ids := map[string]string{}
	for _, policy := range []string{RestartAlways, RestartUnlessStopped} {
		s := hostSpec("boot-"+policy, "exec sleep 1000")
		s.RestartPolicy.Name = policy
		ids[policy] = mustCreate(t, r, s)
		mustStart(t, r, ids[policy])
		if err := r.Stop(ctx, ids[policy], time.Second); err != nil {
			t.Fatal(err)
		}
		// Pretend the stop happened in an earlier boot of the host.
		dir := filepath.Join(r.Root(), ids[policy])
		st, _ := shim.ReadState(dir)
		st.BootID = "an-earlier-boot"
		shim.WriteState(dir, st)
	}
	r2, err := New(r.Root(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if c, _ := r2.Inspect(ids[RestartAlways]); c.State.Status != StateRunning {
		t.Errorf("always-container after a reboot: %+v", c.State)
	}
	if c, _ := r2.Inspect(ids[RestartUnlessStopped]); c.State.Status != StateExited {
		t.Errorf("stopped unless-stopped container after a reboot: %+v", c.State)
	}
	// Without a reboot, a daemon restart leaves both stopped.
	r2.Stop(ctx, ids[RestartAlways], time.Second)
	r3, err := New(r.Root(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Close()
	if c, _ := r3.Inspect(ids[RestartAlways]); c.State.Status != StateExited {
		t.Errorf("a daemon restart started a stopped always-container: %+v", c.State)
	}
}
