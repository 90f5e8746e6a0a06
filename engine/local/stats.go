package local

import (
	"context"

	"github.com/reconciler/reconciler/runtime"
)

// ContainerStats samples a running container's CPU, memory and task
// counters (its cgroup's) with the host's CPU time and memory.
func (e *Engine) ContainerStats(ctx context.Context, ref string) (runtime.StatsSample, error) {
	s, err := e.containers.Stats(ref)
	return s, WrapError(err)
}
