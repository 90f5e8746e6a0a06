package nsinit

import (
	"path"
	"slices"
	"strconv"
	"strings"
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

// captureFiles writes s.Files and returns them as bind mounts with their
// captured sources, to be attached like the spec's own. Docker's /etc
// files (initFiles) are written in st's init layer, where their mount
// points go anyway (see finishInitLayer): one tmpfs less to make for each
// start. Any other file goes on a tmpfs of its own, so the init layer
// never holds a folder the image may have as a link.
func captureFiles(s *Spec, st *stage) (mounts []Mount, fds []int, err error) {
	if len(s.Files) == 0 {
		return nil, nil, nil
	}
	defer func() {
		if err != nil {
			CloseFDs(fds)
			mounts, fds = nil, nil
		}
	}()
	tmpfs, madeDir := -1, ""
	defer func() {
		if tmpfs >= 0 {
			unix.Close(tmpfs)
		}
	}()
	for i, f := range s.Files {
		dir, name := st.layer, strings.TrimPrefix(path.Clean(f.Target), "/")
		if slices.Contains(initFiles, "/"+name) {
			if d := path.Dir(name); d != madeDir {
				if err := unix.Mkdirat(st.layer, d, 0o755); err != nil && err != unix.EEXIST {
					return nil, nil, wrap("files: init layer: create /"+d, err)
				}
				madeDir = d
			}
		} else {
			if tmpfs < 0 {
				if tmpfs, err = detachedTmpfs("files", "1m"); err != nil {
					return nil, nil, err
				}
			}
			dir, name = tmpfs, strconv.Itoa(i)
		}
		if err := writeAt(dir, name, f.Data); err != nil {
			return nil, nil, wrap("files: write "+f.Target, err)
		}
		fd, err := unix.OpenTree(dir, name, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return nil, nil, wrap("files: capture "+f.Target, err)
		}
		fds = append(fds, fd)
		// Docker's files are read-only in a read-only container.
		if s.ReadOnly {
			if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
				return nil, nil, wrap("files: make "+f.Target+" read-only", err)
			}
		}
		mounts = append(mounts, Mount{Type: "bind", Source: path.Base(f.Target) + " (made by the runtime)", Target: f.Target})
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

// writeAt writes name in the directory dirfd with data, mode 0644 if new.
func writeAt(dirfd int, name, data string) error {
	fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
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
