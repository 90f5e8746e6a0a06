// Package sandbox turns a container configuration into an isolated process
// on an overlayfs root, the way Docker's defaults do: mount, pid, uts, ipc
// and (optionally) net namespaces, pivot_root, a minimal /dev, /proc with
// masked and read-only paths, read-only /sys, Docker's default capability
// set, no_new_privs, a seccomp filter after Docker's default profile and
// cgroup limits. Device nodes a container creates cannot be opened (every
// writable mount is nodev), which stands in for Docker's devices cgroup.
//
// Where the kernel allows it (see launch.go), no process of ours enters
// the container: threads of the caller set it up and fork the user's
// program as its PID 1. Elsewhere the container's init is this binary
// re-executed from a sealed in-memory copy (memfd), so nothing inside the
// container can reach the runtime binary on disk (CVE-2019-5736); the init
// (package internal/nsinit, run from a package init function before the
// rest of the binary initializes) sets everything up in its fresh
// namespaces and then execs the program. Either way the overlay is
// mounted inside the container's own mount namespace only: it disappears
// with the container and never leaks onto the host.
package sandbox

import (
	"io"
	"os"
	"path/filepath"

	"github.com/reconciler/reconciler/runtime/cgroups"
	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// Config describes one container.
type Config struct {
	// ID names the container; it keys its cgroup (cgroups.DefaultParent/ID).
	ID string
	// LowerDirs are the image's unpacked layers, base first (at least
	// one; an image without layers can use an empty directory). Any
	// number fits: long lists are mounted by short names.
	LowerDirs []string
	// UpperDir and WorkDir hold the container layer; the caller creates
	// both (empty) on the same file system.
	UpperDir, WorkDir string
	// RootfsDir is an existing, caller-owned empty directory where the
	// overlay is mounted inside the container's mount namespace.
	RootfsDir string
	// Mounts are applied in order on top of the root file system, after
	// Files.
	Mounts []Mount
	// Files are small files made for this run on a tmpfs of the
	// container's own and bind-mounted at their Target (see EtcFiles).
	Files []File

	Args []string // program and arguments; Args[0] is looked up in PATH inside
	Env  []string // KEY=VALUE; PATH, HOSTNAME and HOME get Docker's defaults
	Cwd  string   // working directory, created if missing; "" = /
	// User is "", "uid", "uid:gid", "name" or "name:group", resolved from the
	// container's /etc/passwd and /etc/group.
	User     string
	Hostname string // "" = the first 12 characters of ID

	Network   string // NetworkNone (default, only loopback) or NetworkHost
	Resources cgroups.Resources
	// CgroupParent overrides cgroups.DefaultParent.
	CgroupParent string

	// Stdin, Stdout and Stderr are the container's standard streams; nil
	// means /dev/null. *os.File values are handed over directly, anything
	// else is copied by goroutines of the caller (see os/exec).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Tty gives the program a terminal instead (the streams above are
	// ignored): its master is Process.Console. ConsoleSize is its height
	// and width from the start (0: unset; see ResizeConsole for later).
	Tty         bool
	ConsoleSize [2]uint
	// Forked, if not nil, is called with the container's process ID as
	// soon as the process exists, before its program runs and before
	// Start returns: the caller may record the ID meanwhile.
	Forked func(pid int)
	// Hold, if not nil, is called once the container is set up, its
	// program exec'd and stopped before its first instruction (as an OCI
	// runtime's create leaves it), and lets it run when it returns nil;
	// an error ends the start with it, nothing left running. Where the
	// program starts through an init process, it is called before
	// anything is set up. Start returns once it ran, as ever. It may be
	// called on the thread that set the container up, whose root and
	// mount namespace are the container's: it must use descriptors
	// opened before (a pipe, a channel), never paths.
	Hold func() error

	// ReadonlyRootfs makes the root file system read-only once mounted
	// (docker run --read-only): /dev, /dev/shm, /proc, tmpfs mounts and
	// binds keep their own modes; Files are read-only too.
	ReadonlyRootfs bool
	// ShmSize is the size of /dev/shm in bytes (0: Docker's 64 MiB).
	ShmSize int64
	// Ulimits and CapDrop: see ExecConfig.
	Ulimits []Ulimit
	CapDrop []string
	// Init is the host path of an init such as tini (see FindInit),
	// bound read-only at InitPath and run as PID 1 with the program as
	// its child: docker run --init. "" runs the program as PID 1.
	Init string
	// OOMScoreAdj is written to the init's /proc/self/oom_score_adj
	// before the program runs (docker run --oom-score-adj, -1000..1000);
	// 0 leaves the value it inherits. Lowering it below the current
	// value needs CAP_SYS_RESOURCE.
	OOMScoreAdj int
	// Volatile mounts the overlay with overlayfs's volatile option: no
	// sync reaches the file system of UpperDir, neither the program's
	// fsyncs nor the sync of that whole file system which unmounting an
	// overlay does (at the container's exit: tens of milliseconds
	// whenever anything else on the host writes). A host crash can then
	// leave UpperDir incomplete, so it is for a layer thrown away after
	// its run (docker run --rm, a build step). The overlay leaves a mark
	// in WorkDir that Start clears: the caller must not start a WorkDir
	// again that a host crash may have cut short (see VolatileMarked).
	Volatile bool
}

// VolatileMarked reports whether a volatile overlay has used workDir
// since it was made: after a host crash, its upper dir may be
// incomplete.
func VolatileMarked(workDir string) bool {
	_, err := os.Lstat(filepath.Join(workDir, nsinit.VolatileMark))
	return err == nil
}

// ClearVolatileMark lets overlayfs mount workDir again, for one who
// knows that no host crash came since the volatile overlay that marked it
// (Start does it for a Volatile Config).
func ClearVolatileMark(workDir string) error { return nsinit.ClearVolatileMark(workDir) }

// Ulimit is a resource limit in Docker's words (docker run --ulimit):
// Name is core, cpu, data, fsize, locks, memlock, msgqueue, nice,
// nofile, nproc, rss, rtprio, rttime, sigpending or stack; -1 is
// unlimited. It cannot raise a hard limit above the runtime's own.
type Ulimit struct {
	Name       string
	Soft, Hard int64
}

// Network modes.
const (
	NetworkNone = "none"
	NetworkHost = "host"
)

// Mount is a bind or tmpfs mount inside the container.
type Mount struct {
	Type     string // "bind" or "tmpfs"
	Source   string // host path for bind; ignored for tmpfs
	Target   string // absolute path inside the container
	ReadOnly bool
	Size     int64  // tmpfs size in bytes; 0 = kernel default (half of RAM)
	Mode     uint32 // tmpfs permission bits; 0 = 1777
	// SubPath (bind only, relative) mounts that path beneath Source,
	// resolved at the mount with openat2 RESOLVE_BENEATH: symlinks on
	// the way are followed only while they stay inside Source.
	SubPath string
}

// File is a file the container gets at Target with content Data.
type File struct {
	Target string
	Data   string
}

// ExecConfig describes a process to run inside a running container. Like
// Docker's exec, callers pass the container's defaults where the exec sets
// nothing: Env is the whole environment (the container's plus the exec's),
// Cwd and User default to "/" and root here, not to the container's.
type ExecConfig struct {
	Args []string
	Env  []string
	Cwd  string
	User string

	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Tty and ConsoleSize: as in Config.
	Tty         bool
	ConsoleSize [2]uint
	// Ulimits are set before the program runs; CapDrop removes
	// capabilities ("ALL", or names such as "NET_RAW" or "CAP_NET_RAW")
	// from Docker's default set. An exec gets its container's.
	Ulimits []Ulimit
	CapDrop []string
}

// hold calls Hold, if given.
func (c *Config) hold() error {
	if c.Hold == nil {
		return nil
	}
	return c.Hold()
}
