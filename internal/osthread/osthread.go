// Package osthread locks goroutines to OS threads that may be changed for
// good (put in other namespaces or cgroups) and then thrown away.
//
// A goroutine that exits while locked takes its thread with it, which is
// how such changes are contained, except on the process's main thread:
// Go cannot end that one and parks it instead, changed, for the rest of
// the process's life, and /proc/self (the main thread's view) would then
// show the container's namespaces.
package osthread

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// LockOffMain locks the calling goroutine to its current OS thread, which
// is never the main thread: on the main thread it unlocks, yields and
// tries again until another thread runs it.
func LockOffMain() {
	for {
		runtime.LockOSThread()
		if unix.Gettid() != unix.Getpid() {
			return
		}
		runtime.UnlockOSThread()
		runtime.Gosched()
	}
}
