package runtime

import (
	"errors"
	"os"
	"testing"

	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// TestPinInitRefusesAnotherProcess: pinInit hands out the container's init
// only: not a process that took its PID after the state was read, nor
// one the state names that is not the child of the container's shim.
func TestPinInitRefusesAnotherProcess(t *testing.T) {
	r := newRuntime(t, false)
	id := mustCreate(t, r, boxSpec(t, "pinned", "exec sleep 1000"))
	mustStart(t, r, id)
	c, err := r.Inspect(id)
	if err != nil {
		t.Fatal(err)
	}
	proc, err := r.pinInit(c)
	if err != nil {
		t.Fatalf("pin the running container's init: %v", err)
	}
	proc.Close()

	stale := *c
	stale.State.Pid = os.Getpid() // what a recycled PID would look like
	if _, err := r.pinInit(&stale); !errors.Is(err, ErrConflict) {
		t.Errorf("pinned a host process the state does not name: %v", err)
	}
	st := c.State
	st.Pid = os.Getpid() // the state itself names a process not the shim's
	if err := shim.WriteState(c.Dir, st); err != nil {
		t.Fatal(err)
	}
	if _, err := r.pinInit(&stale); !errors.Is(err, ErrConflict) {
		t.Errorf("pinned a process that is not the child of the container's shim: %v", err)
	}
	shim.WriteState(c.Dir, c.State)
}
