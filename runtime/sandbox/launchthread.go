package sandbox

import (
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/osthread"
	"github.com/reconciler/reconciler/runtime/cgroups"
	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// A launchThread is a thread that has done ahead the part of a launch that
// does not depend on the container and waits to launch one: nsinit.Stage
// (the namespaces, lo, /dev and /sys), after a while its seccomp filter
// (see lockDownAfter) and, on cgroup v1, a spare cgroup with its tasks
// files and the thread's own open, which the start renames to its
// container's. Where containers start without an init, Prestart
// makes one, so that a shim does that part while it waits for its
// container instead of after.
//
// It is used once (run) or thrown away (discard); either way the thread
// ends with it, and what it made ahead goes, unless the start took it.
type launchThread struct {
	parent string // the cgroup parent
	// staged is closed once the thread has done its part: ahead is
	// Stage's result (nil when it failed, and then the thread has ended),
	// tid the thread's, and group and tasks the spare group and the open
	// tasks files (nil on v2, or after a failure).
	staged     chan struct{}
	ahead      *nsinit.Staged
	tid        int
	group      *cgroups.Group
	tasks      nsinit.Tasks
	closeTasks func()
	// taken: a start took group for its container (takeGroup).
	taken bool
	// mu guards wanted, set once a start wants the thread (see fits),
	// after which it does not lock down.
	mu     sync.Mutex
	wanted bool
	jobs   chan func(*nsinit.Staged)
	// ended is closed once the thread is done, what it made ahead gone.
	ended chan struct{}
}

// newLaunchThread starts a thread staging at rootfsDir ("" for none), its
// spare group under cgroupParent.
func newLaunchThread(rootfsDir, cgroupParent string) *launchThread {
	t := &launchThread{parent: cgroupParent, staged: make(chan struct{}), jobs: make(chan func(*nsinit.Staged)), ended: make(chan struct{})}
	osthread.Go(func() {
		defer close(t.ended)
		t.tid = unix.Gettid()
		ahead, err := nsinit.Stage(rootfsDir)
		if err == nil {
			t.ahead = ahead
			t.makeSpareGroup()
		}
		// Failed, the start stages again on a fresh thread, which
		// reports what fails.
		close(t.staged)
		if err != nil {
			return
		}
		job, ok := func() (func(*nsinit.Staged), bool) {
			if rootfsDir == "" {
				job, ok := <-t.jobs
				return job, ok
			}
			select {
			case job, ok := <-t.jobs:
				return job, ok
			case <-time.After(lockDownAfter):
				t.lockDown()
				job, ok := <-t.jobs
				return job, ok
			}
		}()
		if ok {
			job(ahead)
		} else {
			ahead.Close()
		}
		if t.closeTasks != nil {
			t.closeTasks()
		}
		if t.group != nil && !t.taken {
			t.group.Remove()
		}
	})
	return t
}

// lockDownAfter is how long a staged thread waits for its start before
// it loads the seccomp filter ahead (nsinit.Staged.LockDown), which takes
// the filter's JIT compile (0.3 to 0.6 ms on a VM) off the start's path
// but adds a hand-over to it (the root is then mounted from another
// thread). Where a start follows at once, as when containers start back to
// back and each takes the thread the last one's shim staged, it would
// only move that work, which then competes with the start for the CPUs.
const lockDownAfter = 5 * time.Millisecond

// lockDown locks t's stage down, unless a start already wants t. A
// failure leaves the thread as it was, to fail the same at the launch.
func (t *launchThread) lockDown() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.wanted {
		t.ahead.LockDown()
	}
}

// makeSpareGroup makes the spare group on cgroup v1 and opens the tasks
// files; a failure leaves none, and the start makes its group itself.
func (t *launchThread) makeSpareGroup() {
	if cgroups.IsV2() { // which renames no group
		return
	}
	g, err := cgroups.Create(t.parent, spareGroupName(), cgroups.Resources{})
	if err != nil {
		return
	}
	tasks, closeTasks, err := launchTasks(g)
	if err != nil {
		g.Remove()
		return
	}
	t.group, t.tasks, t.closeTasks = g, tasks, closeTasks
}

// spareGroupName is a new name for a cgroup made ahead (see
// RemoveStaleSpareGroups).
func spareGroupName() string {
	return fmt.Sprintf("%s%d-%d", spareGroupPrefix, os.Getpid(), spareSeq.Add(1))
}

// takeGroup returns t's spare group for cfg's container, or nil where
// there is none (no t, v2, another parent): the caller then makes the
// group itself. The group keeps its spare name until the caller renames
// it (see launchIn): the program is forked into it through the tasks
// files t opened, which a rename does not change.
func (t *launchThread) takeGroup(cfg *Config) *cgroups.Group {
	if t == nil {
		return nil
	}
	if <-t.staged; t.group == nil || cfg.CgroupParent != t.parent {
		return nil
	}
	t.taken = true
	return t.group
}

// fits says whether t can launch spec's container: a locked-down stage
// cannot be used for some (see nsinit.Staged.Fits). No t fits any. The
// first of t's methods a start calls: t, if it has not locked down yet,
// then does not.
func (t *launchThread) fits(spec *nsinit.Spec) bool {
	if t == nil {
		return true
	}
	<-t.staged
	t.mu.Lock()
	t.wanted = true
	t.mu.Unlock()
	return !t.ahead.LockedDown() || t.ahead.Fits(spec)
}

// lockedDownStage returns what t staged where t is locked down, or nil.
// The root of t's container must then be mounted from another thread
// (nsinit.MountRoot), while t waits (see run).
func (t *launchThread) lockedDownStage() *nsinit.Staged {
	if t == nil {
		return nil
	}
	if <-t.staged; t.ahead.LockedDown() {
		return t.ahead
	}
	return nil
}

// run runs job on t's thread with what it staged and the open tasks files
// of g (see nsinit.Tasks), or, with no thread (t is nil) or where staging
// failed, on a new thread with nil: job must then do it all. Where t is
// locked down, mounted (not nil) brings the outcome of MountRoot, which
// t waits for first; job gets its error, if any. The tasks files are
// closed once job returns. job's goroutine is locked to its thread, which
// ends with it.
func (t *launchThread) run(g *cgroups.Group, mounted <-chan error, job func(*nsinit.Staged, nsinit.Tasks, error)) {
	withTasks := func(ahead *nsinit.Staged) {
		if mounted != nil {
			if err := <-mounted; err != nil {
				job(ahead, nsinit.Tasks{}, err)
				return
			}
		}
		if t != nil && t.taken { // opened ahead: the thread closes them
			job(ahead, t.tasks, nil)
			return
		}
		tasks, closeTasks, err := launchTasks(g)
		if err == nil {
			defer closeTasks()
		}
		job(ahead, tasks, err)
	}
	if t != nil {
		if <-t.staged; t.ahead != nil {
			t.jobs <- withTasks
			return
		}
	}
	osthread.Go(func() { withTasks(nil) })
}

// discard ends t's thread without a launch, and returns once what it made
// ahead is gone (a process about to exit must not leave its spare group
// behind); nil does nothing.
func (t *launchThread) discard() {
	if t != nil {
		close(t.jobs)
		<-t.ended
	}
}
