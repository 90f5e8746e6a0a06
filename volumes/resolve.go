package volumes

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/beneath"
)

// Resolve returns the host path to mount for subPath of the volume ("" or
// "." for the whole volume). See OpenSubPath for the rules; Resolve is
// OpenSubPath followed by reading back the path the kernel resolved.
//
// A path can be swapped for a symlink between Resolve and the mount by a
// container that writes to the volume; callers that can should mount the
// file from OpenSubPath (/proc/self/fd/N) instead.
func (m *Manager) Resolve(name, subPath string) (string, error) {
	f, err := m.OpenSubPath(name, subPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		return "", fmt.Errorf("resolve %s subPath %q: %w", name, subPath, err)
	}
	mp := filepath.Join(m.dir(name), dataDir)
	if p != mp && !strings.HasPrefix(p, mp+"/") {
		return "", fmt.Errorf("resolve %s subPath %q: %w: resolved to %s, outside the volume", name, subPath, ErrInvalid, p)
	}
	return p, nil
}

// OpenSubPath opens subPath inside the volume as an O_PATH file, safe to
// bind-mount through /proc/self/fd/N.
//
// subPath must be relative and free of ".." elements (refused lexically,
// like Kubernetes does). It is resolved by the kernel beneath the volume
// (openat2 RESOLVE_BENEATH): symlinks inside the volume are followed while
// they stay inside, and a link that leads out (absolute, or too many "..")
// is refused. Missing folders on the way are created (0755, root-owned),
// as Kubernetes does for subPath, but only after the existing part of the
// path is known to stay inside, so a refused subPath creates nothing;
// folders created before a later failure are removed again.
func (m *Manager) OpenSubPath(name, subPath string) (*os.File, error) {
	if _, err := m.load(name); err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("volume %s subPath %q: %w: "+format, append([]any{name, subPath, ErrInvalid}, args...)...)
	}
	elems, err := subPathElems(subPath)
	if err != nil {
		return nil, fail("%s", err)
	}
	root, err := unix.Open(filepath.Join(m.dir(name), dataDir), unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("volume %s: open data: %w", name, err)
	}
	defer unix.Close(root)
	if len(elems) == 0 {
		fd, err := unix.Dup(root)
		if err != nil {
			return nil, err
		}
		return os.NewFile(uintptr(fd), filepath.Join(m.dir(name), dataDir)), nil
	}

	// Find the longest existing prefix; any escape on the way is refused
	// before anything is created.
	exist := 0
	var parent int = -1
	for i := 1; i <= len(elems); i++ {
		fd, err := beneath.At(root, strings.Join(elems[:i], "/"))
		if errors.Is(err, unix.ENOENT) {
			break
		}
		if err != nil {
			if parent >= 0 {
				unix.Close(parent)
			}
			return nil, fail("%s: %s", strings.Join(elems[:i], "/"), describeOpenErr(err))
		}
		if parent >= 0 {
			unix.Close(parent)
		}
		parent, exist = fd, i
	}
	if exist == len(elems) {
		return os.NewFile(uintptr(parent), path.Join(m.dir(name), dataDir, strings.Join(elems, "/"))), nil
	}
	if parent < 0 {
		if parent, err = unix.Dup(root); err != nil {
			return nil, err
		}
	}
	fd, err := mkdirChain(parent, elems[exist:])
	unix.Close(parent)
	if err != nil {
		return nil, fail("create %s: %s", strings.Join(elems, "/"), describeOpenErr(err))
	}
	return os.NewFile(uintptr(fd), path.Join(m.dir(name), dataDir, strings.Join(elems, "/"))), nil
}

// subPathElems checks subPath lexically and splits it into elements.
func subPathElems(subPath string) ([]string, error) {
	if strings.ContainsRune(subPath, 0) {
		return nil, errors.New("contains a NUL byte")
	}
	if path.IsAbs(subPath) {
		return nil, errors.New("must be a relative path inside the volume, not absolute")
	}
	var elems []string
	for _, e := range strings.Split(subPath, "/") {
		switch e {
		case "..":
			return nil, errors.New(`must not contain ".." (it would leave the volume)`)
		case "", ".":
		default:
			elems = append(elems, e)
		}
	}
	return elems, nil
}

// mkdirChain creates elems below the folder parent, one by one through
// file descriptors (a component swapped for a symlink meanwhile is not
// followed), and returns the last one opened. On error it removes what it
// created.
func mkdirChain(parent int, elems []string) (int, error) {
	cur, err := unix.Dup(parent)
	if err != nil {
		return -1, err
	}
	type made struct {
		dirfd int
		name  string
	}
	var created []made
	undo := func() {
		for i := len(created) - 1; i >= 0; i-- {
			unix.Unlinkat(created[i].dirfd, created[i].name, unix.AT_REMOVEDIR)
			unix.Close(created[i].dirfd)
		}
	}
	for _, e := range elems {
		if err := unix.Mkdirat(cur, e, 0o755); err != nil {
			unix.Close(cur)
			undo()
			return -1, err
		}
		next, err := unix.Openat(cur, e, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		created = append(created, made{cur, e})
		if err != nil {
			undo()
			return -1, err
		}
		cur = next
	}
	for _, c := range created {
		unix.Close(c.dirfd)
	}
	return cur, nil
}

func describeOpenErr(err error) string {
	switch {
	case errors.Is(err, unix.EXDEV):
		return "a symlink leads out of the volume"
	case errors.Is(err, unix.ELOOP):
		return "too many levels of symlinks"
	case errors.Is(err, unix.ENOTDIR):
		return "a path element is not a folder"
	case errors.Is(err, unix.EEXIST):
		return "a path element is a dangling symlink"
	}
	return err.Error()
}

// CheckBind validates the source of a bind mount: an absolute path that
// exists on the host. Docker's message: "bind source path does not exist".
func CheckBind(hostPath string) error {
	if !filepath.IsAbs(hostPath) {
		return fmt.Errorf("%w: invalid mount config for type \"bind\": bind source path must be absolute: %s", ErrInvalid, hostPath)
	}
	if _, err := os.Stat(hostPath); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: invalid mount config for type \"bind\": bind source path does not exist: %s", ErrInvalid, hostPath)
		}
		return fmt.Errorf("%w: bind source path %s: %v", ErrInvalid, hostPath, err)
	}
	return nil
}
