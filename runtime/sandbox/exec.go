package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/osthread"
	"github.com/reconciler/reconciler/runtime/cgroups"
	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// execNamespaces are joined by the thread that starts the exec helper, so
// the helper is born in them (pid: as a member of the container's PID
// namespace). The mount namespace is joined by the helper itself, once it
// has been exec'd from the host's file system.
var execNamespaces = []struct {
	name string
	flag int
}{{"ipc", unix.CLONE_NEWIPC}, {"uts", unix.CLONE_NEWUTS}, {"net", unix.CLONE_NEWNET}, {"pid", unix.CLONE_NEWPID}}

// Exec starts p inside the running container whose init (the user's
// program, PID 1 inside) is proc, its /proc directory pinned by OpenProc:
// in its mount, pid, uts, ipc and net namespaces and its cgroups, read
// through proc (never by PID), with the same capability set and
// no_new_privs as the init. It returns once p's program has been exec'd.
//
// A dedicated OS thread joins the namespaces, starts the helper and is
// then thrown away, so the caller's threads never change.
func Exec(proc *os.File, p ExecConfig) (*Process, error) {
	return execIn(proc, p, nil)
}

// OpenProc pins process pid: its /proc directory stays that process's
// even once the PID is reused (what is read through it then fails), so
// the caller can check it is the container's init before using it.
func OpenProc(pid int) (*os.File, error) {
	fd, err := unix.Open(fmt.Sprintf("/proc/%d", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sandbox: process %d is gone: %w", pid, err)
	}
	return os.NewFile(uintptr(fd), fmt.Sprintf("/proc/%d", pid)), nil
}

// execIn is Exec; hold, if set, runs after the helper joined the cgroup
// and before it is told what to run (tests use it to inspect the helper).
func execIn(proc *os.File, p ExecConfig, hold func(helperPid int) error) (*Process, error) {
	where := proc.Name()
	if len(p.Args) == 0 {
		return nil, fmt.Errorf("sandbox: exec in %s: no command given", where)
	}
	g, err := cgroups.OfProc(proc)
	if err != nil {
		return nil, fmt.Errorf("sandbox: exec in %s: %w", where, err)
	}
	open := func(ns string) (*os.File, error) {
		fd, err := unix.Openat(int(proc.Fd()), "ns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("sandbox: exec in %s: container is not running: %w", where, err)
		}
		return os.NewFile(uintptr(fd), where+"/ns/"+ns), nil
	}
	mnt, err := open("mnt")
	if err != nil {
		return nil, err
	}
	defer mnt.Close()
	var nsFiles []*os.File
	defer func() {
		for _, f := range nsFiles {
			f.Close()
		}
	}()
	for _, ns := range execNamespaces {
		f, err := open(ns.name)
		if err != nil {
			return nil, err
		}
		nsFiles = append(nsFiles, f)
	}
	join := g.Add
	if hold != nil {
		join = func(pid int) error {
			if err := g.Add(pid); err != nil {
				return err
			}
			return hold(pid)
		}
	}
	spec := &nsinit.Spec{Args: p.Args, Env: p.Env, Cwd: p.Cwd, User: p.User}
	if err := setConsole(spec, p.Tty, p.ConsoleSize); err != nil {
		return nil, fmt.Errorf("sandbox: exec in %s: %w", where, err)
	}
	if err := setLimitsSpec(spec, p.Ulimits, p.CapDrop); err != nil {
		return nil, fmt.Errorf("sandbox: exec in %s: %w", where, err)
	}
	type result struct {
		cmd     *exec.Cmd
		console *os.File
		err     error
	}
	done := make(chan result, 1)
	// Never unlocked: the goroutine exits locked and the runtime destroys
	// the thread with its changed namespaces.
	osthread.Go(func() {
		for i, ns := range execNamespaces {
			if err := unix.Setns(int(nsFiles[i].Fd()), ns.flag); err != nil {
				done <- result{err: fmt.Errorf("join %s namespace: %w", ns.name, err)}
				return
			}
		}
		// The helper is moved into the container's cgroup, not born
		// there: a thread of ours that joined a group with limits would
		// be charged there, and the OOM killer of a full group could
		// pick this whole process for it.
		cmd, console, err := launch(nsinit.RoleExec, spec, &syscall.SysProcAttr{Setsid: true},
			stdio{p.Stdin, p.Stdout, p.Stderr}, join, mnt)
		done <- result{cmd, console, err}
	})
	r := <-done
	if r.err != nil {
		return nil, fmt.Errorf("sandbox: exec %q in %s: %w", p.Args[0], where, r.err)
	}
	started := newProcess(r.cmd)
	started.console = r.console
	return started, nil
}
