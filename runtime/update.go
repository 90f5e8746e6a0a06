package runtime

import (
	"context"
	"fmt"

	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// Update changes a container's cgroup limits and restart policy, running
// or not (Docker's update). edit gets copies of the current ones to
// change. A running container's shim applies the limits to its cgroup at
// once and uses both for the runs its policy starts; config.json is then
// rewritten atomically (as Rename does), so a start of the container, or
// a new Runtime on this root, keeps them. When the limits cannot be
// applied nothing changes. An "update" event follows.
func (r *Runtime) Update(ctx context.Context, ref string, edit func(*Resources, *RestartPolicy) error) error {
	c, unlock, err := r.lockInspect(ref)
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := r.config(c.ID)
	if err != nil {
		return err
	}
	updated := *cfg // a copy: the cached config may be read concurrently
	res, policy := &updated.Spec.Resources, &updated.Spec.RestartPolicy
	if err := edit(res, policy); err != nil {
		return err
	}
	if m := res.MemoryBytes; m != 0 && m < minMemory {
		return fmt.Errorf("%w: Minimum memory limit allowed is 6MB", ErrInvalid)
	}
	if res.MemoryBytes < 0 || res.NanoCPUs < 0 || res.PidsLimit < 0 {
		return fmt.Errorf("%w: update container %s: limits cannot be negative", ErrInvalid, c.Name)
	}
	if policy.Name == "" {
		policy.Name = RestartNo
	}
	if err := policy.Validate(); err != nil {
		return fmt.Errorf("%w: update container %s: %v", ErrInvalid, c.Name, err)
	}
	live := c.State.Running()
	if live {
		if err := r.tellShim(ctx, c.ID, updated.Spec); err != nil {
			return fmt.Errorf("update container %s: %w", c.Name, err)
		}
	}
	if err := r.saveConfig(c.ID, &updated); err != nil {
		if live {
			r.tellShim(ctx, c.ID, cfg.Spec) // back to what the file still says
		}
		return fmt.Errorf("update container %s: %w", c.Name, err)
	}
	r.emit(c.ID, "update", nil)
	return nil
}

// tellShim gives a running container's shim its new limits and policy.
// A shim gone meanwhile is no error: the container stopped, and its next
// start reads config.json.
func (r *Runtime) tellShim(ctx context.Context, id string, s Spec) error {
	_, err := shim.Call(ctx, r.dir(id), shim.Request{Op: "update", Resources: &s.Resources, Restart: &s.RestartPolicy})
	if err != nil {
		if st, _ := r.readState(id); st.Running() && shim.Alive(st.ShimPid, st.ShimStartTime) {
			return err
		}
	}
	return nil
}
