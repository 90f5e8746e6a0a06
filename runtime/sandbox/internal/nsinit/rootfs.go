package nsinit

import (
	"errors"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/beneath"
)

// setupRootfs runs in the init's fresh mount namespace: it mounts the
// overlay on the init layer of st (staged before the spec was known, or
// nil), moves /dev, /sys and, with proc, /proc from the stage into it
// (without, MountProc mounts /proc later), pivots into it
// and adds the user's mounts. Bind sources are captured (open_tree) before
// the pivot, while the host is still visible; every target is resolved
// after it, inside the new root, so a symlink in the image can never point
// a mount at the host.
func setupRootfs(s *Spec, st *stage, proc bool) (err error) {
	if st != nil && st.root != s.RootfsDir {
		st.discard()
		st = nil
	}
	if st == nil {
		if st, err = newStage(s.RootfsDir, false, proc); err != nil {
			return err
		}
	}
	defer func() {
		if err != nil {
			st.discard()
		} else {
			st.release()
		}
	}()
	if err := st.fit(s); err != nil {
		return err
	}
	binds := s.BindFDs
	s.BindFDs = nil
	if binds == nil {
		if binds, err = CloneBinds(s.Mounts); err != nil {
			return err
		}
	}
	// Those not attached (a failure on the way) are closed.
	defer func() { CloseFDs(binds) }()
	if err := finishInitLayer(s, st); err != nil {
		return err
	}
	fileMounts, fileBinds, err := captureFiles(s, st)
	if err != nil {
		return err
	}
	// The runtime's files come first, so a user's mount over one wins.
	binds = append(fileBinds, binds...)
	s.Mounts = append(fileMounts, s.Mounts...)
	if err := st.hold(); err != nil {
		return err
	}
	if err := mountOverlay(s, st.layer); err != nil {
		return err
	}
	if err := st.moveInto(); err != nil {
		return err
	}
	if err := pivotRoot(s.RootfsDir); err != nil {
		return err
	}
	for i, m := range s.Mounts {
		fd := binds[i]
		binds[i] = -1 // mountUser closes it
		if err := mountUser(m, fd); err != nil {
			return err
		}
	}
	if s.ReadOnly {
		return readOnlyRoot(s.Cwd)
	}
	return nil
}

// readOnlyRoot makes the root mount read-only, as Docker's --read-only:
// the mounts on it (/proc, /dev, /dev/shm, tmpfs, volumes, binds) keep
// their own modes. The working directory is made first, while it still
// can be (Docker makes it at create).
func readOnlyRoot(cwd string) error {
	if cwd != "" {
		if err := mkdirAll(cwd); err != nil {
			return wrap("create working directory "+cwd, err)
		}
	}
	if err := unix.MountSetattr(unix.AT_FDCWD, "/", 0, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return wrap("make the root file system read-only", err)
	}
	return nil
}

// CloneBinds captures the sources of the bind mounts among mounts, in the
// calling thread's mount namespace: one descriptor per mount, -1 for
// other types. On failure none is left open.
func CloneBinds(mounts []Mount) ([]int, error) {
	fds := make([]int, len(mounts))
	for i := range fds {
		fds[i] = -1
	}
	for i, m := range mounts {
		if m.Type != "bind" {
			continue
		}
		fd, err := cloneMount(m.Source, m.SubPath, m.ReadOnly)
		if err != nil {
			CloseFDs(fds)
			return nil, err
		}
		fds[i] = fd
	}
	return fds, nil
}

// CloseFDs closes the descriptors of fds that are open (not -1).
func CloseFDs(fds []int) {
	for i, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
			fds[i] = -1
		}
	}
}

// cloneMount captures a detached copy of the mount tree at src, or at
// subPath beneath it (a bind mount not yet attached anywhere), nodev (see
// populateDev) and read-only if asked.
func cloneMount(src, subPath string, readOnly bool) (int, error) {
	dir, name := unix.AT_FDCWD, src
	if subPath != "" {
		// Beneath the source: a folder of a shared volume swapped for
		// a link to "/" fails here instead of handing the container
		// the host's root.
		fd, err := beneath.Open(src, subPath)
		if err != nil {
			return -1, wrap("bind mount source "+src+": subPath "+subPath+" (it must stay inside)", err)
		}
		defer unix.Close(fd)
		dir, name, src = fd, "", src+"/"+subPath
	}
	fd, err := unix.OpenTree(dir, name, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if err != nil {
		return -1, wrap("bind mount source "+src, err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NODEV}
	if readOnly {
		attr.Attr_set |= unix.MOUNT_ATTR_RDONLY
	}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		unix.Close(fd)
		return -1, wrap("set nodev/read-only on bind mount of "+src, err)
	}
	return fd, nil
}

// maxMountData is the size of the page the kernel copies mount options
// into (one byte for the terminating NUL).
const maxMountData = 4095

// initFiles are the files of Docker's init layer, made only when a mount
// will cover them (otherwise they would hide the image's own).
var initFiles = []string{"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}

// finishInitLayer completes Docker's "init layer", the tmpfs st mounted at
// RootfsDir (beneath where the overlay goes; st.layer is its descriptor).
// It holds the mount points the container always gets,
// /proc, /dev and /sys, and the /etc files a mount will cover (made only
// then: otherwise they would hide the image's own): here, those of the
// user's binds; captureFiles writes the runtime's own. As the overlay's top
// lower layer it keeps these out of the container layer, so an image
// without them (FROM scratch) does not have them copied into its
// containers' layers, nor into commits.
func finishInitLayer(s *Spec, st *stage) error {
	dir := st.base
	for _, f := range initFiles {
		for _, m := range s.Mounts {
			if m.Type == "bind" && path.Clean(m.Target) == f {
				if err := mkdirAll(dir + path.Dir(f)); err != nil {
					return wrap("init layer: create "+path.Dir(f), err)
				}
				if err := touch(dir + f); err != nil {
					return wrap("init layer: create "+f, err)
				}
			}
		}
	}
	return nil
}

// mountOverlay mounts the container's overlay at RootfsDir. Layers come top
// first in lowerdir, the init layer (a descriptor) above the image's. When the options would not fit in one page (100+
// layers with long paths) or a path holds a character overlayfs treats as
// a separator (',' ':'), every directory is opened and named by its short
// descriptor number relative to /proc/self/fd, our working directory for
// the mount call only (this process is the container's own init).
func mountOverlay(s *Spec, initLayer int) error {
	dirs := make([]string, 0, len(s.LowerDirs)+3)
	dirs = append(dirs, "/proc/self/fd/"+strconv.Itoa(initLayer))
	for i := len(s.LowerDirs) - 1; i >= 0; i-- {
		dirs = append(dirs, s.LowerDirs[i])
	}
	dirs = append(dirs, s.UpperDir, s.WorkDir)
	opts := overlayOptions(dirs)
	if len(opts) > maxMountData || strings.ContainsAny(strings.Join(dirs, ""), ":,") {
		short := make([]string, len(dirs))
		short[0] = strconv.Itoa(initLayer)
		for i := 1; i < len(dirs); i++ {
			d := dirs[i]
			fd, err := unix.Open(d, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return wrap("overlay: open "+d, err)
			}
			defer unix.Close(fd)
			short[i] = strconv.Itoa(fd)
		}
		opts = overlayOptions(short)
		if len(opts) > maxMountData {
			return errors.New("overlay: " + strconv.Itoa(len(s.LowerDirs)) + " layers do not fit in the mount options even with short names")
		}
		if err := unix.Chdir("/proc/self/fd"); err != nil {
			return wrap("overlay: chdir /proc/self/fd", err)
		}
		defer unix.Chdir("/")
	}
	if s.Volatile {
		if err := ClearVolatileMark(s.WorkDir); err != nil {
			return err
		}
		// Kernels before 5.10 do not know the option: then the overlay
		// syncs as usual.
		if unix.Mount("overlay", s.RootfsDir, "overlay", unix.MS_NODEV, opts+",volatile") == nil {
			return nil
		}
	}
	if err := unix.Mount("overlay", s.RootfsDir, "overlay", unix.MS_NODEV, opts); err != nil {
		return wrap("mount overlay of "+strconv.Itoa(len(s.LowerDirs))+" layers on "+s.RootfsDir+" (upperdir "+s.UpperDir+")", err)
	}
	return nil
}

// VolatileMark is where a volatile overlay marks its work dir. The mark
// stays after the unmount, and overlayfs refuses to mount that work dir
// again while it is there: only whoever knows the host has not crashed
// since may clear it.
const VolatileMark = "work/incompat/volatile"

// ClearVolatileMark removes the mark (overlayfs makes it a folder holding
// one empty file, "dirty"), and nothing else: anything more in it makes
// the mount fail as overlayfs would.
func ClearVolatileMark(workDir string) error {
	mark := workDir + "/" + VolatileMark
	if err := unix.Unlinkat(unix.AT_FDCWD, mark+"/dirty", 0); err != nil && err != unix.ENOENT {
		return wrap("clear the volatile mark "+mark, err)
	}
	if err := unix.Rmdir(mark); err != nil && err != unix.ENOENT {
		return wrap("clear the volatile mark "+mark, err)
	}
	return nil
}

// overlayOptions formats lowerdirs (top first), then upperdir and workdir.
func overlayOptions(dirs []string) string {
	n := len(dirs)
	return "lowerdir=" + strings.Join(dirs[:n-2], ":") + ",upperdir=" + dirs[n-2] + ",workdir=" + dirs[n-1]
}

// pivotRoot makes rootfs (a mount point) the root and detaches the old
// root without needing a directory for it (runc's pivot_root(".", ".")).
func pivotRoot(rootfs string) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(oldroot)
	if err := unix.Chdir(rootfs); err != nil {
		return wrap("pivot_root: chdir "+rootfs, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return wrap("pivot_root to "+rootfs, err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return err
	}
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return wrap("pivot_root: make old root slave", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return wrap("pivot_root: detach old root", err)
	}
	return unix.Chdir("/")
}
