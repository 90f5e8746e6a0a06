package runtime

import (
	"bytes"
	"context"
	"os/signal"
	"syscall"
	"testing"
)

// TestProgramStartsWithDefaultSignals: a container's program, and a
// program exec'd into it, start with no signal ignored or blocked, as
// under Docker, even when the runtime's own process ignores SIGHUP (a
// daemon started under nohup): an ignored signal stays ignored through
// fork and exec.
func TestProgramStartsWithDefaultSignals(t *testing.T) {
	signal.Ignore(syscall.SIGHUP)
	defer signal.Reset(syscall.SIGHUP)
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
