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
// program, PID 1 inside) is pid on the host: in its mount, pid, uts, ipc
// and net namespaces and its cgroups, with the same capability set and
// no_new_privs as the init. It returns once p's program has been exec'd.
//
// A dedicated OS thread joins the namespaces, starts the helper and is
// then thrown away, so the caller's threads never change.
func Exec(pid int, p ExecConfig) (*Process, error) {
	return execIn(pid, p, nil)
}

// execIn is Exec; hold, if set, runs after the helper joined the cgroup and
// before it is told what to run (tests use it to inspect the helper).
func execIn(pid int, p ExecConfig, hold func(helperPid int) error) (*Process, error) {
	if len(p.Args) == 0 {
		return nil, fmt.Errorf("sandbox: exec in pid %d: no command given", pid)
	}
	g, err := cgroups.OfPid(pid)
	if err != nil {
		return nil, fmt.Errorf("sandbox: exec in pid %d: %w", pid, err)
	}
	open := func(ns string) (*os.File, error) {
		f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
		if err != nil {
			return nil, fmt.Errorf("sandbox: exec in pid %d: container is not running: %w", pid, err)
		}
		return f, nil
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
		return nil, fmt.Errorf("sandbox: exec in pid %d: %w", pid, err)
	}
	if err := setLimitsSpec(spec, p.Ulimits, p.CapDrop); err != nil {
		return nil, fmt.Errorf("sandbox: exec in pid %d: %w", pid, err)
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
		// This thread, thrown away after, joins the cgroup itself, so the
		// helper is born there (no move waiting for an RCU grace period).
		joinNow := join
		if g.MoveThread() == nil {
			joinNow = hold
		}
		cmd, console, err := launch(nsinit.RoleExec, spec, &syscall.SysProcAttr{Setsid: true},
			stdio{p.Stdin, p.Stdout, p.Stderr}, joinNow, mnt)
		done <- result{cmd, console, err}
	})
	r := <-done
	if r.err != nil {
		return nil, fmt.Errorf("sandbox: exec %q in pid %d: %w", p.Args[0], pid, r.err)
	}
	return &Process{cmd: r.cmd, console: r.console}, nil
}
