package sandbox

import (
	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/osthread"
	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// A launchThread is a thread that has done ahead the part of a launch that
// does not depend on the container (nsinit.Stage: the namespaces, lo, /dev
// and /sys, about a millisecond) and waits to launch one. Where containers
// start without an init, Prestart makes one, so that a shim does that
// part while it waits for its container instead of after.
//
// It is used once (run) or thrown away (discard); either way the thread
// ends with it, and what it staged goes.
type launchThread struct {
	// staged is closed once Stage has returned: ahead is its result (nil
	// when it failed, and then the thread has ended), tid the thread's.
	staged chan struct{}
	ahead  *nsinit.Staged
	tid    int
	jobs   chan func(*nsinit.Staged)
}

// newLaunchThread starts a thread staging at rootfsDir ("" for none).
func newLaunchThread(rootfsDir string) *launchThread {
	t := &launchThread{staged: make(chan struct{}), jobs: make(chan func(*nsinit.Staged))}
	osthread.Go(func() {
		t.tid = unix.Gettid()
		ahead, err := nsinit.Stage(rootfsDir)
		if err == nil {
			t.ahead = ahead
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
	})
	return t
}

// run runs job on t's thread with what it staged, or, with no thread
// (t is nil) or where staging failed, on a new thread with nil: job must
// then do it all. job's goroutine is locked to its thread, which ends
// with it.
func (t *launchThread) run(job func(*nsinit.Staged)) {
	if t != nil {
		if <-t.staged; t.ahead != nil {
			t.jobs <- job
			return
		}
	}
	osthread.Go(func() { job(nil) })
}

// discard ends t's thread without a launch; nil does nothing.
func (t *launchThread) discard() {
	if t != nil {
		close(t.jobs)
	}
}
