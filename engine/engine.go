// Package engine is the seam between the controller and a host: everything
// the controller may ask of a machine, in Docker's words for Docker's things.
//
// Two implementations exist: the local engine (in-process, over runtime/,
// layerstore/ and volumes/) and the Docker Engine API client (dockerapi/),
// which drives our own daemon on another host or a real dockerd or podman.
package engine

import (
	"context"
	"errors"
	"io"
	"time"
)

// Labels every managed object carries. The controller reads actual state
// from engines by these labels and never touches an object without
// LabelManaged.
const (
	LabelManaged  = "io.reconciler.managed"
	LabelKind     = "io.reconciler.kind"
	LabelName     = "io.reconciler.name"
	LabelSpecHash = "io.reconciler.spec-hash"
	LabelSource   = "io.reconciler.source"
	// LabelImageID records, on a container, the image ID it was created
	// from, so a rebuilt image can be detected.
	LabelImageID = "io.reconciler.image-id"
	// LabelAnonymousVolume marks a volume an engine created without a
	// name (for an image's VOLUME or a mount with no source): Docker's
	// label, which docker volume prune looks for.
	LabelAnonymousVolume = "com.docker.volume.anonymous"
)

// Errors an Engine returns, testable with errors.Is. Implementations wrap
// them with detail.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid argument")
	// ErrUnavailable: the engine could not be reached (connection refused,
	// timed out, dropped); its objects' state is unknown, not failed.
	ErrUnavailable = errors.New("engine unavailable")
)

// Engine is one host's container engine.
type Engine interface {
	// Containers lists containers (running or not) carrying every label given.
	Containers(ctx context.Context, labels map[string]string) ([]Container, error)
	CreateContainer(ctx context.Context, c ContainerConfig) (id string, err error)
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends the stop signal, then SIGKILL after grace.
	StopContainer(ctx context.Context, id string, grace time.Duration) error
	// RemoveContainer removes a container and its writable layer; a running
	// container is refused (ErrConflict) unless force. Its volumes, the
	// anonymous ones included, are kept (docker rm without -v).
	RemoveContainer(ctx context.Context, id string, force bool) error
	// RenameContainer gives a container, running or not, a new name
	// (ErrConflict if another container has it).
	RenameContainer(ctx context.Context, id, name string) error

	// EnsureImage makes the image described by src present under src.Tag,
	// building, importing or pulling it, and reports progress to progress.
	EnsureImage(ctx context.Context, src ImageSource, progress io.Writer) (Image, error)
	Images(ctx context.Context, labels map[string]string) ([]Image, error)
	// InspectImage resolves a reference (tag or ID); ErrNotFound if absent.
	InspectImage(ctx context.Context, ref string) (Image, error)
	RemoveImage(ctx context.Context, ref string) error

	// EnsureVolume creates the volume if absent; an existing volume with the
	// same name is returned as is (its data is never touched).
	EnsureVolume(ctx context.Context, v VolumeConfig) (Volume, error)
	Volumes(ctx context.Context, labels map[string]string) ([]Volume, error)
	// RemoveVolume refuses (ErrConflict) while any container uses it.
	RemoveVolume(ctx context.Context, name string) error

	// Events streams changes to containers, images and volumes until ctx ends.
	Events(ctx context.Context) (<-chan Event, <-chan error)
}

// Container states, as Docker names them.
const (
	StateCreated    = "created"
	StateRunning    = "running"
	StateRestarting = "restarting"
	StateExited     = "exited"
	StateDead       = "dead"
)

// Container is a container as an engine reports it.
type Container struct {
	ID       string
	Name     string
	Image    string // the reference it was created from
	ImageID  string
	Labels   map[string]string
	State    string
	ExitCode int
	Restarts int
	Created  time.Time
	Started  time.Time
	// Mounts are its volume mounts (Source is the volume's name), binds
	// and tmpfs mounts, including the anonymous volumes the engine made
	// for its image's VOLUME paths.
	Mounts []Mount
}

// ContainerConfig is everything needed to create a container.
type ContainerConfig struct {
	Name       string
	Image      string
	Entrypoint []string // nil: the image's
	Cmd        []string // nil: the image's
	Env        []string // KEY=VALUE, added to the image's
	WorkingDir string
	User       string
	Hostname   string
	Labels     map[string]string
	Mounts     []Mount
	Restart    RestartPolicy
	Resources  Resources
	StopSignal string
	StopGrace  time.Duration
	Network    string // "none" or "host"
	// ExtraHosts ("NAME:IP", IP valid) go into /etc/hosts; DNS, DNSSearch
	// and DNSOptions replace the host's in /etc/resolv.conf: docker's
	// --add-host, --dns, --dns-search and --dns-option.
	ExtraHosts []string
	DNS        []string
	DNSSearch  []string
	DNSOptions []string
	// OpenStdin keeps a stdin that attached clients write to (docker run
	// -i); StdinOnce closes it when the first client detaches.
	OpenStdin bool
	StdinOnce bool
	// Tty gives it a terminal (docker run -t): output is one raw stream,
	// CRLF line ends. ConsoleSize is the terminal's height and width at
	// start (0: unset).
	Tty         bool
	ConsoleSize [2]uint

	// ReadonlyRootfs makes the root file system read-only (docker run
	// --read-only): /dev, /proc, tmpfs mounts, volumes and binds keep
	// their own modes.
	ReadonlyRootfs bool
	// ShmSize is the size of /dev/shm in bytes; 0 = Docker's 64 MiB.
	ShmSize int64
	// Ulimits are set before the program runs, and for its execs too
	// (docker run --ulimit).
	Ulimits []Ulimit
	// CapDrop takes capabilities from Docker's default set: "ALL" or
	// names, with or without CAP_, in any case (docker run --cap-drop).
	CapDrop []string
	// Init runs an init (tini) as PID 1 in front of the program: it
	// forwards signals and reaps orphans (docker run --init).
	Init bool
	// OOMScoreAdj is the container's oom_score_adj, -1000..1000; 0
	// leaves the engine's (docker run --oom-score-adj).
	OOMScoreAdj int
	// LogOptions bound the container's json-file log: docker's --log-opt
	// max-size (e.g. 10m) and max-file; nil: the engine's limits.
	LogOptions map[string]string
	// AutoRemove says the container is removed once it has run (docker
	// run --rm; the caller removes it): its layer skips every sync to
	// disk (runtime.Spec.Volatile), and it cannot have a restart policy.
	AutoRemove bool
}

// Ulimit is one resource limit in Docker's words: Name is nofile, nproc,
// core, stack, ...; -1 is unlimited.
type Ulimit struct {
	Name       string
	Soft, Hard int64
}

// Network modes of a container.
const (
	NetworkNone = "none" // its own network namespace with loopback only
	NetworkHost = "host" // the host's network
)

// Mount types.
const (
	MountVolume = "volume"
	MountBind   = "bind"
	MountTmpfs  = "tmpfs"
)

// Mount is a volume, bind or tmpfs inside a container.
type Mount struct {
	Type string
	// Source is the volume's name or the host path; empty for tmpfs. A
	// volume mount with no Source gets a new anonymous volume (docker
	// run -v /path), as does each VOLUME path of the image no mount
	// covers.
	Source   string
	Target   string
	ReadOnly bool
	SubPath  string // volume only
	Size     int64  // tmpfs only, bytes; 0 = default
	// NoCopy (volume only) leaves a new volume empty instead of filling
	// it from the image (--mount volume-nocopy); VolumeLabels label a
	// volume created for this mount (volume-label).
	NoCopy       bool
	VolumeLabels map[string]string
	// CreateSource (bind only) creates a missing host directory
	// (--mount bind-create-src).
	CreateSource bool
	// Mode (tmpfs only) is the permission bits of its root; 0 = 1777.
	Mode uint32
}

// RestartPolicy in Docker's words: "no", "always", "on-failure",
// "unless-stopped".
type RestartPolicy struct {
	Name       string
	MaxRetries int
}

// Resources are cgroup limits; zero means unlimited.
type Resources struct {
	MemoryBytes int64
	NanoCPUs    int64
	PidsLimit   int64
}

// ContainerUpdate changes a container's limits and restart policy,
// running or not (docker update); nil fields stay as they are. A zero
// PidsLimit (or -1) lifts the limit.
type ContainerUpdate struct {
	MemoryBytes *int64
	NanoCPUs    *int64
	PidsLimit   *int64
	Restart     *RestartPolicy
}

// ImageSource says how to obtain an image: exactly one of Build, Import
// and Pull is set.
type ImageSource struct {
	Tag    string
	Labels map[string]string
	Build  *BuildSource
	Import *ImportSource
	Pull   *PullSource
}

// BuildSource builds from a Dockerfile. Paths are absolute.
type BuildSource struct {
	Context    string
	Dockerfile string // relative to Context; "" = Dockerfile
	Args       map[string]string
	Target     string
	NoCache    bool
}

// ImportSource loads an archive from an absolute path.
type ImportSource struct{ Path string }

// PullSource pulls Ref from a registry.
type PullSource struct{ Ref string }

// Image is an image as an engine reports it.
type Image struct {
	ID       string // sha256:... of the config
	RepoTags []string
	Labels   map[string]string
	Size     int64
	Created  time.Time
}

// VolumeConfig creates a named volume.
type VolumeConfig struct {
	Name   string
	Driver string
	Labels map[string]string
}

// Volume is a named volume as an engine reports it.
type Volume struct {
	Name       string
	Driver     string
	Mountpoint string
	Labels     map[string]string
	CreatedAt  time.Time
}

// Event types and actions, as Docker names them.
const (
	EventContainer = "container"
	EventImage     = "image"
	EventVolume    = "volume"
)

// Event is one change on a host (Docker's events: create, start, die,
// destroy, stop, tag, delete, ...).
type Event struct {
	Type   string
	Action string
	ID     string
	Labels map[string]string
	// Attributes are Docker's actor attributes beyond the labels (name,
	// image, exitCode, signal).
	Attributes map[string]string
	Time       time.Time
}
