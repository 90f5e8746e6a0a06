package nsinit

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// StageEnv, when set for RoleInit, names the RootfsDir the init's spec
// will have: the init stages there before it reads its spec (package
// sandbox's Prestart), while it would otherwise only wait.
const StageEnv = "_RECONCILER_SANDBOX_STAGE"

// A stage is the container's init layer, mounted at the RootfsDir with the
// container's /proc, /dev and /sys already mounted in it, masked as Docker
// masks them: about forty mount calls, none of which depends on the
// container. Once the overlay covers the init layer, moveInto moves the
// three into the container's root, each with the mounts on it.
//
// The three are mounted from the init itself, in its own namespaces: /proc
// shows its PID namespace, /dev/mqueue its IPC namespace and /sys its
// network namespace, which is why an init that joins the host's network
// after staging (Spec.JoinHostNet) mounts /sys again.
type stage struct {
	root  string
	early bool // staged before the spec was read
	// layer is the init layer's mount (the tmpfs at root), and base the
	// path through it that every staging step takes instead of root:
	// should root be removed meanwhile (the state root deleted under a
	// waiting shim), that detaches the tmpfs from it, and the staging
	// goes on in the tmpfs, never in the host's file system.
	layer int
	base  string
	// dirs are the staged mount points; fds, O_PATH descriptors of the
	// roots of their mounts, by which they are moved once the overlay
	// hides them.
	dirs []string
	fds  []int
}

// newStage makes the mount namespace private, or a slave when early
// (either way nothing mounted here propagates to the host), and stages at
// root. Without proc, /proc is left
// to be mounted later (see MountProc): a PID namespace with no process
// yet cannot be shown.
func newStage(root string, early, proc bool) (*stage, error) {
	st := &stage{root: root, early: early, dirs: []string{"dev", "sys"}, layer: -1}
	mounts := []func(string) error{mountDev, mountSys}
	if proc {
		// /proc masks its paths with the staged /dev/null.
		st.dirs = []string{"dev", "proc", "sys"}
		mounts = []func(string) error{mountDev, mountProc, mountSys}
	}
	st.fds = []int{-1, -1, -1}[:len(st.dirs)]
	// Staged early, the namespace waits, perhaps for long: until the spec
	// comes it follows the host's mounts and unmounts (a volume's file
	// system mounted meanwhile must be seen by a bind, one unmounted must
	// not be held here), and fit makes it private.
	prop, what := uintptr(unix.MS_PRIVATE), "private"
	if early {
		prop, what = unix.MS_SLAVE, "a slave of the host's"
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|prop, ""); err != nil {
		return nil, wrap("make / "+what, err)
	}
	if err := st.mountLayer(); err != nil {
		st.discard()
		return nil, err
	}
	for _, d := range []string{"dev", "proc", "sys"} {
		if err := unix.Mkdirat(st.layer, d, 0o755); err != nil {
			st.discard()
			return nil, wrap("init layer: create /"+d, err)
		}
	}
	for _, mount := range mounts {
		if err := mount(st.base); err != nil {
			st.discard()
			return nil, err
		}
	}
	return st, nil
}

// mountLayer mounts the init layer, a tmpfs, at the stage's root.
func (st *stage) mountLayer() error {
	var err error
	if st.layer, err = detachedTmpfs("init layer", "1m"); err != nil {
		return err
	}
	st.base = "/proc/thread-self/fd/" + strconv.Itoa(st.layer)
	if err := unix.MoveMount(st.layer, "", unix.AT_FDCWD, st.root, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return wrap("mount init layer on "+st.root, err)
	}
	return nil
}

// fit adapts a stage made before the spec was known to s: the namespace
// private from now on, /dev/shm's size, and /sys mounted again for an
// init (or launching thread) that has joined the host's network since.
func (st *stage) fit(s *Spec) error {
	if st.early {
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			return wrap("make / private", err)
		}
	}
	if s.ShmSize > 0 {
		if err := resizeShm(st.base, s.ShmSize); err != nil {
			return err
		}
	}
	if st.early && s.JoinHostNet {
		if err := unix.Unmount(st.base+"/sys", unix.MNT_DETACH); err != nil {
			return wrap("unmount the staged /sys", err)
		}
		return mountSys(st.base)
	}
	return nil
}

// hold opens the staged mounts, before the overlay hides them.
func (st *stage) hold() error {
	for i, d := range st.dirs {
		fd, err := unix.Openat(st.layer, d, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return wrap("open the staged /"+d, err)
		}
		st.fds[i] = fd
	}
	return nil
}

// moveInto moves the staged mounts onto the same folders of the overlay
// now at the stage's root. The move follows no symbolic link: a "proc"
// that is a link in the container's layer fails it (EINVAL), it cannot
// send /proc to the host.
func (st *stage) moveInto() error {
	for i, d := range st.dirs {
		if err := unix.MoveMount(st.fds[i], "", unix.AT_FDCWD, st.root+"/"+d, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return wrap("move /"+d+" into the container's root", err)
		}
		unix.Close(st.fds[i])
		st.fds[i] = -1
	}
	return nil
}

// discard unmounts the stage (a spec with another RootfsDir, or a failed
// staging) and closes what it holds.
func (st *stage) discard() {
	for i, fd := range st.fds {
		if fd >= 0 {
			unix.Close(fd)
			st.fds[i] = -1
		}
	}
	if st.layer >= 0 {
		unix.Close(st.layer)
		st.layer = -1
		unix.Unmount(st.root, unix.MNT_DETACH)
	}
}

// release closes the init layer's descriptor once the overlay has it
// (see mountOverlay).
func (st *stage) release() {
	if st.layer >= 0 {
		unix.Close(st.layer)
		st.layer = -1
	}
}
