package runtime

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/sandbox"
)

// mountDetached mounts an overlay of lowers (top first) and, when upper is
// not "", the container layer upper (with its work dir) above them, and
// returns a descriptor of its root. The mount is made with the new mount
// API and never attached to any path: no other process can see it, a
// crash cannot leave it behind, and it is gone when the descriptor is
// closed. Without upper it is read-only, which makes it safe beside a
// running container whose own overlay writes upper: the layer is then
// only one more lowerdir (index=off, so the kernel allows the sharing).
// Options are the ones commit needs (no redirect_dir, no metacopy),
// so a write through it stays expressible as an OCI layer. A volatile
// upper (sandbox.Config.Volatile) is mounted volatile again, its work
// dir's mark cleared: the caller checked that no host crash came since.
func mountDetached(lowers []string, upper, work string, volatile bool) (int, error) {
	fs, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("mount container root: fsopen overlay: %w", err)
	}
	defer unix.Close(fs)
	set := func(k, v string) error {
		if err := unix.FsconfigSetString(fs, k, v); err != nil {
			return fmt.Errorf("mount container root: overlay option %s=%s: %w", k, v, err)
		}
		return nil
	}
	opts := [][2]string{{"source", "overlay"}, {"index", "off"}, {"redirect_dir", "off"}, {"metacopy", "off"}}
	// "lowerdir+" takes one layer per call (Linux 6.8+): no page limit
	// on the layer count and no escaping of ':' or ',' in paths.
	for _, l := range lowers {
		opts = append(opts, [2]string{"lowerdir+", l})
	}
	if upper != "" {
		opts = append(opts, [2]string{"upperdir", upper}, [2]string{"workdir", work})
		if volatile {
			if err := sandbox.ClearVolatileMark(work); err != nil {
				return -1, fmt.Errorf("mount container root: %w", err)
			}
			if err := unix.FsconfigSetFlag(fs, "volatile"); err != nil {
				return -1, fmt.Errorf("mount container root: overlay option volatile: %w", err)
			}
		}
	}
	for _, o := range opts {
		if err := set(o[0], o[1]); err != nil {
			if o[0] == "lowerdir+" && errors.Is(err, unix.EINVAL) {
				return -1, fmt.Errorf("%w (overlayfs takes layers one by one from Linux 6.8; this kernel is %s)", err, kernelRelease())
			}
			return -1, err
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, fmt.Errorf("mount container root: create overlay of %d layers: %w", len(lowers), err)
	}
	attr := unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOSUID
	if upper == "" {
		attr |= unix.MOUNT_ATTR_RDONLY
	}
	fd, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return -1, fmt.Errorf("mount container root: fsmount: %w", err)
	}
	return fd, nil
}

// topFirst reverses a Spec's LowerDirs (base first) into overlay order.
func topFirst(lowerDirs []string) []string {
	out := make([]string, 0, len(lowerDirs))
	for i := len(lowerDirs) - 1; i >= 0; i-- {
		out = append(out, lowerDirs[i])
	}
	return out
}

// kernelRelease is uname -r, for messages.
func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}
