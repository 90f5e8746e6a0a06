package sandbox

import (
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/osthread"
)

// TestWaitExitHoldsMounts: after WaitExit the container's mount
// namespace, with its root overlay, is still there (its teardown comes
// after the exit, not before); ReleaseMounts lets it go.
func TestWaitExitHoldsMounts(t *testing.T) {
	cfg, _ := testConfig(t, "true")
	p, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer Cleanup(cfg)
	if st, err := p.WaitExit(); err != nil || st.Code != 0 {
		t.Fatalf("exit %+v, %v", st, err)
	}
	if p.mounts == nil {
		t.Fatal("the init's mount namespace was not held")
	}
	if mi := mountinfoIn(t, p.mounts); !strings.Contains(mi, " / / ") || !strings.Contains(mi, " - overlay ") {
		t.Fatalf("the held namespace has no root overlay after the exit:\n%s", mi)
	}
	p.ReleaseMounts()
	p.ReleaseMounts() // a second time does nothing
	if _, err := unix.FcntlInt(p.mounts.Fd(), unix.F_GETFD, 0); err == nil {
		t.Error("ReleaseMounts kept the namespace open")
	}
}

// mountinfoIn reads the mount table of the namespace ns from a thread
// that joins it (and is thrown away after).
func mountinfoIn(t *testing.T, ns *os.File) string {
	t.Helper()
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	// The host's /proc, opened before the join: in the namespace, /proc
	// is the container's, where this thread does not exist.
	proc, err := os.Open("/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	osthread.Go(func() {
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			done <- result{err: err}
			return
		}
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNS); err != nil {
			done <- result{err: err}
			return
		}
		fd, err := unix.Openat(int(proc.Fd()), "thread-self/mountinfo", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{err: err}
			return
		}
		f := os.NewFile(uintptr(fd), "mountinfo")
		defer f.Close()
		b, err := io.ReadAll(f)
		done <- result{b, err}
	})
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return string(r.b)
}
