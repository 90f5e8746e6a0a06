package sandbox

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/cgroups"
	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// execNamespaces are joined in this order; mnt comes last because it
// changes the root and working directory of the joining thread.
var execNamespaces = []struct {
	name string
	flag int
}{{"ipc", unix.CLONE_NEWIPC}, {"uts", unix.CLONE_NEWUTS}, {"net", unix.CLONE_NEWNET}, {"pid", unix.CLONE_NEWPID}, {"mnt", unix.CLONE_NEWNS}}

// Exec starts p inside the running container whose init (the user's
// program, PID 1 inside) is pid on the host: in its mount, pid, uts, ipc
// and net namespaces and its cgroups, with the same capability set and
// no_new_privs as the init. It returns once p's program has been exec'd.
//
// The namespaces are entered by a dedicated OS thread that forks the
// helper and is then thrown away, so the caller's threads never change.
func Exec(pid int, p ExecConfig) (*Process, error) {
	return execIn(pid, p, nil)
}

// execIn is Exec; hold, if set, runs after the helper joined the cgroup and
// before it is told what to run (tests use it to inspect the helper).
func execIn(pid int, p ExecConfig, hold func(helperPid int) error) (*Process, error) {
	if len(p.Args) == 0 {
		return nil, fmt.Errorf("sandbox: exec in pid %d: no command given", pid)
	}
	if _, err := selfExe(); err != nil {
		return nil, err
	}
	g, err := cgroups.OfPid(pid)
	if err != nil {
		return nil, fmt.Errorf("sandbox: exec in pid %d: %w", pid, err)
	}
	// Opened now: the thread that starts the helper no longer sees the
	// host's /sys/fs/cgroup.
	procs, err := g.OpenProcs()
	if err != nil {
		return nil, fmt.Errorf("sandbox: exec in pid %d: %w", pid, err)
	}
	defer procs.Close()
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, ns := range execNamespaces {
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, ns.name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("sandbox: exec in pid %d: container is not running: %w", pid, err)
		}
		fds = append(fds, fd)
	}
	// os/exec opens /dev/null for missing streams in the calling thread,
	// which will be in the container's mount namespace: open the host's
	// now rather than whatever the container put at /dev/null.
	if p.Stdin == nil || p.Stdout == nil || p.Stderr == nil {
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		defer null.Close()
		if p.Stdin == nil {
			p.Stdin = null
		}
		if p.Stdout == nil {
			p.Stdout = null
		}
		if p.Stderr == nil {
			p.Stderr = null
		}
	}
	spec := &nsinit.Spec{Args: p.Args, Env: p.Env, Cwd: p.Cwd, User: p.User}
	type result struct {
		cmd *exec.Cmd
		err error
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: the goroutine exits locked and the runtime
		// destroys the thread with its changed namespaces.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			done <- result{err: fmt.Errorf("unshare fs: %w", err)}
			return
		}
		for i, ns := range execNamespaces {
			if err := unix.Setns(fds[i], ns.flag); err != nil {
				done <- result{err: fmt.Errorf("join %s namespace: %w", ns.name, err)}
				return
			}
		}
		join := procs.Add
		if hold != nil {
			join = func(pid int) error {
				if err := procs.Add(pid); err != nil {
					return err
				}
				return hold(pid)
			}
		}
		cmd, err := launch(nsinit.RoleExec, spec, &syscall.SysProcAttr{Setsid: true}, p.Stdin, p.Stdout, p.Stderr, join)
		done <- result{cmd, err}
	}()
	r := <-done
	if r.err != nil {
		return nil, fmt.Errorf("sandbox: exec %q in pid %d: %w", p.Args[0], pid, r.err)
	}
	return &Process{cmd: r.cmd}, nil
}
