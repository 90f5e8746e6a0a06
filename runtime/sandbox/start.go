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
func Start(cfg Config) (*Process, error) {
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
	spec := &nsinit.Spec{
		LowerDirs: cfg.LowerDirs, UpperDir: cfg.UpperDir, WorkDir: cfg.WorkDir,
		RootfsDir: cfg.RootfsDir, Mounts: mounts,
		Args: cfg.Args, Env: cfg.Env, Cwd: cfg.Cwd, User: cfg.User,
		Hostname: hostname, Network: cfg.Network,
	}
	if err := setConsole(spec, cfg.Tty, cfg.ConsoleSize); err != nil {
		return nil, fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC)
	if cfg.Network != NetworkHost {
		flags |= unix.CLONE_NEWNET
	}
	attr := &syscall.SysProcAttr{Cloneflags: flags, Setsid: true}
	// The cgroup is made while the init's runtime boots, and the init is
	// in it before it learns what to run.
	var g *cgroups.Group
	join := func(pid int) (err error) {
		if old, err := cgroups.Open(cfg.CgroupParent, cfg.ID); err == nil {
			if pids, _ := old.Pids(); len(pids) > 0 {
				return fmt.Errorf("already running: its cgroup holds processes %v", pids)
			}
		}
		if g, err = cgroups.Create(cfg.CgroupParent, cfg.ID, cfg.Resources); err != nil {
			return err
		}
		return g.Add(pid)
	}
	stdio := stdio{cfg.Stdin, cfg.Stdout, cfg.Stderr}
	cmd, console, err := launch(nsinit.RoleInit, spec, attr, stdio, join, nil)
	if err != nil {
		if g != nil { // not when it was another container's
			g.Remove()
		}
		return nil, fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	return &Process{cmd: cmd, group: g, console: console}, nil
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
	if cfg.Network != "" && cfg.Network != NetworkNone && cfg.Network != NetworkHost {
		return fmt.Errorf("sandbox: container %s: network %q is not supported (use %q or %q)", cfg.ID, cfg.Network, NetworkNone, NetworkHost)
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

// launch starts role from the sealed copy of this binary with a config
// pipe (fd 3), a status pipe (fd 4), nsFD (fd 5, may be nil) and, when the
// spec asks for a terminal, the console socket (fd 6, nsinit.ConsoleFD).
// join is called with the child's pid before the spec is sent, so the
// child runs the user's program only once it is in its cgroup. The status
// pipe is close-on-exec in the child: EOF means the user's program was
// exec'd, anything written is the error. With a terminal, the streams are
// ignored and its master is returned.
func launch(role string, spec *nsinit.Spec, attr *syscall.SysProcAttr, std stdio, join func(pid int) error, nsFD *os.File) (*exec.Cmd, *os.File, error) {
	exe, err := selfExe()
	if err != nil {
		return nil, nil, err
	}
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	stR, stW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		cfgW.Close()
		return nil, nil, err
	}
	defer stR.Close()
	extra := []*os.File{cfgR, stW, nsFD}
	var consR *os.File
	if spec.Tty {
		std = stdio{}
		var consW *os.File
		if consR, consW, err = consoleSocket(); err != nil {
			cfgR.Close()
			cfgW.Close()
			stW.Close()
			return nil, nil, err
		}
		defer consR.Close()
		defer consW.Close()
		extra = append(extra, consW)
	}
	cmd := &exec.Cmd{
		Path: exe, Args: []string{argv0[role]}, Env: []string{nsinit.RoleEnv + "=" + role},
		Stdin: std.in, Stdout: std.out, Stderr: std.err,
		ExtraFiles:  extra,
		SysProcAttr: attr,
	}
	err = cmd.Start()
	cfgR.Close()
	stW.Close()
	if err != nil {
		cfgW.Close()
		return nil, nil, fmt.Errorf("start %s: %w", role, err)
	}
	fail := func(err error) (*exec.Cmd, *os.File, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, nil, err
	}
	if join != nil {
		if err := join(cmd.Process.Pid); err != nil {
			cfgW.Close()
			return fail(err)
		}
	}
	_, err = cfgW.Write(spec.Marshal())
	cfgW.Close()
	msg, rerr := io.ReadAll(stR)
	if len(msg) > 0 {
		return fail((*StartError)(nsinit.UnmarshalFailure(msg)))
	}
	if err != nil {
		return fail(fmt.Errorf("send config to %s: %w", role, err))
	}
	if rerr != nil {
		return fail(fmt.Errorf("read status of %s: %w", role, rerr))
	}
	if consR == nil {
		return cmd, nil, nil
	}
	console, err := receiveConsole(consR)
	if err != nil {
		return fail(err)
	}
	return cmd, console, nil
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
