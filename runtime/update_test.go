package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/reconciler/reconciler/runtime/cgroups"
)

// memoryLimit reads the memory limit of the cgroup of process pid.
func memoryLimit(t *testing.T, pid int) string {
	t.Helper()
	g, err := cgroups.OfPid(pid)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(g.Dirs["memory"], "memory.limit_in_bytes")
	if d, ok := g.Dirs[""]; ok {
		file = filepath.Join(d, "memory.max")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Update changes the running container's cgroup at once (raising and
// lowering), hands the shim the new restart policy (a run killed behind
// its back comes back, with the new limit), and is what a new Runtime on
// the root finds; invalid values change nothing.
func TestUpdateLiveAndPersisted(t *testing.T) {
	r := newRuntime(t, false)
	ctx := context.Background()
	spec := boxSpec(t, "up", "sleep 300")
	spec.Resources.MemoryBytes = 64 << 20
	id := mustCreate(t, r, spec)
	mustStart(t, r, id)
	c, _ := r.Inspect(id)
	if got := memoryLimit(t, c.State.Pid); got != "67108864" {
		t.Fatalf("memory limit at start: %s", got)
	}
	for _, mem := range []int64{128 << 20, 32 << 20} {
		err := r.Update(ctx, id, func(res *Resources, p *RestartPolicy) error {
			res.MemoryBytes, p.Name = mem, RestartAlways
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := memoryLimit(t, c.State.Pid); got != strconv.FormatInt(mem, 10) {
			t.Fatalf("memory limit after update to %d: %s", mem, got)
		}
	}
	for _, bad := range []func(*Resources, *RestartPolicy) error{
		func(res *Resources, _ *RestartPolicy) error { res.MemoryBytes = 1 << 20; return nil },
		func(_ *Resources, p *RestartPolicy) error { p.Name = "sometimes"; return nil },
	} {
		if err := r.Update(ctx, id, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("invalid update: %v, want ErrInvalid", err)
		}
	}

	// The shim's policy is now always: a run killed behind its back
	// comes back, in a cgroup with the updated limit.
	syscall.Kill(c.State.Pid, syscall.SIGKILL)
	eventually(t, "a restart by the updated policy", func() bool {
		c2, err := r.Inspect(id)
		return err == nil && c2.State.RestartCount == 1 && c2.State.Status == StateRunning && c2.State.Pid != c.State.Pid
	})
	c, _ = r.Inspect(id)
	if got := memoryLimit(t, c.State.Pid); got != strconv.Itoa(32<<20) {
		t.Errorf("memory limit of the restarted run: %s", got)
	}

	r2, err := New(r.Root(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	c2, err := r2.Inspect(id)
	if err != nil || c2.Spec.Resources.MemoryBytes != 32<<20 || c2.Spec.RestartPolicy.Name != RestartAlways {
		t.Fatalf("after reopening: %+v %+v, %v", c2.Spec.Resources, c2.Spec.RestartPolicy, err)
	}
	if err := r.Stop(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
}
