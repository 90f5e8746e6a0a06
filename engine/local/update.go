package local

import (
	"context"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/runtime"
)

// UpdateContainer changes a container's limits and restart policy
// (docker update): a running container's cgroup at once, and its config,
// so a restart of the container or the daemon keeps them.
func (e *Engine) UpdateContainer(ctx context.Context, ref string, u engine.ContainerUpdate) error {
	return WrapError(e.containers.Update(ctx, ref, func(r *runtime.Resources, p *runtime.RestartPolicy) error {
		if u.MemoryBytes != nil {
			r.MemoryBytes = *u.MemoryBytes
		}
		if u.NanoCPUs != nil {
			r.NanoCPUs = *u.NanoCPUs
		}
		if u.PidsLimit != nil {
			r.PidsLimit = max(*u.PidsLimit, 0) // -1: unlimited
		}
		if u.Restart != nil {
			*p = runtime.RestartPolicy{Name: u.Restart.Name, MaxRetries: u.Restart.MaxRetries}
		}
		return nil
	}))
}
