package nsinit

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

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

// shmData is /dev/shm's mount data at Docker's default size (64 MiB).
const shmData = "mode=1777,size=65536k"

// mountDev mounts a minimal /dev at root+"/dev", with /dev/pts, /dev/shm
// at Docker's default size (see resizeShm) and /dev/mqueue.
func mountDev(root string) error {
	type m struct {
		src, dst, fstype string
		flags            uintptr
		data             string
	}
	for _, x := range []m{
		{"tmpfs", "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k"},
		{"devpts", "/dev/pts", "devpts", nse, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{"shm", "/dev/shm", "tmpfs", nsd | unix.MS_NOEXEC, shmData},
		{"mqueue", "/dev/mqueue", "mqueue", nsd | unix.MS_NOEXEC, ""},
	} {
		dst := root + x.dst
		if err := mkdirAll(dst); err != nil {
			return wrap("create mount point "+x.dst, err)
		}
		if err := unix.Mount(x.src, dst, x.fstype, x.flags, x.data); err != nil {
			return wrap("mount "+x.fstype+" on "+x.dst, err)
		}
		if x.dst == "/dev" {
			if err := populateDev(dst); err != nil {
				return err
			}
		}
	}
	return nil
}

// resizeShm gives /dev/shm (under root) size bytes instead of the
// default.
func resizeShm(root string, size int64) error {
	data := "mode=1777,size=" + strconv.FormatInt(size, 10)
	if err := unix.Mount("shm", root+"/dev/shm", "", unix.MS_REMOUNT|nsd|unix.MS_NOEXEC, data); err != nil {
		return wrap("size /dev/shm", err)
	}
	return nil
}

// mountProc mounts /proc at root+"/proc" for this process's PID namespace,
// with Docker's masked and read-only paths; /dev (for /dev/null) must be
// there already.
func mountProc(root string) error {
	if err := unix.Mount("proc", root+"/proc", "proc", nsd|unix.MS_NOEXEC, ""); err != nil {
		return wrap("mount proc on /proc", err)
	}
	return protectProc(root)
}

// protectProc masks Docker's masked paths in the /proc under root and
// makes its read-only paths read-only.
func protectProc(root string) error {
	if err := maskPaths(root, "/proc/"); err != nil {
		return err
	}
	for _, p := range readonlyPaths {
		at := root + p
		if err := unix.Mount(at, at, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			if err == unix.ENOENT {
				continue
			}
			return wrap("bind "+p+" read-only", err)
		}
		if err := unix.Mount(at, at, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|nsd|unix.MS_NOEXEC, ""); err != nil {
			return wrap("remount "+p+" read-only", err)
		}
	}
	return nil
}

// mountSys mounts a read-only /sys at root+"/sys", with Docker's masked
// paths. It shows the network namespace of this process at the time of
// the mount.
func mountSys(root string) error {
	if err := unix.Mount("sysfs", root+"/sys", "sysfs", nsd|unix.MS_NOEXEC|unix.MS_RDONLY, ""); err != nil {
		return wrap("mount sysfs on /sys", err)
	}
	return maskPaths(root, "/sys/")
}

// maskPaths masks those of Docker's masked paths that start with prefix,
// under root.
func maskPaths(root, prefix string) error {
	for _, p := range maskedPaths {
		if strings.HasPrefix(p, prefix) {
			if err := maskPath(root, p); err != nil {
				return err
			}
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
func populateDev(dev string) error {
	for _, d := range []struct {
		name         string
		major, minor uint32
	}{{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}} {
		at := dev + "/" + d.name
		if err := unix.Mknod(at, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return wrap("create /dev/"+d.name, err)
		}
		if err := unix.Mount(at, at, "", unix.MS_BIND, ""); err != nil {
			return wrap("bind /dev/"+d.name, err)
		}
	}
	if err := unix.Mount("", dev, "", unix.MS_REMOUNT|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return wrap("remount /dev nodev", err)
	}
	for link, target := range map[string]string{
		"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0", "/dev/stdout": "/proc/self/fd/1",
		"/dev/stderr": "/proc/self/fd/2", "/dev/core": "/proc/kcore", "/dev/ptmx": "pts/ptmx",
	} {
		if err := unix.Symlink(target, dev+strings.TrimPrefix(link, "/dev")); err != nil {
			return wrap("create "+link, err)
		}
	}
	return nil
}

// maskPath hides root+p: root's /dev/null over a file, an empty read-only
// tmpfs over a directory. Paths this kernel lacks are skipped.
func maskPath(root, p string) error {
	at := root + p
	var st unix.Stat_t
	if err := unix.Stat(at, &st); err != nil {
		return nil
	}
	var err error
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		err = unix.Mount("tmpfs", at, "tmpfs", unix.MS_RDONLY, "size=0")
	} else {
		err = unix.Mount(root+"/dev/null", at, "", unix.MS_BIND, "")
	}
	if err != nil {
		return wrap("mask "+p, err)
	}
	return nil
}
