package runtime

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/cgroups"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// newShortLived opens a runtime as a CLI command without a daemon does.
func newShortLived(t *testing.T) *Runtime {
	t.Helper()
	busybox(t) // skips without root or busybox
	root := filepath.Join(t.TempDir(), "containers")
	r, err := New(root, Options{ShortLived: true, SpareAtOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupRoot(t, root) })
	t.Cleanup(func() { r.Close() })
	return r
}

// A ShortLived runtime with SpareAtOpen has a shim booting from the open,
// and the start uses it; it follows its containers without inotify (an
// attach gets the output, Wait returns at the exit), so the process holds
// no inotify instance to wait for on its way out; and it starts no spare
// after the start.
func TestShortLivedRuntime(t *testing.T) {
	before := inotifyInstances(t)
	r := newShortLived(t)
	spare := waitSpare(t, r)
	ctx := ctxT(t, 30*time.Second)
	id := mustCreate(t, r, boxSpec(t, "short", "echo hello; exit 3"))
	att, err := r.Attach(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer att.Close()
	mustStart(t, r, id)
	c, err := r.Inspect(id)
	if err != nil {
		t.Fatal(err)
	}
	if c.State.ShimPid != spare {
		t.Errorf("the container's shim is %d, not the spare started at open (%d)", c.State.ShimPid, spare)
	}
	var out []string
	for {
		e, err := att.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(e.Line))
	}
	if strings.Join(out, "") != "hello\n" {
		t.Errorf("attach delivered %q, want hello", out)
	}
	if code, err := r.Wait(ctx, id, WaitNotRunning); err != nil || code != 3 {
		t.Errorf("wait: %d, %v; want 3", code, err)
	}
	if n := inotifyInstances(t); n > before {
		t.Errorf("the process holds %d inotify instances, %d before the runtime opened", n, before)
	}
	time.Sleep(50 * time.Millisecond) // a refill would have begun by now
	r.spareMu.Lock()
	refilled := len(r.spares) > 0
	r.spareMu.Unlock()
	if refilled {
		t.Error("a ShortLived runtime started a spare after its start")
	}
}

// Close ends the spare of a runtime that started nothing: the shim exits,
// and its prestarted init's spare group goes with it.
func TestSpareAtOpenEndsAtClose(t *testing.T) {
	r := newShortLived(t)
	spare := waitSpare(t, r)
	groups := func() []string { return spareGroupsOf(spare) }
	// The shim makes the init's group while it boots: wait for it
	// (there is no init to wait for where containers start without).
	for deadline := time.Now().Add(10 * time.Second); !sandbox.StartsWithoutInit() && len(groups()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the spare's init never got its spare group")
		}
	}
	r.Close()
	awaitShimGone(t, spare)
}

// The shim of a container run by a ShortLived runtime exits once the
// container has, and what it made ahead for a next container (begun as
// its container was done) goes with it: no spare group is left.
func TestShortLivedShimLeavesNoSpareGroup(t *testing.T) {
	r := newShortLived(t)
	id := mustCreate(t, r, boxSpec(t, "once", "true"))
	mustStart(t, r, id)
	c, _ := r.Inspect(id)
	waitExit(t, r, id)
	r.Close()
	awaitShimGone(t, c.State.ShimPid)
}

// awaitShimGone waits up to 10 s for shim pid to exit, its spare groups
// removed.
func awaitShimGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if unix.Kill(pid, 0) != nil && len(spareGroupsOf(pid)) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s on: shim %d alive %v, spare groups %v", pid, unix.Kill(pid, 0) == nil, spareGroupsOf(pid))
		}
	}
}

// spareGroupsOf lists the spare cgroups shim pid made.
func spareGroupsOf(pid int) []string { return groupDirs("spare-" + strconv.Itoa(pid) + "-*") }

// groupDirs lists the folders of the cgroups named like pattern, in every
// hierarchy.
func groupDirs(pattern string) []string {
	var all []string
	for _, parent := range []string{"*/" + cgroups.DefaultParent, cgroups.DefaultParent} {
		m, _ := filepath.Glob(filepath.Join(cgroups.Root, parent, pattern))
		all = append(all, m...)
	}
	return all
}

// waitSpare waits for the spare started at open and returns its shim's PID.
func waitSpare(t *testing.T, r *Runtime) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		r.spareMu.Lock()
		spares := r.spares
		r.spareMu.Unlock()
		if len(spares) > 0 {
			return spares[0].cmd.Process.Pid
		}
	}
	t.Fatal("no spare shim 10 s after New with SpareAtOpen")
	return 0
}

// inotifyInstances counts this process's inotify descriptors.
func inotifyInstances(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); l == "anon_inode:inotify" {
			n++
		}
	}
	return n
}
