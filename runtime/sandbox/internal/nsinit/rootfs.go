package nsinit

import (
	"errors"
	"path"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// setupRootfs runs in the init's fresh mount namespace: it mounts the
// overlay, pivots into it and builds /proc, /dev, /sys and the user's
// mounts. Bind sources are captured (open_tree) before the pivot, while the
// host is still visible; every target is resolved after it, inside the new
// root, so a symlink in the image can never point a mount at the host.
func setupRootfs(s *Spec) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return wrap("make / private", err)
	}
	binds := make([]int, len(s.Mounts))
	for i, m := range s.Mounts {
		binds[i] = -1
		if m.Type != "bind" {
			continue
		}
		fd, err := cloneMount(m.Source, m.ReadOnly)
		if err != nil {
			return err
		}
		binds[i] = fd
	}
	initLayer, err := mountInitLayer(s)
	if err != nil {
		return err
	}
	err = mountOverlay(s, initLayer)
	unix.Close(initLayer)
	if err != nil {
		return err
	}
	if err := pivotRoot(s.RootfsDir); err != nil {
		return err
	}
	if err := mountSpecial(); err != nil {
		return err
	}
	for i, m := range s.Mounts {
		if err := mountUser(m, binds[i]); err != nil {
			return err
		}
	}
	return nil
}

// cloneMount captures a detached copy of the mount tree at src (a bind
// mount not yet attached anywhere), nodev (see populateDev) and read-only
// if asked.
func cloneMount(src string, readOnly bool) (int, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
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

// mountInitLayer builds Docker's "init layer" on a tmpfs mounted at
// RootfsDir (beneath where the overlay goes): the mount points the
// container always gets, /proc, /dev, /sys and the /etc files it mounts.
// As the overlay's top lower layer it keeps these out of the container
// layer, so an image without them (FROM scratch) does not have them
// copied into its containers' layers, nor into commits. It returns a
// descriptor of the layer.
func mountInitLayer(s *Spec) (int, error) {
	dir := s.RootfsDir
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755,size=64k"); err != nil {
		return -1, wrap("mount init layer on "+dir, err)
	}
	for _, d := range []string{"proc", "dev", "sys"} {
		if err := syscall.Mkdir(dir+"/"+d, 0o755); err != nil {
			return -1, wrap("init layer: create /"+d, err)
		}
	}
	for _, f := range initFiles {
		for _, m := range s.Mounts {
			if m.Type == "bind" && path.Clean(m.Target) == f {
				if err := mkdirAll(dir + path.Dir(f)); err != nil {
					return -1, wrap("init layer: create "+path.Dir(f), err)
				}
				if err := touch(dir + f); err != nil {
					return -1, wrap("init layer: create "+f, err)
				}
			}
		}
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, wrap("open init layer", err)
	}
	return fd, nil
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
	if err := unix.Mount("overlay", s.RootfsDir, "overlay", unix.MS_NODEV, opts); err != nil {
		return wrap("mount overlay of "+strconv.Itoa(len(s.LowerDirs))+" layers on "+s.RootfsDir+" (upperdir "+s.UpperDir+")", err)
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

// Docker's masked and read-only paths (moby oci/defaults.go).
var (
	maskedPaths = []string{"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore",
		"/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"}
	readonlyPaths = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
)

const (
	nsd = unix.MS_NOSUID | unix.MS_NODEV
	nse = unix.MS_NOSUID | unix.MS_NOEXEC
)

// mountSpecial mounts /proc, a minimal /dev and a read-only /sys in the new
// root, then masks and write-protects Docker's sensitive paths.
func mountSpecial() error {
	type m struct {
		src, dst, fstype string
		flags            uintptr
		data             string
	}
	for _, x := range []m{
		{"proc", "/proc", "proc", nsd | unix.MS_NOEXEC, ""},
		{"tmpfs", "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k"},
		{"devpts", "/dev/pts", "devpts", nse, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{"shm", "/dev/shm", "tmpfs", nsd | unix.MS_NOEXEC, "mode=1777,size=65536k"},
		{"mqueue", "/dev/mqueue", "mqueue", nsd | unix.MS_NOEXEC, ""},
		{"sysfs", "/sys", "sysfs", nsd | unix.MS_NOEXEC | unix.MS_RDONLY, ""},
	} {
		if err := mkdirAll(x.dst); err != nil {
			return wrap("create mount point "+x.dst, err)
		}
		if err := unix.Mount(x.src, x.dst, x.fstype, x.flags, x.data); err != nil {
			return wrap("mount "+x.fstype+" on "+x.dst, err)
		}
		if x.dst == "/dev" {
			if err := populateDev(); err != nil {
				return err
			}
		}
	}
	for _, p := range maskedPaths {
		if err := maskPath(p); err != nil {
			return err
		}
	}
	for _, p := range readonlyPaths {
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			if err == unix.ENOENT {
				continue
			}
			return wrap("bind "+p+" read-only", err)
		}
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|nsd|unix.MS_NOEXEC, ""); err != nil {
			return wrap("remount "+p+" read-only", err)
		}
	}
	return nil
}

// populateDev creates the device nodes and links of Docker's minimal /dev.
//
// Docker keeps CAP_MKNOD and relies on the devices cgroup to stop a
// container from opening a node it made itself (say, the host's disk).
// Instead, every mount a container can write to is nodev (root, user
// mounts, tmpfs, and /dev itself once populated), and only the six nodes
// below, each bind-mounted onto itself before /dev turns nodev, stay
// usable. That works the same on cgroup v1 and v2, with no device filter.
func populateDev() error {
	for _, d := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}} {
		p := "/dev/" + d.name
		if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return wrap("create "+p, err)
		}
		if err := unix.Mount(p, p, "", unix.MS_BIND, ""); err != nil {
			return wrap("bind "+p, err)
		}
	}
	if err := unix.Mount("", "/dev", "", unix.MS_REMOUNT|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return wrap("remount /dev nodev", err)
	}
	for link, target := range map[string]string{
		"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1",
		"/dev/stderr": "/proc/self/fd/2", "/dev/core": "/proc/kcore", "/dev/ptmx": "pts/ptmx",
	} {
		if err := unix.Symlink(target, link); err != nil {
			return wrap("create "+link, err)
		}
	}
	return nil
}

// maskPath hides p: /dev/null over a file, an empty read-only tmpfs over a
// directory. Paths this kernel lacks are skipped.
func maskPath(p string) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return nil
	}
	var err error
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		err = unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "size=0")
	} else {
		err = unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
	}
	if err != nil {
		return wrap("mask "+p, err)
	}
	return nil
}

// mountUser attaches one user mount; fd is the captured bind source.
func mountUser(m Mount, fd int) error {
	target := path.Clean(m.Target)
	isDir := true
	if fd >= 0 {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return wrap("bind mount "+m.Source, err)
		}
		isDir = st.Mode&unix.S_IFMT == unix.S_IFDIR
	}
	if err := makeTarget(target, isDir); err != nil {
		return err
	}
	if fd >= 0 {
		defer unix.Close(fd)
		if err := unix.MoveMount(fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return wrap("bind mount "+m.Source+" on "+target, err)
		}
		return nil
	}
	var flags uintptr = nsd
	if m.ReadOnly {
		flags |= unix.MS_RDONLY
	}
	data := "mode=1777"
	if m.Size > 0 {
		data += ",size=" + strconv.FormatInt(m.Size, 10)
	}
	if err := unix.Mount("tmpfs", target, "tmpfs", flags, data); err != nil {
		return wrap("mount tmpfs on "+target, err)
	}
	return nil
}

// makeTarget creates a missing mount point: a directory, or an empty file
// for a file bind mount.
func makeTarget(target string, isDir bool) error {
	if exists(target) {
		return nil
	}
	dir := target
	if !isDir {
		dir = path.Dir(target)
	}
	if err := mkdirAll(dir); err != nil {
		return wrap("create mount point "+target, err)
	}
	if !isDir {
		if err := touch(target); err != nil {
			return wrap("create mount point "+target, err)
		}
	}
	return nil
}
