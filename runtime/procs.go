package runtime

import (
	"fmt"

	"github.com/reconciler/reconciler/runtime/cgroups"
)

// Pids lists the host PIDs of a running container's processes: every
// process in its cgroup, execs included, as docker top shows them.
// A container that is not running fails with ErrNotRunning.
func (r *Runtime) Pids(ref string) ([]int, error) {
	g, err := r.runningGroup(ref)
	if err != nil {
		return nil, err
	}
	return g.Pids()
}

// runningGroup is the cgroup of a running container: the sandbox puts
// each container in the group named by its ID (cgroups.Open).
func (r *Runtime) runningGroup(ref string) (*cgroups.Group, error) {
	c, err := r.Inspect(ref)
	if err != nil {
		return nil, err
	}
	if !c.State.Running() {
		return nil, fmt.Errorf("%w: container %s", ErrNotRunning, c.Name)
	}
	return cgroups.Open("", c.ID)
}
