package osthread

import (
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// TestGoNeverRunsOnTheMainThread, with GOMAXPROCS=1 too, where most
// goroutines run on the main thread.
func TestGoNeverRunsOnTheMainThread(t *testing.T) {
	if os.Getenv("OSTHREAD_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestGoNeverRunsOnTheMainThread$", "-test.count=1")
		cmd.Env = append(os.Environ(), "OSTHREAD_CHILD=1", "GOMAXPROCS=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("with GOMAXPROCS=1: %v\n%s", err, out)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		Go(func() {
			defer wg.Done()
			if unix.Gettid() == unix.Getpid() {
				t.Error("fn ran on the main thread")
			}
			if i%2 == 0 {
				runtime.UnlockOSThread() // handed back
			}
		})
	}
	wg.Wait()
}
