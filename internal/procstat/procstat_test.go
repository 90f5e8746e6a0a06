package procstat

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

func TestFields(t *testing.T) {
	// The reading thread's own file: it runs while it reads. The
	// process's (/proc/self) is its main thread's, which may sleep while
	// another thread runs the test ("S" in CI).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f, err := Fields("/proc/thread-self/stat")
	if err != nil {
		t.Fatal(err)
	}
	if f[0] != "R" || f[1] != strconv.Itoa(os.Getppid()) {
		t.Errorf("state %q, parent %q; want R and %d", f[0], f[1], os.Getppid())
	}
	// A command name with spaces and parentheses does not shift them.
	p := filepath.Join(t.TempDir(), "stat")
	os.WriteFile(p, []byte("42 (a) b (c)) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0 0\n"), 0o644)
	if f, err := Fields(p); err != nil || f[0] != "S" || f[1] != "7" || f[19] != "12345" {
		t.Errorf("fields %q, %v", f, err)
	}
	os.WriteFile(p, []byte("42 no parentheses\n"), 0o644)
	if _, err := Fields(p); err == nil {
		t.Error("a malformed stat file was accepted")
	}
}
