package nsinit

import (
	"path"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// File is a small file the container gets at Target, made by the init on
// a tmpfs of its own and bind-mounted there: Docker's /etc/hostname,
// /etc/hosts and /etc/resolv.conf. Writable from inside, out of the
// container layer (a commit never captures them), gone with the
// container's mount namespace, made afresh at every start.
type File struct {
	Target string
	Data   string
}

// captureFiles writes s.Files on a detached tmpfs and returns them as bind
// mounts with their captured sources, to be attached like the spec's own.
func captureFiles(s *Spec) ([]Mount, []int, error) {
	if len(s.Files) == 0 {
		return nil, nil, nil
	}
	mnt, err := detachedTmpfs("files", "1m")
	if err != nil {
		return nil, nil, err
	}
	defer unix.Close(mnt)
	for i, f := range s.Files {
		if err := writeAt(mnt, strconv.Itoa(i), f.Data); err != nil {
			return nil, nil, wrap("files: write "+f.Target, err)
		}
	}
	// Docker's files are read-only in a read-only container; the copies
	// made below keep the mount's mode.
	if s.ReadOnly {
		if err := unix.MountSetattr(mnt, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
			return nil, nil, wrap("files: make read-only", err)
		}
	}
	mounts := make([]Mount, len(s.Files))
	fds := make([]int, len(s.Files))
	for i, f := range s.Files {
		name := strconv.Itoa(i)
		fd, err := unix.OpenTree(mnt, name, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			CloseFDs(fds[:i])
			return nil, nil, wrap("files: capture "+f.Target, err)
		}
		mounts[i] = Mount{Type: "bind", Source: path.Base(f.Target) + " (made by the runtime)", Target: f.Target}
		fds[i] = fd
	}
	return mounts, fds, nil
}

// detachedTmpfs makes a tmpfs of size, mode 0755, nosuid, nodev and
// noexec, mounted nowhere yet, and returns its mount's descriptor; what
// names the tmpfs in errors.
func detachedTmpfs(what, size string) (int, error) {
	fs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, wrap(what+": tmpfs", err)
	}
	defer unix.Close(fs)
	for _, o := range [][2]string{{"size", size}, {"mode", "755"}} {
		if err := unix.FsconfigSetString(fs, o[0], o[1]); err != nil {
			return -1, wrap(what+": tmpfs "+o[0], err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, wrap(what+": create tmpfs", err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return -1, wrap(what+": mount tmpfs", err)
	}
	return mnt, nil
}

// writeAt creates name in the directory dirfd with data, mode 0644.
func writeAt(dirfd int, name, data string) error {
	fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for b := []byte(data); len(b) > 0; {
		n, err := syscall.Write(fd, b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
