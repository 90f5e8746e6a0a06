package nsinit

import (
	"path"
	"strconv"

	"golang.org/x/sys/unix"
)

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
	if m.Mode != 0 {
		data = "mode=" + strconv.FormatUint(uint64(m.Mode&0o7777), 8)
	}
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
