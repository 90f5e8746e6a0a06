package volumes

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"

	"golang.org/x/sys/unix"
)

// CopyUpFromImage is CopyUp from an image given by its unpacked layer
// folders (base first, as layerstore.LowerDirs returns them), for callers
// that have no mounted rootfs at hand. The layers are merged by an overlay
// mount that is never attached to any mount namespace (fsopen/fsmount: it
// vanishes with its file descriptor, even if the process dies), so
// whiteouts and opaque folders count exactly as in the container.
// containerPath is resolved inside that view as the container would see it
// (symlinks, also absolute ones, stay inside the image).
func (m *Manager) CopyUpFromImage(name string, lowerDirs []string, containerPath string) (copied bool, err error) {
	v, err := m.Get(name)
	if err != nil {
		return false, err
	}
	if v.CopiedUp {
		return false, nil // skip the mount: nothing will be copied
	}
	if !path.IsAbs(containerPath) {
		return false, fmt.Errorf("copy-up into volume %s: %w: mount path %q must be absolute", name, ErrInvalid, containerPath)
	}
	view, err := mountImageView(lowerDirs)
	if err != nil {
		return false, fmt.Errorf("copy-up into volume %s: %w", name, err)
	}
	defer unix.Close(view)

	md, unlock, err := m.lockForCopyUp(name)
	if md == nil {
		return false, err
	}
	defer unlock()
	fd, err := unix.Openat2(view, containerPath, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOENT) {
		return false, m.markCopiedUp(md)
	}
	if err != nil {
		return false, fmt.Errorf("copy-up into volume %s: image path %s: %w", name, containerPath, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, fmt.Errorf("copy-up into volume %s: image path %s: %w", name, containerPath, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false, fmt.Errorf("copy-up into volume %s: %w: the image has a file at %s, so a volume cannot be mounted there", name, ErrInvalid, containerPath)
	}
	// The trailing "/." makes Lstat see the folder, not the magic link.
	src := "/proc/self/fd/" + strconv.Itoa(fd) + "/."
	fi, err := os.Lstat(src)
	if err != nil {
		return false, fmt.Errorf("copy-up into volume %s: image path %s: %w", name, containerPath, err)
	}
	return m.copyUpLocked(md, src, fi)
}

// mountImageView merges layer folders (base first) into a read-only,
// detached overlay mount and returns the file descriptor of its root (for
// a single layer, that layer's folder).
// Layers are added one by one ("lowerdir+", Linux 6.8), so their number is
// not limited by the one-page mount option string.
func mountImageView(lowerDirs []string) (int, error) {
	if len(lowerDirs) == 0 {
		return -1, fmt.Errorf("%w: an image view needs at least one layer", ErrInvalid)
	}
	if len(lowerDirs) == 1 {
		// overlayfs wants two layers without an upper one; a single
		// layer is its own view (it has nothing to white out).
		fd, err := unix.Open(lowerDirs[0], unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("image view: layer %s: %w", lowerDirs[0], err)
		}
		return fd, nil
	}
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("image view: fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)
	for i := len(lowerDirs) - 1; i >= 0; i-- { // uppermost first
		if err := unix.FsconfigSetString(fsfd, "lowerdir+", lowerDirs[i]); err != nil {
			return -1, fmt.Errorf("image view: layer %s: %w", lowerDirs[i], err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("image view: overlay of %d layers: %w", len(lowerDirs), err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV)
	if err != nil {
		return -1, fmt.Errorf("image view: fsmount: %w", err)
	}
	return mfd, nil
}
