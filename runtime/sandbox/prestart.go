package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/cgroups"
	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// Most of a start does not depend on the container: cloning the
// namespaces, loading the init's runtime and (on cgroup v1 hosts) giving
// it a cgroup. Prestart does all that ahead of need; Pending.Start then
// only renames the cgroup, applies the limits, sends the spec and waits
// for the mounts and the exec: about half of Start's time. Where
// containers start without an init (StartsWithoutInit), a thread of the
// caller does that part ahead instead (see launchThread), and holds the
// streams.
//
//	p, _ := sandbox.Prestart(sandbox.PrestartConfig{Stdout: w, Stderr: w})
//	// ... later, once the container is known:
//	proc, err := p.Start(cfg) // or p.Discard() if it is never needed

// PrestartConfig is what must be fixed before the container is known.
type PrestartConfig struct {
	// CgroupParent is the parent of the cgroup the init waits in; the
	// Config given to Start must name the same.
	CgroupParent string
	// Stdin, Stdout and Stderr become the container's streams (nil:
	// /dev/null); see Pending.Start.
	Stdin, Stdout, Stderr *os.File
	// RootfsDir, when known ahead (the runtime mounts every container's
	// root at one place), lets the init (or the launch thread) mount the
	// container's /proc, /dev and /sys there while it waits (a launch
	// thread: /dev and /sys): about 0.5 ms less from Start to the
	// program. A Config with another RootfsDir still works; they are then
	// mounted again.
	RootfsDir string
}

// Pending is a container init started by Prestart, waiting for its
// container. Use it once: Start or Discard. Where containers start without
// an init process (see canLaunch) it holds no init but a launch thread,
// and its streams.
type Pending struct {
	h     *helper // nil without an init
	pc    PrestartConfig
	group *cgroups.Group // the spare group it waits in; nil on cgroup v2
	// held are copies of pc's streams (see holdStreams).
	held []*os.File
	// thread, without an init, is the thread the start launches on.
	thread *launchThread
}

// spareGroupPrefix names the cgroups made ahead (for pending inits, or by
// launch threads): spare-PID-N, with the PID of the process that made
// them.
const spareGroupPrefix = "spare-"

// Prestart starts a container init in new mount, pid, uts, ipc and network
// namespaces, in a cgroup of its own (v1 hosts), waiting for Start; where
// containers start without one, a thread staged for the launch, and
// copies of pc's streams.
func Prestart(pc PrestartConfig) (*Pending, error) {
	p := &Pending{pc: pc}
	if err := p.holdStreams(); err != nil {
		return nil, err
	}
	if StartsWithoutInit() {
		p.thread = newLaunchThread(pc.RootfsDir, pc.CgroupParent)
		return p, nil
	}
	// This thread's namespace, not /proc/self's (the main thread's): only
	// goroutines locked to their thread ever change namespaces, and the
	// calling one is not.
	hostNet, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		p.Discard()
		return nil, fmt.Errorf("sandbox: prestart: %w", err)
	}
	defer hostNet.Close()
	attr := &syscall.SysProcAttr{Cloneflags: namespaces | unix.CLONE_NEWNET, Setsid: true}
	if !cgroups.IsV2() { // no rename on v2: Start moves it as usual
		if p.group, err = cgroups.Create(pc.CgroupParent, spareGroupName(), cgroups.Resources{}); err != nil {
			p.Discard()
			return nil, fmt.Errorf("sandbox: prestart: %w", err)
		}
	}
	var env []string
	if pc.RootfsDir != "" {
		env = append(env, nsinit.StageEnv+"="+pc.RootfsDir)
	}
	if p.h, err = spawn(nsinit.RoleInit, attr, p.pc.streams(), hostNet, true, p.group, env...); err != nil {
		p.Discard()
		return nil, fmt.Errorf("sandbox: prestart: %w", err)
	}
	return p, nil
}

// holdStreams replaces pc's streams with copies the Pending holds, as an
// init holds its own: the caller may close its own, and a start without
// the init made ahead still has them.
func (p *Pending) holdStreams() error {
	for _, f := range []**os.File{&p.pc.Stdin, &p.pc.Stdout, &p.pc.Stderr} {
		if *f == nil {
			continue
		}
		fd, err := unix.FcntlInt((*f).Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			p.Discard()
			return fmt.Errorf("sandbox: prestart: hold %s: %w", (*f).Name(), err)
		}
		*f = os.NewFile(uintptr(fd), (*f).Name())
		p.held = append(p.held, *f)
	}
	return nil
}

// withStreams is cfg with the streams the Pending holds.
func (p *Pending) withStreams(cfg Config) Config {
	std := p.pc.streams()
	cfg.Stdout, cfg.Stderr = std.out, std.err
	if cfg.Stdin != nil {
		cfg.Stdin = std.in
	}
	return cfg
}

// spareSeq numbers this process's spare groups.
var spareSeq atomic.Int64

// Start gives the pending init its container and returns as Start does.
// cfg's streams must be those given to Prestart, except that a nil Stdin
// still means /dev/null. cfg.Network may be either mode (the init joins
// the host's network namespace for NetworkHost).
func (p *Pending) Start(cfg Config) (*Process, error) {
	if p.h == nil {
		defer p.Discard()
		t := p.thread
		p.thread = nil
		return start(p.withStreams(cfg), t)
	}
	spec, err := newSpec(&cfg)
	if err != nil {
		p.Discard()
		return nil, err
	}
	if cfg.CgroupParent != p.pc.CgroupParent || !p.seesBindSources(&cfg) {
		defer p.Discard()
		return Start(p.withStreams(cfg))
	}
	spec.NullStdin = cfg.Stdin == nil
	spec.JoinHostNet = cfg.Network == NetworkHost
	if err := cfg.hold(); err != nil {
		p.Discard()
		return nil, err
	}
	var g *cgroups.Group
	join := func(pid int) (err error) {
		if p.group == nil {
			g, err = createGroup(&cfg, pid)
			return err
		}
		if err := checkNotRunning(&cfg); err != nil {
			p.group.Remove()
			return err
		}
		if err := p.group.Rename(cfg.ID); err != nil {
			p.group.Remove()
			return err
		}
		g = p.group
		return setLimits(&cfg, g)(pid)
	}
	defer p.closeHeld() // the init has its own
	return finishInit(&cfg, p.h, spec, join, &g)
}

// closeHeld closes the streams the Pending holds.
func (p *Pending) closeHeld() {
	for _, f := range p.held {
		f.Close()
	}
	p.held = nil
}

// seesBindSources says whether the pending init sees cfg's bind sources
// as the host does now. Its mount namespace is a copy of the host's made
// when it started, which follows the host's later mounts only where the
// host's mounts propagate (shared, as systemd makes them): a file system
// mounted since over a source, elsewhere, would be missing from it.
func (p *Pending) seesBindSources(cfg *Config) bool {
	var root = -1
	defer func() {
		if root >= 0 {
			unix.Close(root)
		}
	}()
	for _, m := range cfg.Mounts {
		if m.Type != "bind" {
			continue
		}
		if root < 0 {
			var err error
			if root, err = unix.Open("/proc/"+strconv.Itoa(p.h.cmd.Process.Pid)+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
				return false
			}
		}
		// Resolved in the init's view, its links too.
		fd, err := unix.Openat2(root, m.Source, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT})
		if err != nil {
			return false // a fresh init reports what is wrong
		}
		var here, there unix.Stat_t
		err = unix.Fstat(fd, &there)
		unix.Close(fd)
		if err != nil || unix.Stat(m.Source, &here) != nil || here.Dev != there.Dev || here.Ino != there.Ino {
			return false
		}
	}
	return true
}

// Discard ends a pending init that will not be used.
func (p *Pending) Discard() {
	p.closeHeld()
	p.thread.discard()
	p.thread = nil
	if p.h != nil {
		p.h.kill()
		p.h = nil
	}
	if p.group != nil {
		p.group.Remove()
		p.group = nil
	}
}

// RemoveStaleSpareGroups removes the cgroups made ahead by owners that
// are gone (a shim killed while it waited, or in the moment between a
// launch's fork and the rename of its group to its container's): what
// they still hold is killed first, as a runtime's cleanup kills what a
// lost shim's container left. A runtime calls it when it starts.
func RemoveStaleSpareGroups(parent string) {
	probe, err := cgroups.Open(parent, spareGroupPrefix+"0")
	if err != nil {
		return
	}
	stale := map[string]bool{}
	for _, d := range probe.Dirs {
		entries, _ := os.ReadDir(filepath.Dir(d))
		for _, e := range entries {
			rest, ok := strings.CutPrefix(e.Name(), spareGroupPrefix)
			if !ok || !e.IsDir() {
				continue
			}
			pid, _, _ := strings.Cut(rest, "-")
			if n, err := strconv.Atoi(pid); err == nil && unix.Kill(n, 0) == nil {
				continue
			}
			stale[e.Name()] = true
		}
	}
	for name := range stale {
		if g, err := cgroups.Open(parent, name); err == nil {
			g.Kill()
			g.Remove()
		}
	}
}

// streams are the init's stdio; a nil *os.File must not become a
// non-nil io.Reader or io.Writer, which os/exec would try to use.
func (pc PrestartConfig) streams() stdio {
	var s stdio
	if pc.Stdin != nil {
		s.in = pc.Stdin
	}
	if pc.Stdout != nil {
		s.out = pc.Stdout
	}
	if pc.Stderr != nil {
		s.err = pc.Stderr
	}
	return s
}
