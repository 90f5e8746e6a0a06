package runtime

import (
	"fmt"
	"time"

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

// StatsSample is a running container's cgroup counters and the host's,
// read together at one moment: docker stats divides the one by the other.
type StatsSample struct {
	Read time.Time
	cgroups.Stats
	Host cgroups.Host
}

// Stats samples a running container's resource usage; ErrNotRunning when
// it is not running.
func (r *Runtime) Stats(ref string) (StatsSample, error) {
	g, err := r.runningGroup(ref)
	if err != nil {
		return StatsSample{}, err
	}
	s := StatsSample{Read: time.Now()}
	if s.Stats, err = g.Stats(); err != nil {
		return StatsSample{}, err
	}
	s.Host, err = cgroups.ReadHost()
	return s, err
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
