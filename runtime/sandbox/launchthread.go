package sandbox

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/osthread"
	"github.com/reconciler/reconciler/runtime/cgroups"
	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// A launchThread is a thread that has done ahead the part of a launch that
// does not depend on the container and waits to launch one: nsinit.Stage
// (the namespaces, lo, /dev and /sys) and, on cgroup v1, a spare cgroup
// with its tasks files and the thread's own open, which the start renames
// to its container's. Where containers start without an init, Prestart
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
	jobs  chan func(*nsinit.Staged)
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
		if job, ok := <-t.jobs; ok {
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

// run runs job on t's thread with what it staged and the open tasks files
// of g (see nsinit.Tasks), or, with no thread (t is nil) or where staging
// failed, on a new thread with nil: job must then do it all. The tasks
// files are closed once job returns. job's goroutine is locked to its
// thread, which ends with it.
func (t *launchThread) run(g *cgroups.Group, job func(*nsinit.Staged, nsinit.Tasks, error)) {
	withTasks := func(ahead *nsinit.Staged) {
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
