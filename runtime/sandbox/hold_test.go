package sandbox

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Hold runs with the program exec'd and stopped before its first
// instruction (launched without an init): an error from it ends the start
// with nothing left running and nothing of the program run; nil lets it
// run.
func TestHold(t *testing.T) {
	calledOff := errors.New("called off")
	// Hold runs in the container's root: the host's /proc is reached
	// through a descriptor.
	proc, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(proc)
	for _, goAhead := range []bool{false, true} {
		cfg, out := testConfig(t, "sh", "-c", "echo ran")
		var pid int
		var state string
		cfg.Forked = func(p int) { pid = p }
		cfg.Hold = func() error {
			if pid != 0 {
				b := make([]byte, 512)
				if fd, err := unix.Openat(proc, itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
					n, _ := unix.Read(fd, b)
					b = b[:max(n, 0)]
					unix.Close(fd)
				}
				_, rest, _ := strings.Cut(string(b), ") ")
				state, _, _ = strings.Cut(rest, " ")
			}
			if goAhead {
				return nil
			}
			return calledOff
		}
		p, err := Start(cfg)
		if StartsWithoutInit() && state != "t" {
			t.Errorf("go ahead %v: at the hold the program (%d) is in state %q, want t (traced, stopped)", goAhead, pid, state)
		}
		if !goAhead {
			if !errors.Is(err, calledOff) {
				t.Fatalf("Start with a hold that fails: %v", err)
			}
			if pid != 0 && syscall.Kill(pid, 0) != syscall.ESRCH {
				t.Errorf("the held program %d is left", pid)
			}
			if out.Len() != 0 {
				t.Errorf("the held program ran: %q", out)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if st, err := p.Wait(); err != nil || st.Code != 0 {
			t.Fatalf("exit %+v, %v", st, err)
		}
		Cleanup(cfg)
		if out.String() != "ran\n" {
			t.Errorf("output %q", out)
		}
	}
}
