package runtime

import (
	"bytes"
	"context"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestProgramStartsWithDefaultSignals: a container's program, and a
// program exec'd into it, start with no signal ignored or blocked, as
// under Docker, even when the runtime's own process ignores some (a
// daemon started under nohup): an ignored signal stays ignored through
// fork and exec.
func TestProgramStartsWithDefaultSignals(t *testing.T) {
	signal.Ignore(syscall.SIGHUP)
	defer signal.Reset(syscall.SIGHUP)
	// And signal 32, which the Go runtime never handles (a make or a
	// shell may leave it ignored).
	setDisposition(t, 32, 1) // SIG_IGN
	defer setDisposition(t, 32, 0)
	r := newRuntime(t, false)
	// grep itself, not under a shell (ash ignores SIGQUIT for its own).
	grep := []string{"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}
	s := boxSpec(t, "signals", "")
	s.Args = grep
	id := mustCreate(t, r, s)
	startToExit(t, r, id, 0, "stdout:SigBlk:\t0000000000000000", "stdout:SigIgn:\t0000000000000000")

	id = mustCreate(t, r, boxSpec(t, "signals-exec", "exec sleep 1000"))
	mustStart(t, r, id)
	var out bytes.Buffer
	if code, err := r.Exec(context.Background(), id, ExecSpec{Args: grep, Stdout: &out, Stderr: &out}); err != nil || code != 0 {
		t.Fatalf("exec: code %d, %v (%s)", code, err, out.String())
	}
	if want := "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"; out.String() != want {
		t.Errorf("exec'd program: %q, want %q", out.String(), want)
	}
}

// TestProgramInheritsNoDescriptor: a descriptor the runtime's process
// holds without close-on-exec (left open by whatever started it) reaches
// neither a container's program nor a program exec'd into it: only its
// three streams are open there, as under runc (CVE-2024-21626).
func TestProgramInheritsNoDescriptor(t *testing.T) {
	f, err := unix.Open(filepath.Join(t.TempDir(), "stray"), unix.O_CREAT|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	// Above the descriptors a child gets in place (3 and up), and without
	// close-on-exec (dup2 clears it).
	const stray = 222
	if err := unix.Dup2(f, stray); err != nil {
		t.Fatal(err)
	}
	unix.Close(f)
	defer unix.Close(stray)
	r := newRuntime(t, false)
	// ls lists the shell's descriptors (its own would include the one it
	// reads the folder with; and last, the shell would exec it).
	list := "ls /proc/$$/fd; exit 0"
	id := mustCreate(t, r, boxSpec(t, "fds", list))
	startToExit(t, r, id, 0, "stdout:0", "stdout:1", "stdout:2")

	id = mustCreate(t, r, boxSpec(t, "fds-exec", "exec sleep 1000"))
	mustStart(t, r, id)
	var out bytes.Buffer
	if code, err := r.Exec(context.Background(), id, ExecSpec{Args: []string{"sh", "-c", list}, Stdout: &out, Stderr: &out}); err != nil || code != 0 {
		t.Fatalf("exec: code %d, %v (%s)", code, err, out.String())
	}
	if out.String() != "0\n1\n2\n" {
		t.Errorf("exec'd program's descriptors: %q, want 0, 1, 2", out.String())
	}
}

// setDisposition sets signal sig's handler to SIG_DFL (0) or SIG_IGN (1).
func setDisposition(t *testing.T, sig int, handler uint64) {
	act := [4]uint64{handler} // no flags, an empty mask
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
		t.Fatalf("rt_sigaction %d: %v", sig, e)
	}
}
