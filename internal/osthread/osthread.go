// Package osthread runs functions on OS threads that they may change for
// good (put in other namespaces or cgroups) and then throw away.
//
// A goroutine that exits while locked takes its thread with it, which is
// how such changes are contained, except on the process's main thread:
// Go cannot end that one and parks it instead, changed, for the rest of
// the process's life, and /proc/self (the main thread's view) would then
// show a container's namespaces.
package osthread

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// Go runs fn in a new goroutine locked to an OS thread that is never the
// main thread. When fn returns still locked, the thread ends with it; fn
// may call runtime.UnlockOSThread once to hand a thread it left as it
// found back to the runtime.
func Go(fn func()) {
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() != unix.Getpid() {
			fn()
			return
		}
		// On the main thread: keep it while another goroutine runs fn,
		// which therefore cannot be scheduled here (with GOMAXPROCS=1
		// most goroutines run on the main thread).
		done := make(chan struct{})
		go func() {
			defer close(done)
			runtime.LockOSThread()
			fn()
		}()
		<-done
		runtime.UnlockOSThread()
	}()
}
