package shim

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// launcher is the seam between the shim and how a container's process is
// started: the sandbox (namespaces, overlay rootfs, cgroups) in production,
// a plain host process in tests of the lifecycle itself.
type launcher interface {
	// start starts one run of the container with the given stdio (a nil
	// stdin is /dev/null); with Spec.Tty the stdio are nil and the
	// process has a console instead. It calls h's hooks (see runHooks).
	start(dir string, c *Config, stdin, stdout, stderr *os.File, h runHooks) (process, error)
	// cleanup releases what runs left behind (mounts, cgroup); idempotent.
	cleanup(dir string, c *Config) error
}

// runHooks are what a start calls back, each only if not nil.
type runHooks struct {
	// forked gets the process ID as soon as it is known, before start
	// returns.
	forked func(pid int)
	// hold is called once the run is set up, before its program runs
	// its first instruction (or before anything, where the launcher
	// cannot stop a program there); an error ends the start with it.
	hold func() error
}

// process is one running container process.
type process interface {
	pid() int
	// wait blocks until the process has exited; called once.
	wait() exitStatus
	signal(sig unix.Signal) error
	// console is the master of the run's terminal (Spec.Tty), else nil.
	console() *os.File
	// setResources changes the run's cgroup limits (a host process has
	// none: nothing to do).
	setResources(r Resources) error
	// release lets go of what the run holds past its exit (its mounts:
	// sandbox.Process.WaitExit), once the exit is recorded.
	release()
}

type exitStatus struct {
	code      int // 128+N when killed by signal N
	oomKilled bool
	err       error // the process could not be waited for
}

// launchers by config.Launcher.
var launchers = map[string]launcher{
	"":     sandboxLauncher{},
	"host": hostLauncher{},
}

func launcherFor(c *Config) (launcher, error) {
	l, ok := launchers[c.Launcher]
	if !ok {
		return nil, fmt.Errorf("unknown launcher %q in config", c.Launcher)
	}
	return l, nil
}

// startExitCode is Docker's exit code for a process that could not start:
// 127 when the command does not exist, 126 when it cannot be executed
// (the sandbox's StartError knows; host errors are checked with errors.Is).
func startExitCode(err error) int {
	var coded interface{ ExitCode() int }
	switch {
	case errors.As(err, &coded):
		return coded.ExitCode()
	case errors.Is(err, os.ErrNotExist), errors.Is(err, exec.ErrNotFound):
		return 127
	case errors.Is(err, os.ErrPermission):
		return 126
	}
	return 128
}

// hostLauncher runs the container's Args as a plain host process in its
// own process group: no isolation at all. Only tests select it.
type hostLauncher struct{}

func (hostLauncher) start(dir string, c *Config, stdin, stdout, stderr *os.File, h runHooks) (process, error) {
	if len(c.Spec.Args) == 0 {
		return nil, errors.New("no command given")
	}
	if c.Spec.Tty {
		return nil, errors.New("a terminal (Tty) needs the sandbox launcher")
	}
	if h.hold != nil {
		if err := h.hold(); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(c.Spec.Args[0], c.Spec.Args[1:]...)
	cmd.Env = c.Spec.Env
	cmd.Dir = c.Spec.Cwd
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if stdin != nil {
		cmd.Stdin = stdin
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &hostProcess{cmd: cmd}, nil
}

func (hostLauncher) cleanup(string, *Config) error { return nil }

type hostProcess struct{ cmd *exec.Cmd }

func (p *hostProcess) pid() int { return p.cmd.Process.Pid }

func (p *hostProcess) console() *os.File { return nil }

func (p *hostProcess) setResources(Resources) error { return nil }

func (p *hostProcess) release() {}

func (p *hostProcess) signal(sig unix.Signal) error {
	// The whole group, like a PID namespace's init taking its children.
	return unix.Kill(-p.cmd.Process.Pid, sig)
}

func (p *hostProcess) wait() exitStatus {
	err := p.cmd.Wait()
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return exitStatus{code: 128, err: err}
	}
	// Take the rest of the group with it, as a PID namespace would.
	unix.Kill(-p.cmd.Process.Pid, unix.SIGKILL)
	if ws.Signaled() {
		return exitStatus{code: 128 + int(ws.Signal())}
	}
	return exitStatus{code: ws.ExitStatus()}
}

// Cleanup releases what the container's runs left behind (its cgroup and
// anything still in it, a leftover mount); idempotent. Package runtime
// calls it on remove and when it finds a shim gone.
func Cleanup(dir string, c *Config) error {
	l, err := launcherFor(c)
	if err != nil {
		return err
	}
	return l.cleanup(dir, c)
}
