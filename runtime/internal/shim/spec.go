// Package shim is the supervisor of one container (this binary re-executed
// as "reconciler-shim") and the on-disk format it shares with package
// runtime: config.json, state.json, the control socket. It imports nothing
// heavy, and its entry point runs from this package's init, so a shim is
// up before the rest of the binary's packages would have initialized.
package shim

import (
	"fmt"
	"time"
)

// Spec is everything a container is created from. Paths are host paths,
// already resolved by the caller (image layers, volumes, binds).
type Spec struct {
	// ID is a 64-hex ID; empty: a random one is chosen.
	ID string
	// Name is unique among containers; empty: one is generated.
	Name   string
	Labels map[string]string
	// ImageRef and ImageID are recorded for inspect and listings only.
	ImageRef string
	ImageID  string
	// LowerDirs are the image's unpacked layers, base first. They are
	// never written: the container's changes go to its own upper dir.
	LowerDirs []string

	Args     []string // argv; Args[0] is looked up in the container's PATH
	Env      []string // KEY=VALUE
	Cwd      string   // "" = /
	User     string   // "uid[:gid]" or a name from the image's /etc/passwd; "" = root
	Hostname string   // "" = the first 12 hex digits of the ID
	Mounts   []Mount
	Network  string // "none" (default) or "host"
	// ExtraHosts ("NAME:IP") are added to the container's /etc/hosts;
	// DNS, DNSSearch and DNSOptions replace the host's nameserver, search
	// and options in its /etc/resolv.conf (docker's --add-host, --dns,
	// --dns-search, --dns-option; see sandbox.Names).
	ExtraHosts []string `json:",omitempty"`
	DNS        []string `json:",omitempty"`
	DNSSearch  []string `json:",omitempty"`
	DNSOptions []string `json:",omitempty"`

	Resources     Resources
	RestartPolicy RestartPolicy
	// StopSignal is what Stop sends first ("SIGTERM", "TERM" or "15"; ""
	// = SIGTERM); StopGrace how long it waits before SIGKILL (0 = 10 s).
	StopSignal string
	StopGrace  time.Duration

	// OpenStdin gives the container a stdin that attached clients write
	// to (Runtime.AttachStdin); without it stdin is /dev/null. StdinOnce
	// closes it (EOF) when the first attached client is done, as
	// `docker run -i` does.
	OpenStdin bool `json:",omitempty"`
	StdinOnce bool `json:",omitempty"`
	// Tty gives the container a terminal (docker run -t): its slave, from
	// the container's own /dev/pts, is stdin, stdout, stderr and the
	// controlling terminal; the log is its raw output as one "stdout"
	// stream (\r\n line ends); attached stdin is typed into it.
	// ConsoleSize is its initial height and width (0: the kernel's 0x0).
	Tty         bool    `json:",omitempty"`
	ConsoleSize [2]uint `json:",omitzero"`

	// LogMaxSize and LogMaxFiles bound the container's log (0 = the
	// runtime's Options).
	LogMaxSize  int64
	LogMaxFiles int
	// LogOptions are the log options as the user gave them (docker's
	// --log-opt), recorded for inspect only.
	LogOptions map[string]string `json:",omitempty"`

	// ReadonlyRootfs makes the root file system read-only (docker run
	// --read-only); ShmSize is /dev/shm's size in bytes (0 = 64 MiB).
	ReadonlyRootfs bool  `json:",omitempty"`
	ShmSize        int64 `json:",omitempty"`
	// Ulimits are set in the container's init and its execs (docker
	// run --ulimit); CapDrop takes capabilities from Docker's default
	// set ("ALL" or "CAP_NAME"), for its execs too.
	Ulimits []Ulimit `json:",omitempty"`
	CapDrop []string `json:",omitempty"`
	// Init is the host path of an init (tini) run as PID 1 in front of
	// Args, bound read-only at /sbin/docker-init (docker run --init).
	Init string `json:",omitempty"`
	// OOMScoreAdj is the container's oom_score_adj (docker run
	// --oom-score-adj, -1000..1000); 0 leaves the shim's.
	OOMScoreAdj int `json:",omitempty"`
	// Volatile says the container is removed after it runs (docker run
	// --rm): its layer skips every sync to disk (see
	// sandbox.Config.Volatile), and after a host crash it no longer
	// starts.
	Volatile bool `json:",omitempty"`
}

// Ulimit is a resource limit in Docker's words (Name: nofile, nproc,
// core, ...); -1 is unlimited.
type Ulimit struct {
	Name       string
	Soft, Hard int64
}

// Mount types.
const (
	MountBind  = "bind"
	MountTmpfs = "tmpfs"
)

// Mount is a bind mount of a host path (a volume's data directory is a bind
// too) or a tmpfs, at Target inside the container.
type Mount struct {
	Type     string
	Source   string // host path; empty for tmpfs
	Target   string
	ReadOnly bool
	Size     int64  // tmpfs only, bytes; 0 = the kernel's default
	Mode     uint32 `json:",omitempty"` // tmpfs only, permission bits; 0 = 1777
	// Volume names the volume whose data Source is (a bind otherwise);
	// Anonymous says the engine created it for this container (an image
	// VOLUME or docker run -v /path), so docker rm -v removes it.
	Volume    string `json:",omitempty"`
	Anonymous bool   `json:",omitempty"`
	// SubPath, relative, is what of Source is mounted (a volume's
	// subPath). It is resolved beneath Source at every start, never
	// stored resolved: another container writing to the volume could
	// have swapped a folder on the way for a symlink out of it.
	SubPath string `json:",omitempty"`
}

// Resources are cgroup limits; zero means unlimited.
type Resources struct {
	MemoryBytes int64
	NanoCPUs    int64
	PidsLimit   int64
}

// Restart policy names, in Docker's words.
const (
	RestartNo            = "no"
	RestartAlways        = "always"
	RestartOnFailure     = "on-failure"
	RestartUnlessStopped = "unless-stopped"
)

// RestartPolicy says whether the shim starts the container again when it
// exits. A container stopped or killed by a user is not restarted.
type RestartPolicy struct {
	Name       string // "" = "no"
	MaxRetries int    // on-failure only; 0 = unlimited
}

// Container states, as Docker names them.
const (
	StateCreated    = "created"
	StateRunning    = "running"
	StateRestarting = "restarting"
	StateExited     = "exited"
	StateDead       = "dead"
)

// State is a container's runtime state, as recorded in state.json.
type State struct {
	Status    string
	Pid       int // the container's init, as seen from the host; 0 when not running
	ExitCode  int // of the last exit; 128+N when killed by signal N
	OOMKilled bool
	// Error says why the last start failed or why the shim was lost.
	Error        string    `json:",omitempty"`
	StartedAt    time.Time // of the last start
	FinishedAt   time.Time // of the last exit
	RestartCount int       // restarts by the policy since the last user start

	// StartCount and ExitCount count every start and exit since the
	// container was created; watchers derive events from them.
	StartCount int
	ExitCount  int
	// ManualStop: a user stopped or killed it, so the policy leaves it.
	ManualStop bool `json:",omitempty"`
	// ShimPid and ShimStartTime identify the supervising shim (the start
	// time from /proc/PID/stat tells a recycled PID apart).
	ShimPid       int    `json:",omitempty"`
	ShimStartTime uint64 `json:",omitempty"`
	// ShimLocksDir: that shim holds the container's directory locked
	// while it serves the container (see Serving); a shim that does not
	// serves it until it exits.
	ShimLocksDir bool `json:",omitempty"`
	// ShimLost: the shim died without recording an exit (killed, or the
	// host rebooted); the runtime recorded the exit and restarts the
	// container if its policy says so.
	ShimLost bool `json:",omitempty"`
	// BootID is the host boot (/proc/sys/kernel/random/boot_id) the shim
	// last ran in: a different one means the host rebooted since.
	BootID string `json:",omitempty"`
}

// Running reports whether the container is running or between restarts.
func (s State) Running() bool {
	return s.Status == StateRunning || s.Status == StateRestarting
}

// Validate checks the policy's name and retry count.
func (p RestartPolicy) Validate() error {
	switch p.Name {
	case "", RestartNo, RestartAlways, RestartUnlessStopped:
		if p.MaxRetries != 0 {
			return fmt.Errorf("restart policy %q: maximum retry count only applies to %q", p.Name, RestartOnFailure)
		}
	case RestartOnFailure:
		if p.MaxRetries < 0 {
			return fmt.Errorf("restart policy %q: maximum retry count cannot be negative", p.Name)
		}
	default:
		return fmt.Errorf("restart policy %q: must be one of no, always, on-failure, unless-stopped", p.Name)
	}
	return nil
}

// ShouldRestart applies the policy to an exit.
func (p RestartPolicy) ShouldRestart(exitCode, restarts int) bool {
	switch p.Name {
	case RestartAlways, RestartUnlessStopped:
		return true
	case RestartOnFailure:
		return exitCode != 0 && (p.MaxRetries == 0 || restarts < p.MaxRetries)
	}
	return false
}
