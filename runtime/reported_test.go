package runtime

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// TestReportedStateLeadsTheFile: a state a shim reported ahead of its
// sync is what the runtime answers (inspect, wait) until state.json
// catches up; an older report changes nothing; a settle waits for the
// file while the shim lives, and not for a shim that is gone.
func TestReportedStateLeadsTheFile(t *testing.T) {
	r := newRuntime(t, true)
	id := mustCreate(t, r, hostSpec("lead", "true"))
	dir := r.dir(id)
	self, err := shim.ProcStartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// This process stands for the shim: alive, so nothing is recorded
	// as lost.
	running := State{Status: StateRunning, Pid: 4242, StartCount: 1, ShimPid: os.Getpid(), ShimStartTime: self}
	r.report(id, running, true)
	if c, err := r.Inspect(id); err != nil || c.State.Status != StateRunning || c.State.Pid != 4242 {
		t.Fatalf("after the start's report: %+v %v, want running with the reported pid", c.State, err)
	}
	r.report(id, State{Status: StateCreated}, true) // older
	if c, _ := r.Inspect(id); c.State.Status != StateRunning {
		t.Fatalf("an older report replaced a newer one: %+v", c.State)
	}

	exited := running
	exited.Status, exited.Pid, exited.ExitCount, exited.ExitCode = StateExited, 0, 1, 7
	r.report(id, exited, true)
	if code, err := r.Wait(ctxT(t, 5*time.Second), id, WaitNotRunning); err != nil || code != 7 {
		t.Fatalf("wait after the exit's report: %d %v, want 7", code, err)
	}

	settled := make(chan struct{})
	go func() {
		r.settle(id, time.Now().Add(10*time.Second))
		close(settled)
	}()
	select {
	case <-settled:
		t.Fatal("settled before state.json had the reported exit")
	case <-time.After(100 * time.Millisecond):
	}
	if err := shim.WriteState(dir, exited); err != nil {
		t.Fatal(err)
	}
	select {
	case <-settled:
	case <-time.After(5 * time.Second):
		t.Fatal("no settle once state.json had the reported exit")
	}
	if _, ok := r.reported.Load(id); ok {
		t.Error("the report is kept once state.json has it")
	}
	if c, _ := r.Inspect(id); c.State != exited {
		t.Errorf("state once settled: %+v, want %+v", c.State, exited)
	}

	// A report whose shim is gone holds no settle.
	gone := exited
	gone.StartCount, gone.ShimPid = 2, 0
	r.report(id, gone, false)
	begin := time.Now()
	r.settle(id, time.Now().Add(10*time.Second))
	if waited := time.Since(begin); waited > time.Second {
		t.Errorf("settle waited %v for a shim that is gone", waited)
	}
	// As that shim left it, for the removal (which would wait for a
	// live one, this process, to exit).
	if err := shim.WriteState(dir, gone); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove(context.Background(), id, false); err != nil {
		t.Fatal(err)
	}
}
