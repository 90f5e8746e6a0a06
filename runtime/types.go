package runtime

import (
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// The container description and state types are shared with the shim,
// which reads and writes them on disk; they are defined, with their field
// docs, in runtime/internal/shim/spec.go (go doc ./runtime/internal/shim).
type (
	// Spec is everything a container is created from.
	Spec = shim.Spec
	// Mount is a bind or tmpfs mount inside a container.
	Mount = shim.Mount
	// Resources are cgroup limits; zero means unlimited.
	Resources = shim.Resources
	// RestartPolicy says whether the shim starts a container again.
	RestartPolicy = shim.RestartPolicy
	// State is a container's runtime state, as recorded in state.json.
	State = shim.State
	// Ulimit is a resource limit in Docker's words (docker run --ulimit).
	Ulimit = shim.Ulimit
)

// Mount types.
const (
	MountBind  = shim.MountBind
	MountTmpfs = shim.MountTmpfs
)

// Restart policy names, in Docker's words.
const (
	RestartNo            = shim.RestartNo
	RestartAlways        = shim.RestartAlways
	RestartOnFailure     = shim.RestartOnFailure
	RestartUnlessStopped = shim.RestartUnlessStopped
)

// Container states, as Docker names them.
const (
	StateCreated    = shim.StateCreated
	StateRunning    = shim.StateRunning
	StateRestarting = shim.StateRestarting
	StateExited     = shim.StateExited
	StateDead       = shim.StateDead
)

// ShimName is the argv[0] of a container's shim (this binary re-executed).
const ShimName = shim.Name

// Container is one container as Inspect and List report it.
type Container struct {
	ID      string
	Name    string
	Created time.Time
	Spec    Spec
	State   State
	// Dir is the container's state directory; LogPath its current log.
	Dir     string
	LogPath string
}
