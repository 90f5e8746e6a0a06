package osthread

import (
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLockOffMain: even a goroutine running on the main thread (the
// test's init-time lock puts TestMain's goroutine there) ends up locked
// to another thread.
func TestLockOffMain(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			LockOffMain()
			defer runtime.UnlockOSThread()
			if unix.Gettid() == unix.Getpid() {
				t.Error("locked to the main thread")
			}
		}()
	}
	wg.Wait()
}
