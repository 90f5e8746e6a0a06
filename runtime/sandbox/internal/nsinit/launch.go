package nsinit

import (
	"errors"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Launching without an init process.
//
// Launch does the init's work (namespaces, mounts, pivot_root, hostname,
// loopback, user, terminal, capabilities, no_new_privs, seccomp) on the
// calling thread of the runtime itself, and forks the program straight
// from that thread: no second Go runtime is loaded and initialized for
// each container, which is most of what a start costs.
//
// The thread is changed for good and must be thrown away: the caller
// locks it and lets its goroutine end locked (package osthread). The
// program is forked as PID 1 of a new PID namespace and traced, so the
// kernel stops it before its first instruction (the SIGTRAP a traced
// exec gets). A /proc can show a PID namespace only once it has a
// process, so MountProc mounts it then, from another thread (this one's
// seccomp filter forbids mounts); the caller also puts the program in its
// cgroup and sets its limits. Launch tells it the PID as soon as the
// program is forked, while it waits for that stop itself. Detach, on
// Launch's thread, lets it run.
//
//	osthread.Go(func() {
//		l, err := nsinit.Launch(nil, spec, stdio, tasks, func(pid int) {
//			// ... hand pid over, to MountProc and the limits
//		})
//		// ... once they are done:
//		l.Detach()
//	})
//
// Stage does the part that does not depend on the container ahead, on the
// thread that launches it later: the namespaces, lo, /dev and /sys. With
// LockDown, the thread loads its seccomp filter ahead too (a JIT compile,
// 0.3 to 0.6 ms on a VM), and can then mount nothing: MountRoot, from
// another thread that joins its mount namespace, sets up the container's
// root before the launch.
//
//	osthread.Go(func() {
//		ahead, err := nsinit.Stage(rootfsDir)
//		err = ahead.LockDown()
//		// ... wait for the container; on another thread, thrown away
//		// after: nsinit.MountRoot(ahead, spec). Then, back here:
//		l, err := nsinit.Launch(ahead, spec, stdio, tasks)
//	})

// ErrUntraceable: the program could not be forked traced (the runtime
// itself is traced, say by strace -f, or a policy forbids ptrace). The
// caller starts the container with an init process instead.
var ErrUntraceable = errors.New("the program could not be started traced")

// Launched is a program stopped before its first instruction.
type Launched struct {
	Pid int
	// Console is the master of the program's terminal (-1 without Tty).
	Console int
	// MountNS is the container's mount namespace.
	MountNS int
}

// Tasks are open tasks files of cgroup v1 groups, one per hierarchy: the
// container's (Into) and the launching thread's own (Home). The thread
// joins Into just before the fork, so the program is born in its group (a
// process moved there later waits on a global lock: see
// cgroups.Group.Start), and goes Home right after, so nothing of the
// runtime is left in a group whose processes may be killed. Both are
// empty on cgroup v2, where the caller moves the program.
type Tasks struct{ Into, Home []int }

// joinTasks moves this thread into the group whose tasks files these are.
func joinTasks(fds []int) error {
	for _, fd := range fds {
		if _, err := unix.Write(fd, []byte("0")); err != nil {
			return err
		}
	}
	return nil
}

// Launchable says whether this kernel can mount a /proc for the PID
// namespace of another process (procfs's pidns option, Linux 6.15), which
// a launch needs. Where it cannot, containers start with an init process.
func Launchable() bool {
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return false
	}
	defer unix.Close(fs)
	ns, err := unix.Open("/proc/thread-self/ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(ns)
	return unix.FsconfigSetFd(fs, "pidns", ns) == nil
}

// launchNamespaces are the namespaces a launching thread unshares (and a
// new network namespace unless the container uses the host's).
const launchNamespaces = unix.CLONE_FS | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWPID

// Staged is what Stage did ahead on its thread.
type Staged struct {
	st *stage // nil without a root to stage at
	// hostNet is the host's network namespace, which a container on the
	// host's network joins again.
	hostNet int
	// bounding is what the thread's bounding set still holds: no
	// capability beyond Docker's defaults, whatever the container.
	bounding uint64
	// mntNS is the thread's mount namespace, the container's.
	mntNS int
	// lockedDown: the thread has no_new_privs and its seccomp filter
	// (LockDown); mounted: MountRoot has set up the container's root in
	// its namespace, and taken st.
	lockedDown, mounted bool
}

// Stage does on the calling thread, before its container is known, the
// part of Launch that does not depend on it: it unshares the namespaces
// (the network's too, with lo up: a container on the host's network
// joins the host's again) and stages /dev and /sys at root, the RootfsDir
// the spec will have ("" for none; a spec with another stages again).
// Launch follows on the same thread. The thread is changed even when Stage
// fails: throw it away.
func Stage(root string) (a *Staged, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("panic in container staging: " + panicString(r))
		}
	}()
	hostNet, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, wrap("open the host's network namespace", err)
	}
	a = &Staged{hostNet: hostNet, mntNS: -1}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if err := unshareNamespaces(true); err != nil {
		return nil, err
	}
	if a.mntNS, err = unix.Open("/proc/thread-self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		return nil, wrap("open the container's mount namespace", err)
	}
	// The bounding set limits what a program this thread execs gets, not
	// the thread's own capabilities (which the launch still needs).
	if err := limitBoundingSet(DefaultCaps, allCaps); err != nil {
		return nil, err
	}
	a.bounding = DefaultCaps
	if root != "" {
		if a.st, err = newStage(root, true, false); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Close lets go of what a stage holds that Launch did not take.
func (a *Staged) Close() {
	for _, fd := range []*int{&a.hostNet, &a.mntNS} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

// LockDown sets no_new_privs and loads the seccomp filter on the staging
// thread, which must call it after Stage. The thread can then no longer
// mount, nor join the host's network: the container's root is set up by
// MountRoot, and some containers cannot use the stage (see Fits).
func (a *Staged) LockDown() error {
	if err := lockDown(); err != nil {
		return err
	}
	a.lockedDown = true
	return nil
}

// LockedDown says whether the stage's thread is locked down (a nil stage
// is not).
func (a *Staged) LockedDown() bool { return a != nil && a.lockedDown }

// Fits says whether a locked-down stage can launch the container of s:
// not on the host's network (which its thread can no longer join), nor
// at another RootfsDir than staged. Any other stage can.
func (a *Staged) Fits(s *Spec) bool {
	return !a.LockedDown() || s.Network != NetworkHost && a.st != nil && a.st.root == s.RootfsDir
}

// MountRoot sets up the container's root (the overlay with the staged
// /dev and /sys in it, the pivot and the user's mounts) in the mount
// namespace of a locked-down stage that Fits s, from the calling thread,
// which joins that namespace and then goes back to its own, at its root:
// like Launch's, the thread must be thrown away after. Launch, on the
// stage's thread, goes on from there. The mounts take s.BindFDs, unless
// it fails before them.
func MountRoot(a *Staged, s *Spec) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("panic in container mount: " + panicString(r))
		}
	}()
	if !a.LockedDown() || !a.Fits(s) {
		return errors.New("MountRoot: the stage is not locked down, or does not fit the container")
	}
	home, err := unix.Open("/proc/thread-self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return wrap("open the host's mount namespace", err)
	}
	defer unix.Close(home)
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return wrap("unshare fs", err)
	}
	if err := unix.Setns(a.mntNS, unix.CLONE_NEWNS); err != nil {
		return wrap("join the container's mount namespace", err)
	}
	old := syscall.Umask(0) // as unshareNamespaces
	defer syscall.Umask(old)
	st := a.st
	a.st = nil
	if err := setupRootfs(s, st, false); err != nil {
		return err
	}
	if err := unix.Setns(home, unix.CLONE_NEWNS); err != nil {
		return wrap("leave the container's mount namespace", err)
	}
	a.mounted = true
	return nil
}

// Launch sets up the container of s on the calling thread and forks its
// program with stdio as its standard streams (ignored with Tty), in the
// cgroup of tasks, stopped (see the comment above). ahead is what Stage
// did on this thread, or nil. forked (if not nil) is called with the
// program's PID once it is forked, exec'd but perhaps not yet stopped:
// it runs none of its own instructions until Detach. On failure the
// program is not running (if forked was called, it ran and was killed).
func Launch(ahead *Staged, s *Spec, stdio [3]int, tasks Tasks, forked func(pid int)) (l *Launched, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("panic in container launch: " + panicString(r))
		}
		CloseFDs(s.BindFDs) // unless the mounts took them
	}()
	// The host's /proc, to find this thread's namespace after the pivot
	// (a stage has it open).
	proc := -1
	if ahead == nil {
		if proc, err = unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
			return nil, wrap("open /proc", err)
		}
		defer unix.Close(proc)
	}
	var st *stage
	bounding := uint64(allCaps)
	lockedDown := ahead.LockedDown()
	switch {
	case lockedDown:
		defer ahead.Close()
		bounding = ahead.bounding
		if !ahead.mounted {
			return nil, errors.New("launch from a locked-down stage before MountRoot")
		}
		// MountRoot pivoted this thread's root along with its own; its
		// working directory may be the host's folder it was in.
		if err := unix.Chdir("/"); err != nil {
			return nil, wrap("chdir to the container's root", err)
		}
	case ahead != nil:
		defer ahead.Close()
		bounding = ahead.bounding
		if err := ahead.fit(s); err != nil {
			return nil, err
		}
		st = ahead.st
	default:
		if err := unshareNamespaces(s.Network != NetworkHost); err != nil {
			return nil, err
		}
	}
	if !lockedDown {
		if err := setupRootfs(s, st, false); err != nil {
			return nil, err
		}
	}
	if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
		return nil, wrap("set hostname "+strconv.Quote(s.Hostname), err)
	}
	p, err := findProgram(s)
	if err != nil {
		return nil, err
	}
	mnt := -1
	if ahead != nil {
		mnt, ahead.mntNS = ahead.mntNS, -1
	} else if mnt, err = unix.Openat(proc, "thread-self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		return nil, wrap("open the container's mount namespace", err)
	}
	l = &Launched{Pid: -1, Console: -1, MountNS: mnt}
	fail := func(err error) (*Launched, error) {
		l.Close()
		return nil, err
	}
	groups := make([]uint32, len(p.user.Groups))
	for i, g := range p.user.Groups {
		groups[i] = uint32(g)
	}
	attr := &syscall.SysProcAttr{Setsid: true, Ptrace: true,
		Credential: &syscall.Credential{Uid: uint32(p.user.Uid), Gid: uint32(p.user.Gid), Groups: groups}}
	files := []uintptr{uintptr(stdio[0]), uintptr(stdio[1]), uintptr(stdio[2])}
	if s.Tty {
		master, slave, _, err := openConsole(p.user.Uid, s.Rows, s.Cols)
		if err != nil {
			return fail(err)
		}
		defer unix.Close(slave)
		l.Console = master
		files = []uintptr{uintptr(slave), uintptr(slave), uintptr(slave)}
		attr.Setctty = true // fd 0 of the program, a session leader
	}
	if err := confineThread(DefaultCaps&^s.CapDrop, bounding, lockedDown); err != nil {
		return fail(err)
	}
	syscall.Umask(0o022)
	if err := joinTasks(tasks.Into); err != nil {
		joinTasks(tasks.Home)
		return fail(wrap("join the container's cgroup", err))
	}
	pid, err := syscall.ForkExec(p.path, s.Args, &syscall.ProcAttr{Dir: p.cwd, Env: p.env, Files: files, Sys: attr})
	herr := joinTasks(tasks.Home)
	if err == syscall.EPERM {
		// PTRACE_TRACEME, most likely, not the exec.
		return fail(ErrUntraceable)
	}
	if err != nil {
		return fail(execFailure(p.path, err))
	}
	l.Pid = pid
	if forked != nil {
		forked(pid)
	}
	if herr != nil {
		unix.Kill(pid, unix.SIGKILL)
		var ws syscall.WaitStatus
		wait4(pid, &ws)
		return fail(wrap("leave the container's cgroup", herr))
	}
	if err := awaitExecStop(pid); err != nil {
		return fail(err)
	}
	// Should the runtime die before Detach, the program dies too: it
	// must never run without its /proc and limits.
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_EXITKILL); err != nil {
		return fail(wrap("ptrace the program", err))
	}
	return l, nil
}

// unshareNamespaces unshares a container's namespaces on this thread, and
// with newNet a network namespace too, lo up.
func unshareNamespaces(newNet bool) error {
	flags := launchNamespaces
	if newNet {
		flags |= unix.CLONE_NEWNET
	}
	if err := unix.Unshare(flags); err != nil {
		return wrap("unshare namespaces", err)
	}
	syscall.Umask(0) // see run
	if newNet {
		return loopbackUp()
	}
	return nil
}

// fit adapts what was staged to s: a container on the host's network
// joins it, and then has its /sys mounted again (see stage.fit).
func (a *Staged) fit(s *Spec) error {
	if s.Network != NetworkHost {
		return nil
	}
	if err := unix.Setns(a.hostNet, unix.CLONE_NEWNET); err != nil {
		return wrap("join the host's network namespace", err)
	}
	s.JoinHostNet = true
	return nil
}

// confineThread gives the program this thread forks Docker's
// confinement: a bounding set of caps (at exec, a root program's
// capabilities) and no ambient or inheritable ones, no_new_privs and the
// seccomp filter. The thread's own effective capabilities stay, for the
// fork's setuid. bounding is as for limitBoundingSet.
func confineThread(caps, bounding uint64, lockedDown bool) error {
	if err := limitBoundingSet(caps, bounding); err != nil {
		return err
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return wrap("get capabilities", err)
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0 // CVE-2022-24769
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return wrap("clear inheritable capabilities", err)
	}
	if lockedDown {
		return nil
	}
	return lockDown()
}

// awaitExecStop waits for the traced program's stop after its exec; if
// it does not stop there it is killed and reaped.
func awaitExecStop(pid int) error {
	var ws syscall.WaitStatus
	_, err := wait4(pid, &ws)
	if err == nil && ws.Stopped() && ws.StopSignal() == syscall.SIGTRAP {
		return nil
	}
	if err == nil && ws.Stopped() {
		unix.Kill(pid, unix.SIGKILL)
		wait4(pid, &ws)
		return errors.New("the program stopped on signal " + ws.StopSignal().String() + " before its first instruction")
	}
	if err != nil {
		return wrap("wait for the program's exec", err)
	}
	return errors.New("the program ended before its first instruction")
}

func wait4(pid int, ws *syscall.WaitStatus) (int, error) {
	for {
		n, err := syscall.Wait4(pid, ws, syscall.WALL, nil)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// Detach lets the program run. It must be called on Launch's thread, the
// program's tracer.
func (l *Launched) Detach() error {
	if err := unix.PtraceDetach(l.Pid); err != nil {
		return wrap("let the program run (ptrace detach)", err)
	}
	return nil
}

// Close closes the descriptors Launch opened (after a failure, or those
// the caller did not take).
func (l *Launched) Close() {
	for _, fd := range []*int{&l.Console, &l.MountNS} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

const mountProcOp = "mount /proc into the container's root"

// MountProc mounts the /proc of a launched program's PID namespace in its
// container (the program's mount namespace), masked as Docker masks it.
// It joins that mount namespace: its thread must be thrown away after, as
// Launch's.
func MountProc(pid int) error {
	ns, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return wrap("open the container's PID namespace", err)
	}
	defer unix.Close(ns)
	mntNS, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return wrap("open the container's mount namespace", err)
	}
	defer unix.Close(mntNS)
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return wrap("unshare fs", err)
	}
	if err := unix.Setns(mntNS, unix.CLONE_NEWNS); err != nil {
		return wrap("join the container's mount namespace", err)
	}
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return wrap(mountProcOp+": fsopen", err)
	}
	defer unix.Close(fs)
	if err := unix.FsconfigSetFd(fs, "pidns", ns); err != nil {
		return wrap(mountProcOp+": set its PID namespace", err)
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return wrap(mountProcOp, err)
	}
	m, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return wrap(mountProcOp+": fsmount", err)
	}
	defer unix.Close(m)
	// Never through a symbolic link in the container's layer.
	at, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return wrap(mountProcOp+": open /proc", err)
	}
	defer unix.Close(at)
	if err := unix.MoveMount(m, "", at, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return wrap(mountProcOp, err)
	}
	return protectProc("")
}

// SetRlimits sets the ulimits of process pid.
func SetRlimits(pid int, rs []Rlimit) error { return setRlimits(pid, rs) }

// SetOOMScoreAdj sets the OOM score adjustment of process pid.
func SetOOMScoreAdj(pid, n int) error { return setOOMScoreAdj(strconv.Itoa(pid), n) }
