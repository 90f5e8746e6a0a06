package dockerapi

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/api/types/volume"
)

// ErrNotModified is wrapped by an error for a request that changed nothing
// (start of a running container, stop of a stopped one): HTTP 304.
var ErrNotModified = errors.New("not modified")

// Backend is everything the API server asks of an engine.
type Backend interface {
	SystemBackend
	ContainerBackend
	ExecBackend
	ImageBackend
	VolumeBackend
	NetworkBackend
}

// SystemBackend serves /info, /system/df and /events.
type SystemBackend interface {
	// Info reports counts and engine facts; the server fills the fields
	// left zero that describe the machine (kernel, CPUs, memory, OS, ...).
	Info(ctx context.Context) (system.Info, error)
	DiskUsage(ctx context.Context) (DiskUsage, error)
	// SubscribeEvents returns the retained events at or after since (zero:
	// none) and a channel of live events, closed after cancel is called.
	// The server applies filters and the until bound. EventBus implements it.
	SubscribeEvents(since time.Time) (past []events.Message, live <-chan events.Message, cancel func())
}

// ContainerBackend serves /containers/... . ref is a name (with or
// without the leading "/"), a full ID or a unique ID prefix.
type ContainerBackend interface {
	ContainerList(ctx context.Context, opts ContainerListOptions) ([]container.Summary, error)
	// ContainerCreate fails with ErrNotFound when the image is missing (the
	// docker CLI then pulls and retries) and ErrConflict when the name is
	// taken.
	ContainerCreate(ctx context.Context, c ContainerCreateConfig) (container.CreateResponse, error)
	ContainerInspect(ctx context.Context, ref string) (container.InspectResponse, error)
	ContainerStart(ctx context.Context, ref string) error
	// ContainerStop sends opts.Signal (the container's stop signal when
	// empty), then SIGKILL after opts.Timeout seconds (the container's stop
	// timeout when nil), and returns once the container is down.
	ContainerStop(ctx context.Context, ref string, opts StopOptions) error
	ContainerRestart(ctx context.Context, ref string, opts StopOptions) error
	// ContainerKill sends signal ("" means SIGKILL; "USR1", "SIGUSR1" and
	// "10" are all valid).
	ContainerKill(ctx context.Context, ref string, signal string) error
	// ContainerWait registers the wait before returning, so a start sent
	// after ContainerWait returns cannot be missed; the channel delivers one
	// response when cond is met (or is closed when ctx ends).
	ContainerWait(ctx context.Context, ref string, cond container.WaitCondition) (<-chan container.WaitResponse, error)
	// ContainerLogs writes the log to stdout/stderr (each nil when not
	// requested); with Follow it returns when the container stops or ctx
	// ends. Timestamps go at the start of each line's payload.
	ContainerLogs(ctx context.Context, ref string, opts LogsOptions, stdout, stderr io.Writer) error
	// ContainerAttach connects the streams given, calls opts.Attached once
	// they are connected (before any output of a later start can be lost),
	// and returns when the container's output ends or ctx ends.
	ContainerAttach(ctx context.Context, ref string, opts AttachOptions) error
	// ContainerResize sets the terminal size of a running container
	// created with Tty.
	ContainerResize(ctx context.Context, ref string, height, width uint) error
	// ContainerRename renames a container, running or not: ErrConflict
	// when name is taken, ErrInvalid when it is not a valid name.
	ContainerRename(ctx context.Context, ref, name string) error
	// ContainerUpdate changes a container's limits and restart policy,
	// running or not (docker update); ErrInvalid names a flag the engine
	// cannot change.
	ContainerUpdate(ctx context.Context, ref string, u UpdateConfig) (container.UpdateResponse, error)
	// ContainerTop lists a running container's processes as ps (run with
	// psArgs, "" meaning -ef) prints them; ErrConflict when it is not
	// running.
	ContainerTop(ctx context.Context, ref, psArgs string) (container.TopResponse, error)
	// ContainerStats passes samples of a container's resource use to send,
	// as dockerd does: one (opts.Stream false), its precpu_stats from a
	// sample a second earlier unless opts.OneShot; or, streaming, one
	// about every second until ctx ends or send fails. A container that
	// is not running gives zeroed samples (name and ID only).
	ContainerStats(ctx context.Context, ref string, opts StatsOptions, send func(container.StatsResponse) error) error
	ContainerRemove(ctx context.Context, ref string, opts RemoveOptions) error
	ContainersPrune(ctx context.Context, f Filters) (container.PruneReport, error)
	// ContainerCommit turns the container's writable layer into an image.
	ContainerCommit(ctx context.Context, ref string, opts CommitOptions) (id string, err error)

	// ContainerChanges lists what the container changed against its
	// image (docker diff); nil when nothing changed.
	ContainerChanges(ctx context.Context, ref string) ([]container.FilesystemChange, error)
	// ContainerStatPath describes path in the container, running or not:
	// symlinks resolve inside it, the last one only if path ends in "/" or
	// "/.". A missing path is ErrNotFound ("Could not find the file P in
	// container NAME", docker's words, which the CLI shows).
	ContainerStatPath(ctx context.Context, ref, path string) (container.PathStat, error)
	// ContainerArchivePath returns a tar of path (resolved as by
	// ContainerStatPath; its base name is the top entry) and its stat.
	// Errors come before any byte of the tar.
	ContainerArchivePath(ctx context.Context, ref, path string) (io.ReadCloser, container.PathStat, error)
	// ContainerExtractToDir unpacks a tar into the existing directory
	// path of the container, running or not; nothing may land outside it.
	ContainerExtractToDir(ctx context.Context, ref, path string, content io.Reader, opts ExtractOptions) error
	// ContainerExport returns a tar of the container's root file system
	// (image plus changes, without volumes and binds).
	ContainerExport(ctx context.Context, ref string) (io.ReadCloser, error)
}

// ExtractOptions are the query of PUT /containers/{id}/archive.
type ExtractOptions struct {
	NoOverwriteDirNonDir bool // refuse to replace a directory by a file or the reverse
	CopyUIDGID           bool // the container's user owns what is copied (docker cp -a)
}

// ExecBackend serves exec create/start/inspect.
type ExecBackend interface {
	// ExecCreate fails with ErrConflict when the container is not running.
	ExecCreate(ctx context.Context, ref string, cfg container.ExecCreateRequest) (id string, err error)
	// ExecStart runs the exec. Detached: it returns once the process runs.
	// Otherwise it calls opts.Started when the streams are connected, and
	// returns after the process exited and its output was written, with the
	// exit code already final for ExecInspect. A command that cannot start
	// (not found) is reported in stdout and exit code 126, not as an error.
	ExecStart(ctx context.Context, id string, opts ExecStartOptions) error
	ExecInspect(ctx context.Context, id string) (container.ExecInspectResponse, error)
	// ExecResize sets the terminal size of a running exec created with Tty.
	ExecResize(ctx context.Context, id string, height, width uint) error
}

// ImageBackend serves /images/..., /build and /commit's image side.
// Progress writers receive human text (one or more lines per write), which
// the server sends as {"stream": text} JSON messages.
type ImageBackend interface {
	ImageList(ctx context.Context, opts ImageListOptions) ([]image.Summary, error)
	ImageInspect(ctx context.Context, ref string) (image.InspectResponse, error)
	ImageHistory(ctx context.Context, ref string) ([]image.HistoryResponseItem, error)
	// ImageTag tags source as repo:tag ("" tag means latest). repo may be
	// fully qualified (docker.io/library/x).
	ImageTag(ctx context.Context, source, repo, tag string) error
	ImageRemove(ctx context.Context, ref string, opts ImageRemoveOptions) ([]image.DeleteResponse, error)
	ImagesPrune(ctx context.Context, f Filters) (image.PruneReport, error)
	// ImageBuild builds from a tar of the build context.
	ImageBuild(ctx context.Context, buildContext io.Reader, opts BuildOptions, progress io.Writer) (id string, err error)
	// ImageLoad reads a docker-save or OCI archive; it returns the tags
	// loaded and, for untagged images, their IDs ("sha256:...").
	ImageLoad(ctx context.Context, r io.Reader, progress io.Writer) (loaded []string, err error)
	// ImageSave writes a docker-save archive of refs. Nothing may be written
	// before all refs are resolved, so a missing one is a clean 404.
	ImageSave(ctx context.Context, refs []string, w io.Writer) error
	// ImageImport makes a one-layer image from a root filesystem tarball.
	ImageImport(ctx context.Context, r io.Reader, opts ImportOptions, progress io.Writer) (id string, err error)
	ImagePull(ctx context.Context, ref string, opts PullOptions, progress io.Writer) error
	ImagePush(ctx context.Context, ref string, opts PushOptions, progress io.Writer) error
}

// VolumeBackend serves /volumes/... .
type VolumeBackend interface {
	// VolumeCreate is idempotent for an existing name; "" makes a random name.
	VolumeCreate(ctx context.Context, req volume.CreateRequest) (volume.Volume, error)
	VolumeList(ctx context.Context, f Filters) ([]volume.Volume, error)
	VolumeInspect(ctx context.Context, name string) (volume.Volume, error)
	// VolumeRemove fails with ErrConflict while a container uses the volume.
	VolumeRemove(ctx context.Context, name string, force bool) error
	VolumesPrune(ctx context.Context, f Filters) (volume.PruneReport, error)
}

// ContainerListOptions are the query of GET /containers/json.
type ContainerListOptions struct {
	All     bool // stopped ones too
	Limit   int  // 0: no limit
	Size    bool
	Filters Filters
}

// StatsOptions are the query of GET /containers/{id}/stats.
type StatsOptions struct {
	Stream  bool // default true
	OneShot bool // only without Stream: no precpu sample
}

// ContainerCreateConfig is the body and name of POST /containers/create.
type ContainerCreateConfig struct {
	Name             string // "" lets the engine pick one
	Config           *container.Config
	HostConfig       *container.HostConfig
	NetworkingConfig *network.NetworkingConfig
}

// StopOptions are the query of stop and restart.
type StopOptions struct {
	Signal  string
	Timeout *int // seconds; nil: the container's own
}

// LogsOptions are the query of GET /containers/{id}/logs.
type LogsOptions struct {
	Follow     bool
	Timestamps bool
	Tail       int // lines from the end; -1: all
	Since      time.Time
	Until      time.Time
}

// AttachOptions are the streams of a hijacked attach. Writers are already
// framed for the container's Tty setting; they are nil when not requested.
type AttachOptions struct {
	Stdin          io.Reader // raw; EOF means the client half-closed stdin
	Stdout, Stderr io.Writer
	Logs           bool // replay the log first
	Stream         bool // then follow live output
	DetachKeys     string
	Attached       func()
}

// ExecStartOptions are the body and streams of POST /exec/{id}/start.
type ExecStartOptions struct {
	Detach         bool
	Tty            bool
	ConsoleSize    *[2]uint
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Started        func()
}

// UpdateConfig is the body of POST /containers/{id}/update: the API's,
// plus the kernel memory fields clients still send, so that a request to
// change them is refused rather than lost in decoding.
type UpdateConfig struct {
	container.UpdateConfig
	KernelMemory    int64 `json:",omitempty"`
	KernelMemoryTCP int64 `json:",omitempty"`
}

// RemoveOptions are the query of DELETE /containers/{id}.
type RemoveOptions struct {
	Force         bool // kill a running container first
	RemoveVolumes bool // remove its anonymous volumes
}

// CommitOptions are the query and body of POST /commit.
type CommitOptions struct {
	Repo, Tag       string // empty: an untagged image
	Author, Comment string
	Changes         []string // Dockerfile instructions (CMD, ENV, ...)
	Pause           bool
	Config          *container.Config // overrides, may be nil
}

// ImageListOptions are the query of GET /images/json.
type ImageListOptions struct {
	All     bool // intermediate images too
	Filters Filters
}

// ImageRemoveOptions are the query of DELETE /images/{name}.
type ImageRemoveOptions struct {
	Force   bool
	NoPrune bool
}

// BuildOptions are the query of POST /build.
type BuildOptions struct {
	Tags       []string
	Dockerfile string // path inside the context; "" means Dockerfile
	BuildArgs  map[string]*string
	Labels     map[string]string
	Target     string
	NoCache    bool
	Pull       bool
	Remove     bool // remove intermediate containers (default true)
	Quiet      bool
}

// ImportOptions are the query of POST /images/create?fromSrc=-.
type ImportOptions struct {
	Repo, Tag string
	Message   string
	Changes   []string
	Platform  string
}

// PullOptions are the query and auth header of POST /images/create?fromImage=.
type PullOptions struct {
	Platform     string
	RegistryAuth string // base64 JSON auth config, as sent in X-Registry-Auth
}

// PushOptions are the auth header of POST /images/{name}/push.
type PushOptions struct {
	RegistryAuth string
}

// DiskUsage is GET /system/df in the shape of API 1.41, which the docker
// CLI reads at the version the server advertises.
type DiskUsage struct {
	LayersSize  int64
	Images      []image.Summary
	Containers  []container.Summary
	Volumes     []volume.Volume
	BuildCache  []any
	BuilderSize int64
}
