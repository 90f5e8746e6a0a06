package nsinit

import (
	"strconv"

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

// mountSpecial mounts /proc, a minimal /dev, /dev/shm of shmSize bytes (0:
// Docker's 64 MiB) and a read-only /sys in the new root, then masks and
// write-protects Docker's sensitive paths.
func mountSpecial(shmSize int64) error {
	shm := shmData
	if shmSize > 0 {
		shm = "mode=1777,size=" + strconv.FormatInt(shmSize, 10)
	}
	type m struct {
		src, dst, fstype string
		flags            uintptr
		data             string
	}
	for _, x := range []m{
		{"proc", "/proc", "proc", nsd | unix.MS_NOEXEC, ""},
		{"tmpfs", "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k"},
		{"devpts", "/dev/pts", "devpts", nse, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{"shm", "/dev/shm", "tmpfs", nsd | unix.MS_NOEXEC, shm},
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
