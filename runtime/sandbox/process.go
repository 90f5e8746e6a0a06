package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"github.com/reconciler/reconciler/runtime/cgroups"
)

// Process is a started container init or exec'd process.
type Process struct {
	proc *os.Process
	// wait waits for the process's exit and for its streams' copying.
	wait  func() (*os.ProcessState, error)
	group *cgroups.Group // the container's own group; nil for an exec
	// console is the terminal's master (Tty only).
	console *os.File
	// mounts holds the init's mount namespace (nil for an exec) until
	// ReleaseMounts: see WaitExit.
	mounts   *os.File
	released sync.Once

	once   sync.Once
	status ExitStatus
	err    error
}

// ExitStatus is how a process ended.
type ExitStatus struct {
	// Code is the exit code, or 128+signal number when killed by a signal
	// (the shell's and Docker's convention).
	Code     int
	Signaled bool
	Signal   syscall.Signal
	// OOMKilled is true when the kernel's OOM killer killed a process of
	// the container's cgroup (always false for an exec).
	OOMKilled bool
}

// ReleaseMounts lets the container's mount namespace go (see WaitExit);
// it does nothing the second time, or for an exec.
func (p *Process) ReleaseMounts() {
	p.released.Do(func() {
		if p.mounts != nil {
			p.mounts.Close()
		}
	})
}

// Pid is the process ID as seen from the caller's PID namespace.
func (p *Process) Pid() int { return p.proc.Pid }

// Console is the master of the process's terminal when it was started
// with Tty (nil otherwise): reading it gives the output, writing it types
// input, ResizeConsole sizes it. The caller closes it.
func (p *Process) Console() *os.File { return p.console }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.proc.Signal(sig) }

// SetResources changes the limits of the container's cgroup (docker
// update): the group it was started in, not one looked up by its PID,
// which is another process's once this one has been waited for.
func (p *Process) SetResources(r cgroups.Resources) error {
	if p.group == nil {
		return errors.New("sandbox: an exec has no cgroup of its own")
	}
	return p.group.Set(r)
}

// Wait waits for the process to exit (and, for streams that are not
// *os.File, for their copying to finish), then releases its mounts. It
// may be called many times.
func (p *Process) Wait() (ExitStatus, error) {
	st, err := p.WaitExit()
	p.ReleaseMounts()
	return st, err
}

// WaitExit is Wait, but the container's mounts (its root overlay, /proc,
// /dev, /sys, volumes) stay until ReleaseMounts. When its init exits, a
// container's mount namespace is torn down unless something else holds
// it: unmounting the overlay syncs its upper directory's file system, and
// the unmounts wait for an RCU grace period, a millisecond or more here,
// on the exit's path. Held, they are torn down after, when the caller
// has recorded the exit. Call ReleaseMounts before the same layer is
// mounted again.
func (p *Process) WaitExit() (ExitStatus, error) {
	p.once.Do(func() {
		state, err := p.wait()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			p.err = fmt.Errorf("sandbox: wait for pid %d: %w", p.Pid(), err)
			return
		}
		ws, _ := state.Sys().(syscall.WaitStatus)
		switch {
		case ws.Signaled():
			p.status = ExitStatus{Code: 128 + int(ws.Signal()), Signaled: true, Signal: ws.Signal()}
		default:
			p.status = ExitStatus{Code: ws.ExitStatus()}
		}
		if p.group != nil {
			p.status.OOMKilled = p.group.OOMKilled(p.status.Signal == syscall.SIGKILL)
		}
	})
	return p.status, p.err
}

// newProcess is the Process of a helper-started cmd.
func newProcess(cmd *exec.Cmd) *Process {
	return &Process{proc: cmd.Process, wait: func() (*os.ProcessState, error) {
		err := cmd.Wait()
		return cmd.ProcessState, err
	}}
}

// ExitError is returned by Run for a program that exited non-zero.
type ExitError struct {
	Args   []string
	Status ExitStatus
}

func (e *ExitError) Error() string {
	switch {
	case e.Status.OOMKilled:
		return fmt.Sprintf("%q was killed by the OOM killer (memory limit reached): exit code %d", e.Args, e.Status.Code)
	case e.Status.Signaled:
		return fmt.Sprintf("%q was killed by signal %v: exit code %d", e.Args, e.Status.Signal, e.Status.Code)
	}
	return fmt.Sprintf("%q returned a non-zero code: %d", e.Args, e.Status.Code)
}

// ExitCode makes ExitError fit interfaces that ask for one.
func (e *ExitError) ExitCode() int { return e.Status.Code }
