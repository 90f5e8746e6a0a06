package runtime

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// TestVolatileContainer: a Volatile container's root is a volatile
// overlay; it starts again in the same boot with its files, and takes a
// copy while stopped, but not after a reboot (its layer may not have
// reached the disk), while it can still be removed. It cannot have a
// restart policy.
func TestVolatileContainer(t *testing.T) {
	r := newRuntime(t, false)
	s := boxSpec(t, "volatile", `grep ' / / ' /proc/self/mountinfo | grep -o volatile; echo run >> /runs; wc -l < /runs`)
	s.Volatile = true
	id := mustCreate(t, r, s)
	for run := 1; run <= 2; run++ {
		mustStart(t, r, id)
		if code := waitExit(t, r, id); code != 0 {
			t.Fatalf("run %d: exit %d, log %q", run, code, readAll(t, must(r.Logs(context.Background(), id, LogOptions{Tail: -1}))))
		}
	}
	if got := strings.Join(readAll(t, must(r.Logs(context.Background(), id, LogOptions{Tail: -1}))), "|"); got != "stdout:volatile|stdout:1|stdout:volatile|stdout:2" {
		t.Fatalf("log of two runs: %q", got)
	}
	// docker cp into it, stopped (right after the exit), mounts its layer
	// too.
	err := r.ExtractToDir(context.Background(), id, "/", tarOf(t, "copied", "x"), ExtractOptions{})
	if err != nil {
		t.Fatalf("copy into the stopped volatile container: %v", err)
	}
	mustStart(t, r, id)
	waitExit(t, r, id)

	// Pretend the last run happened in an earlier boot of the host (once
	// its shim has written the exit, reported before).
	r.settle(id, time.Now().Add(5*time.Second))
	dir := filepath.Join(r.Root(), id)
	st, _ := shim.ReadState(dir)
	st.BootID = "an-earlier-boot"
	shim.WriteState(dir, st)
	err = r.Start(context.Background(), id)
	if err == nil || !strings.Contains(err.Error(), "remove the container") {
		t.Fatalf("start after a reboot: %v, want a refusal that says to remove the container", err)
	}
	err = r.ExtractToDir(context.Background(), id, "/", tarOf(t, "late", "x"), ExtractOptions{})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "remove the container") {
		t.Fatalf("copy after a reboot: %v, want a conflict that says to remove the container", err)
	}
	if err := r.Remove(context.Background(), id, false); err != nil {
		t.Fatalf("remove: %v", err)
	}

	s = boxSpec(t, "volatile-always", "true")
	s.Volatile, s.RestartPolicy.Name = true, RestartAlways
	if _, err := r.Create(context.Background(), s); !errors.Is(err, ErrInvalid) {
		t.Fatalf("volatile with restart always: %v, want ErrInvalid", err)
	}
}
