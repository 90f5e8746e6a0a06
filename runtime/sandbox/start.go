package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/procopts"
	"github.com/reconciler/reconciler/runtime/cgroups"
	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// argv0 names the helpers' roles in ps until they exec the program.
var argv0 = map[string]string{
	nsinit.RoleInit: "reconciler-sandbox-init",
	nsinit.RoleExec: "reconciler-sandbox-exec",
}

// Start sets up and starts the container's init process. It returns once
// the user's program has been exec'd as PID 1 of the container, or an
// error naming what failed (a mount, the user, the program...), in which
// case nothing is left running and the cgroup is removed.
func Start(cfg Config) (*Process, error) { return start(cfg, nil) }

// start is Start, launched on t where cfg can start without an init (t is
// discarded otherwise; nil: none made ahead).
func start(cfg Config, t *launchThread) (*Process, error) {
	spec, err := newSpec(&cfg)
	if err != nil {
		t.discard()
		return nil, err
	}
	if !canLaunch(&cfg) {
		t.discard()
	} else {
		p, err := launchContainer(&cfg, spec, t)
		if !errors.Is(err, nsinit.ErrUntraceable) {
			return p, err
		}
		// The launch used the spec up.
		if spec, err = newSpec(&cfg); err != nil {
			return nil, err
		}
	}
	// An init process execs the program once set up: nothing to stop.
	if err := cfg.hold(); err != nil {
		return nil, err
	}
	flags := uintptr(namespaces)
	if cfg.Network != NetworkHost {
		flags |= unix.CLONE_NEWNET
	}
	attr := &syscall.SysProcAttr{Cloneflags: flags, Setsid: true}
	// The init is born in its cgroup; the limits apply before it learns
	// what to run (not earlier: its own runtime's threads count as pids).
	if err := checkNotRunning(&cfg); err != nil {
		return nil, fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	g, err := cgroups.Create(cfg.CgroupParent, cfg.ID, cgroups.Resources{})
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	h, err := spawn(nsinit.RoleInit, attr, helperStreams(stdio{cfg.Stdin, cfg.Stdout, cfg.Stderr}, cfg.Tty), nil, cfg.Tty, g)
	if err != nil {
		g.Remove()
		return nil, fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	return finishInit(&cfg, h, spec, setLimits(&cfg, g), &g)
}

// setLimits is the join step of an init already in its group g.
func setLimits(cfg *Config, g *cgroups.Group) func(int) error {
	return func(int) error {
		if cfg.Resources == (cgroups.Resources{}) {
			return nil
		}
		return g.Set(cfg.Resources)
	}
}

// namespaces are the ones every container gets; the network namespace
// depends on Config.Network.
const namespaces = unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC

// newSpec checks cfg and turns it into what the init is sent.
func newSpec(cfg *Config) (*nsinit.Spec, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	hostname := cfg.Hostname
	if hostname == "" {
		hostname = cfg.ID
		if len(hostname) > 12 {
			hostname = hostname[:12]
		}
	}
	mounts := make([]nsinit.Mount, len(cfg.Mounts))
	for i, m := range cfg.Mounts {
		mounts[i] = nsinit.Mount(m)
	}
	files := make([]nsinit.File, len(cfg.Files))
	for i, f := range cfg.Files {
		files[i] = nsinit.File(f)
	}
	spec := &nsinit.Spec{
		LowerDirs: cfg.LowerDirs, UpperDir: cfg.UpperDir, WorkDir: cfg.WorkDir,
		RootfsDir: cfg.RootfsDir, Mounts: mounts, Files: files,
		Args: cfg.Args, Env: cfg.Env, Cwd: cfg.Cwd, User: cfg.User,
		Hostname: hostname, Network: cfg.Network,
		ReadOnly: cfg.ReadonlyRootfs, ShmSize: cfg.ShmSize,
		OOMScoreAdj: cfg.OOMScoreAdj, Volatile: cfg.Volatile,
	}
	if cfg.Init != "" {
		addInit(spec, cfg.Init)
	}
	if err := setConsole(spec, cfg.Tty, cfg.ConsoleSize); err != nil {
		return nil, fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	if err := setLimitsSpec(spec, cfg.Ulimits, cfg.CapDrop); err != nil {
		return nil, fmt.Errorf("sandbox: container %s: %w", cfg.ID, err)
	}
	return spec, nil
}

// createGroup makes the container's cgroup, moves pid into it and sets
// the limits, refusing when a group of that ID still holds processes.
func createGroup(cfg *Config, pid int) (*cgroups.Group, error) {
	if err := checkNotRunning(cfg); err != nil {
		return nil, err
	}
	g, err := cgroups.Create(cfg.CgroupParent, cfg.ID, cgroups.Resources{})
	if err != nil {
		return nil, err
	}
	if err := g.Add(pid); err != nil {
		return g, err
	}
	return g, setLimits(cfg, g)(pid)
}

func checkNotRunning(cfg *Config) error {
	if old, err := cgroups.Open(cfg.CgroupParent, cfg.ID); err == nil {
		if pids, _ := old.Pids(); len(pids) > 0 {
			return fmt.Errorf("already running: its cgroup holds processes %v", pids)
		}
	}
	return nil
}

// finishInit sends the init its spec once join has put it in its cgroup
// (*g, removed again on failure unless it was another container's). The
// init's mount namespace is held from before (see Process.WaitExit): the
// init, our child, cannot have exited yet.
func finishInit(cfg *Config, h *helper, spec *nsinit.Spec, join func(pid int) error, g **cgroups.Group) (*Process, error) {
	mounts, _ := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", h.cmd.Process.Pid))
	if cfg.Forked != nil {
		cfg.Forked(h.cmd.Process.Pid)
	}
	cmd, console, err := h.finish(spec, join)
	if err != nil {
		if mounts != nil {
			mounts.Close()
		}
		if *g != nil {
			(*g).Remove()
		}
		return nil, fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	p := newProcess(cmd)
	p.group, p.console, p.mounts = *g, console, mounts
	return p, nil
}

// stdio are a helper's standard streams (see Config).
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

func (cfg *Config) validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"ID", cfg.ID}, {"UpperDir", cfg.UpperDir}, {"WorkDir", cfg.WorkDir}, {"RootfsDir", cfg.RootfsDir}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(cfg.Args) == 0 {
		missing = append(missing, "Args")
	}
	if len(cfg.LowerDirs) == 0 {
		missing = append(missing, "LowerDirs")
	}
	if len(missing) > 0 {
		return fmt.Errorf("sandbox: container %q: config lacks %v", cfg.ID, missing)
	}
	if len(cfg.Hostname) > 64 {
		return fmt.Errorf("sandbox: container %s: hostname %q is longer than 64 characters", cfg.ID, cfg.Hostname)
	}
	if cfg.Init != "" && !filepath.IsAbs(cfg.Init) {
		return fmt.Errorf("sandbox: container %s: init %q must be an absolute host path", cfg.ID, cfg.Init)
	}
	if err := procopts.CheckOOMScoreAdj(cfg.OOMScoreAdj); err != nil {
		return fmt.Errorf("sandbox: container %s: %w", cfg.ID, err)
	}
	if cfg.Network != "" && cfg.Network != NetworkNone && cfg.Network != NetworkHost {
		return fmt.Errorf("sandbox: container %s: network %q is not supported (use %q or %q)", cfg.ID, cfg.Network, NetworkNone, NetworkHost)
	}
	for i, f := range cfg.Files {
		if !filepath.IsAbs(f.Target) {
			return fmt.Errorf("sandbox: container %s: files[%d].target %q must be absolute", cfg.ID, i, f.Target)
		}
	}
	for i, m := range cfg.Mounts {
		if !filepath.IsAbs(m.Target) {
			return fmt.Errorf("sandbox: container %s: mounts[%d].target %q must be absolute", cfg.ID, i, m.Target)
		}
		switch m.Type {
		case "bind":
			if !filepath.IsAbs(m.Source) {
				return fmt.Errorf("sandbox: container %s: mounts[%d].source %q must be an absolute host path", cfg.ID, i, m.Source)
			}
		case "tmpfs":
		default:
			return fmt.Errorf("sandbox: container %s: mounts[%d].type %q is not supported (use bind or tmpfs)", cfg.ID, i, m.Type)
		}
	}
	return nil
}

// helper is an init or exec helper started from the sealed copy of this
// binary and waiting for its spec: a config pipe (its fd 3), a status pipe
// (fd 4), an optional namespace descriptor (fd 5) and, when it may need a
// terminal, a console socket (fd 6, nsinit.ConsoleFD). The status pipe is
// close-on-exec in the helper: EOF means the user's program was exec'd,
// anything written is the error.
type helper struct {
	cmd   *exec.Cmd
	cfgW  *os.File // config pipe, our end
	stR   *os.File // status pipe, our end
	consR *os.File // console socket, our end; nil without one
}

// spawn starts a helper for role. With a console socket the streams are
// still the helper's until a spec asking for a terminal replaces them.
// A non-nil g is the cgroup the helper is born in (cgroups.Group.Start);
// env adds to its environment (nsinit.StageEnv).
func spawn(role string, attr *syscall.SysProcAttr, std stdio, nsFD *os.File, console bool, g *cgroups.Group, env ...string) (*helper, error) {
	exe, err := selfExe()
	if err != nil {
		return nil, err
	}
	h := &helper{}
	var cfgR, stW, consW *os.File
	closeAll := func() {
		for _, f := range []*os.File{cfgR, h.cfgW, h.stR, stW, h.consR, consW} {
			if f != nil {
				f.Close()
			}
		}
	}
	if cfgR, h.cfgW, err = os.Pipe(); err != nil {
		return nil, err
	}
	if h.stR, stW, err = os.Pipe(); err != nil {
		closeAll()
		return nil, err
	}
	extra := []*os.File{cfgR, stW, nsFD}
	if console {
		if h.consR, consW, err = consoleSocket(); err != nil {
			closeAll()
			return nil, err
		}
		extra = append(extra, consW)
	}
	h.cmd = &exec.Cmd{
		Path: exe, Args: []string{argv0[role]}, Env: append([]string{nsinit.RoleEnv + "=" + role, OneProcEnv}, env...),
		Stdin: std.in, Stdout: std.out, Stderr: std.err,
		ExtraFiles:  extra,
		SysProcAttr: attr,
	}
	if g != nil {
		err = g.Start(h.cmd)
	} else {
		err = h.cmd.Start()
	}
	for _, f := range []*os.File{cfgR, stW, consW} {
		if f != nil {
			f.Close()
		}
	}
	cfgR, stW, consW = nil, nil, nil
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("start %s: %w", role, err)
	}
	return h, nil
}

// kill ends a helper that will not be used.
func (h *helper) kill() {
	h.cmd.Process.Kill()
	h.close()
	h.cmd.Wait()
}

func (h *helper) close() {
	for _, f := range []*os.File{h.cfgW, h.stR, h.consR} {
		if f != nil {
			f.Close()
		}
	}
}

// finish calls join with the helper's pid before sending spec, so the
// helper runs the user's program only once it is in its cgroup, and
// returns once the program runs. With a terminal, the streams are ignored
// and its master is returned.
func (h *helper) finish(spec *nsinit.Spec, join func(pid int) error) (*exec.Cmd, *os.File, error) {
	fail := func(err error) (*exec.Cmd, *os.File, error) {
		h.kill()
		return nil, nil, err
	}
	if spec.Tty && h.consR == nil {
		return fail(errors.New("a terminal was asked for, but the helper was started without a console socket"))
	}
	if join != nil {
		if err := join(h.cmd.Process.Pid); err != nil {
			return fail(err)
		}
	}
	_, err := h.cfgW.Write(spec.Marshal())
	h.cfgW.Close()
	msg, rerr := io.ReadAll(h.stR)
	if len(msg) > 0 {
		return fail((*StartError)(nsinit.UnmarshalFailure(msg)))
	}
	if err != nil {
		return fail(fmt.Errorf("send config: %w", err))
	}
	if rerr != nil {
		return fail(fmt.Errorf("read status: %w", rerr))
	}
	var console *os.File
	if spec.Tty {
		if console, err = receiveConsole(h.consR); err != nil {
			return fail(err)
		}
	}
	h.close()
	return h.cmd, console, nil
}

// helperStreams are std, or none with a terminal: os/exec would copy a
// reader's input into a pipe nobody reads once the terminal replaced it.
func helperStreams(std stdio, tty bool) stdio {
	if tty {
		return stdio{}
	}
	return std
}

// launch starts role with spec: spawn, then finish.
func launch(role string, spec *nsinit.Spec, attr *syscall.SysProcAttr, std stdio, join func(pid int) error, nsFD *os.File) (*exec.Cmd, *os.File, error) {
	h, err := spawn(role, attr, helperStreams(std, spec.Tty), nsFD, spec.Tty, nil)
	if err != nil {
		return nil, nil, err
	}
	return h.finish(spec, join)
}

// Cleanup removes what Start left behind on the host: it kills anything
// still in the container's cgroup, removes the cgroup and unmounts
// RootfsDir should it be mounted in the caller's namespace. It is
// idempotent and needs only ID, CgroupParent and RootfsDir, so it also
// works after a daemon restart.
func Cleanup(cfg Config) error {
	var errs []error
	if g, err := cgroups.Open(cfg.CgroupParent, cfg.ID); err != nil {
		errs = append(errs, err)
	} else {
		g.Kill()
		errs = append(errs, g.Remove())
	}
	if cfg.RootfsDir != "" {
		if err := unix.Unmount(cfg.RootfsDir, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
			errs = append(errs, fmt.Errorf("sandbox: unmount %s: %w", cfg.RootfsDir, err))
		}
	}
	return errors.Join(errs...)
}

// Run starts the container, waits for it and cleans up: the builder's RUN.
// A non-zero exit is an *ExitError. Cancelling ctx kills the container.
func Run(ctx context.Context, cfg Config) error {
	p, err := Start(cfg)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { p.Signal(syscall.SIGKILL) })
	st, err := p.Wait()
	stop()
	if cerr := Cleanup(cfg); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("container %s: %w", cfg.ID, ctx.Err())
	}
	if st.Code != 0 || st.OOMKilled {
		return &ExitError{Args: cfg.Args, Status: st}
	}
	return nil
}
