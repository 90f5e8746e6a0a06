package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/procstat"
	"github.com/reconciler/reconciler/internal/reexec"
	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/logs"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// heldRuntime is newRuntime with a spare shim up, whose PID it returns:
// a create then holds its start (see heldStart).
func heldRuntime(t *testing.T) (*Runtime, int) {
	t.Helper()
	busybox(t) // skips without root or busybox
	root := filepath.Join(t.TempDir(), "containers")
	r, err := New(root, Options{SpareAtOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupRoot(t, root) })
	t.Cleanup(func() { r.Close() })
	return r, waitSpare(t, r)
}

func isHeld(r *Runtime, id string) bool {
	r.spareMu.Lock()
	defer r.spareMu.Unlock()
	return r.held[id] != nil
}

func spareCount(r *Runtime) int {
	r.spareMu.Lock()
	defer r.spareMu.Unlock()
	return len(r.spares)
}

func logLines(t *testing.T, r *Runtime, id string) []string {
	t.Helper()
	s, err := r.Logs(context.Background(), id, LogOptions{Tail: logs.TailAll})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return readAll(t, s)
}

// startToExit starts container id, waits for its exit and checks its code
// and its whole log ("stream:line" each).
func startToExit(t *testing.T, r *Runtime, id string, code int, out ...string) {
	t.Helper()
	mustStart(t, r, id)
	if got := waitExit(t, r, id); got != code {
		t.Fatalf("exit code %d, want %d", got, code)
	}
	if got := logLines(t, r, id); !slices.Equal(got, out) {
		t.Errorf("output %q, want %q", got, out)
	}
}

// A create with a spare idle hands it the start to set up; the container
// stays created, nothing of it runs, until Start lets it go ahead on that
// shim, and the start is recorded then.
func TestHeldStart(t *testing.T) {
	r, spare := heldRuntime(t)
	id := mustCreate(t, r, boxSpec(t, "held", "echo ran"))
	if !isHeld(r, id) {
		t.Fatal("no start held after a create with a spare idle")
	}
	if sandbox.StartsWithoutInit() {
		eventually(t, "the program exec'd and stopped before its first instruction", func() bool {
			return slices.Contains(heldStates(spare), "t (sh)")
		})
	}
	time.Sleep(200 * time.Millisecond) // time enough to run, were it let
	c, err := r.Inspect(id)
	if err != nil {
		t.Fatal(err)
	}
	if c.State.Status != StateCreated || c.State.Pid != 0 || c.State.StartCount != 0 {
		t.Fatalf("held, the container is %+v; want created, no PID, never started", c.State)
	}
	if out := logLines(t, r, id); len(out) != 0 {
		t.Fatalf("the held program ran: %q", out)
	}
	before := time.Now()
	startToExit(t, r, id, 0, "stdout:ran")
	c, _ = r.Inspect(id)
	if c.State.ShimPid != spare {
		t.Errorf("served by shim %d, not the one holding the start (%d)", c.State.ShimPid, spare)
	}
	if c.State.StartedAt.Before(before) {
		t.Errorf("StartedAt %v is the setup's time, before Start (%v)", c.State.StartedAt, before)
	}
}

// A copy into a created container (docker cp before docker start) calls
// its held start off: the start that follows sees the file.
func TestCopyCallsHeldStartOff(t *testing.T) {
	r, _ := heldRuntime(t)
	id := mustCreate(t, r, boxSpec(t, "copied", "cat /injected"))
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "injected", Mode: 0o644, Size: 6, Typeflag: tar.TypeReg})
	tw.Write([]byte("hello\n"))
	tw.Close()
	if err := r.ExtractToDir(ctxT(t, 20*time.Second), id, "/", &b, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	if isHeld(r, id) {
		t.Fatal("the start is still held after a copy into the container")
	}
	startToExit(t, r, id, 0, "stdout:hello") // the copied file
}

// A held start not let go within holdFor is called off: the shim undoes
// the setup (no cgroup of the container is left) and is a spare again;
// the container starts the usual way later.
func TestHeldStartExpires(t *testing.T) {
	defer func(d time.Duration) { holdFor = d }(holdFor)
	holdFor = 100 * time.Millisecond
	r, spare := heldRuntime(t)
	id := mustCreate(t, r, boxSpec(t, "late", "exit 7"))
	eventually(t, "the held start called off and its shim a spare again", func() bool {
		return !isHeld(r, id) && spareCount(r) == 1
	})
	if dirs := groupDirs(id); len(dirs) > 0 {
		t.Errorf("the container's cgroup is left: %v", dirs)
	}
	if out := logLines(t, r, id); len(out) != 0 {
		t.Fatalf("the held program ran: %q", out)
	}
	startToExit(t, r, id, 7)
	c, _ := r.Inspect(id)
	if c.State.ShimPid != spare {
		t.Errorf("served by shim %d, not the spare that held it first (%d)", c.State.ShimPid, spare)
	}
}

// A program that cannot start fails its Start, as without a hold, and
// not before: the container stays created until then.
func TestHeldStartFailsAtStart(t *testing.T) {
	r, _ := heldRuntime(t)
	id := mustCreate(t, r, Spec{Name: "missing", LowerDirs: []string{busybox(t)}, Args: []string{"/no/such/program"}})
	time.Sleep(200 * time.Millisecond)
	c, _ := r.Inspect(id)
	if c.State.Status != StateCreated || c.State.Error != "" || c.State.ExitCode != 0 {
		t.Fatalf("before its start, the container is %+v", c.State)
	}
	err := r.Start(context.Background(), id)
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("Start of a missing program: %v", err)
	}
	c, _ = r.Inspect(id)
	if c.State.ExitCode != 127 || c.State.Error == "" {
		t.Errorf("after the failed start: exit code %d, error %q; want 127 and why", c.State.ExitCode, c.State.Error)
	}
}

// Removing a created container calls its held start off first; Close
// does for those left, and their shims exit.
func TestRemoveAndCloseCallHeldStartsOff(t *testing.T) {
	r, spare := heldRuntime(t)
	id := mustCreate(t, r, boxSpec(t, "gone", "true"))
	if err := r.Remove(context.Background(), id, false); err != nil {
		t.Fatal(err)
	}
	if isHeld(r, id) || spareCount(r) != 1 {
		t.Fatalf("after the remove: held %v, %d spares", isHeld(r, id), spareCount(r))
	}
	if dirs := groupDirs(id); len(dirs) > 0 {
		t.Errorf("the removed container's cgroup is left: %v", dirs)
	}
	mustCreate(t, r, boxSpec(t, "left", "true"))
	r.Close()
	awaitShimGone(t, spare)
}

// heldStates lists "STATE (COMM)" of each process in the spare groups of
// shim pid: a held program is traced and stopped (t) after its exec.
func heldStates(pid int) []string {
	var states []string
	for _, dir := range spareGroupsOf(pid) {
		b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, p := range strings.Fields(string(b)) {
			f, err := procstat.Fields("/proc/" + p + "/stat")
			comm, cerr := os.ReadFile("/proc/" + p + "/comm")
			if err == nil && cerr == nil {
				states = append(states, f[0]+" ("+strings.TrimSpace(string(comm))+")")
			}
		}
	}
	return states
}

// Held starts under concurrent use: creates, starts, renames, removes and
// expiries of many containers at once each end as without holds.
func TestHeldStartsConcurrently(t *testing.T) {
	defer func(d time.Duration) { holdFor = d }(holdFor)
	holdFor = 30 * time.Millisecond
	r, _ := heldRuntime(t)
	ctx := ctxT(t, 60*time.Second)
	errs := make(chan error, 12)
	for i := range 12 {
		go func() {
			errs <- func() error {
				id, err := r.Create(ctx, boxSpec(t, "", "exit "+strconv.Itoa(i)))
				if err != nil {
					return err
				}
				switch i % 4 {
				case 1:
					if err := r.Rename(id, "renamed-"+strconv.Itoa(i)); err != nil {
						return err
					}
				case 2:
					time.Sleep(50 * time.Millisecond) // expired
				case 3:
					return r.Remove(ctx, id, false)
				}
				if err := r.Start(ctx, id); err != nil {
					return err
				}
				code, err := r.Wait(ctx, id, WaitNotRunning)
				if err == nil && code != i {
					err = fmt.Errorf("container %d exited %d", i, code)
				}
				return err
			}()
		}()
	}
	for range 12 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	r.spareMu.Lock()
	held := len(r.held)
	r.spareMu.Unlock()
	if held != 0 {
		t.Errorf("%d starts still held after every container started or went", held)
	}
}

// heldDaemon is a "daemon" in a subprocess that creates one container
// with its start held, prints "held ID SHIMPID" and waits to be killed.
const heldDaemon = "runtime-test-held-daemon"

func init() { reexec.Register(heldDaemon, heldDaemonMain) }

func heldDaemonMain() {
	root, lower := os.Args[1], os.Args[2]
	r, err := New(root, Options{SpareAtOpen: true})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for spareCount(r) == 0 {
		time.Sleep(time.Millisecond)
	}
	id, err := r.Create(context.Background(), Spec{Name: "held", LowerDirs: []string{lower}, Args: []string{"echo", "ran"}})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	r.spareMu.Lock()
	h := r.held[id]
	r.spareMu.Unlock()
	if h == nil {
		fmt.Println("error: no start held")
		os.Exit(1)
	}
	fmt.Println("held", id, h.sp.cmd.Process.Pid)
	select {}
}

// A daemon killed while it holds a start: the shim undoes the setup and
// exits, the container stays created, never run, and starts under the
// next runtime.
func TestDaemonKilledWhileStartHeld(t *testing.T) {
	root, daemon, out := startTestDaemon(t, heldDaemon)
	var id string
	var shimPid int
	eventually(t, "the daemon to hold a start", func() bool {
		b, _ := os.ReadFile(out)
		f := strings.Fields(string(b))
		if len(f) > 0 && f[0] == "error:" {
			t.Fatalf("daemon: %s", b)
		}
		if len(f) < 3 {
			return false
		}
		id, shimPid = f[1], must(strconv.Atoi(f[2]))
		return true
	})
	daemon.Process.Signal(unix.SIGKILL)
	daemon.Wait()
	awaitShimGone(t, shimPid)

	r, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := r.Inspect(id)
	if err != nil {
		t.Fatal(err)
	}
	if c.State.Status != StateCreated || c.State.StartCount != 0 || c.State.Error != "" {
		t.Fatalf("after the kill, the container is %+v; want created, never started", c.State)
	}
	if out := logLines(t, r, id); len(out) != 0 {
		t.Fatalf("the held program ran: %q", out)
	}
	startToExit(t, r, id, 0, "stdout:ran")
}

// A start held and failing after its program was forked (a limit the
// kernel refuses: more open files than fs.nr_open) fails at Start, as
// without a hold, and leaves no temporary state file behind.
func TestHeldStartFailsAfterFork(t *testing.T) {
	r, _ := heldRuntime(t)
	b, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		t.Skip(err)
	}
	over := must(strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)) + 1
	s := boxSpec(t, "limited", "true")
	s.Ulimits = []Ulimit{{Name: "nofile", Soft: over, Hard: over}}
	id, err := r.Create(context.Background(), s)
	if err != nil {
		t.Skipf("refused at create: %v", err)
	}
	if err := r.Start(context.Background(), id); err == nil {
		t.Fatal("a start with a soft limit above the hard one succeeded")
	}
	c, _ := r.Inspect(id)
	if c.State.Error == "" || c.State.Running() {
		t.Errorf("after the failed start: %+v", c.State)
	}
	ents, _ := os.ReadDir(c.Dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), shim.StateFile) && e.Name() != shim.StateFile {
			t.Errorf("a temporary state file is left: %s", e.Name())
		}
	}
}
