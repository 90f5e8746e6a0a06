package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/beneath"
	"github.com/reconciler/reconciler/internal/procstat"
	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// rootView is an open view of a container's root file system, for docker
// cp and export. Paths are resolved beneath fd with RESOLVE_IN_ROOT, so a
// symlink in the container (to "/", to "../../..") resolves inside it and
// never reaches the host.
//
//   - A running container is seen through its init's /proc/PID/root: its
//     own mount namespace, volumes, binds and tmpfs mounts included, as
//     docker shows them.
//   - A stopped container is seen through a detached overlay of its layers
//     (mountDetached). Its volumes and binds are not mounted there; paths
//     at or below a bind's target (a volume is a bind of its data
//     directory) are served from the bind's source instead (locate), so
//     cp reads and writes the volume as docker does. A tmpfs exists only
//     while the container runs: reading shows its empty mount point,
//     writing is refused.
type rootView struct {
	c       *Container
	fd      int
	mounts  []Mount // served from their sources (stopped containers only)
	release func()
}

func (v *rootView) Close() { v.release() }

// openRoot opens the view of a container. For writing into a stopped
// container the overlay is mounted read-write over its layer, under the
// container's lifecycle lock, held until Close: a start waits, so the
// layer is never mounted twice for writing.
func (r *Runtime) openRoot(ctx context.Context, ref string, write bool) (*rootView, error) {
	c, unlock, err := r.lockInspect(ref)
	if err != nil {
		return nil, err
	}
	cfg, err := r.config(c.ID)
	if err != nil {
		unlock()
		return nil, err
	}
	if c.State.Status == StateRunning && c.State.Pid > 0 && cfg.Launcher == "" {
		defer unlock()
		// Held first: the restart policy must not mount the layer again
		// for another run while this view has the run's root open. The
		// pin below then checks that the run held is the one recorded.
		hold, err := holdRuns(ctx, c)
		if err != nil {
			return nil, err
		}
		fd, err := r.openProcRoot(c)
		if err != nil {
			hold.Close()
			return nil, err
		}
		done := r.runViews.add(c.ID)
		return r.counted(&rootView{c: c, fd: fd, release: func() { unix.Close(fd); hold.Close(); done() }}), nil
	}
	if !write {
		// Mounted and counted under the lock: a removal after it sees
		// the view (counted) and deletes the layer instead of keeping it
		// for the next container, which this view would then show.
		defer unlock()
		v, err := r.layersView(c)
		if err != nil {
			return nil, err
		}
		v.mounts = c.Spec.Mounts
		return v, nil
	}
	// A shim that recorded the exit is cleaning up: its last moments.
	if !c.State.Running() {
		shim.WaitDone(c.Dir, c.State)
	}
	if shim.Serving(c.Dir, c.State) {
		unlock()
		return nil, fmt.Errorf("%w: container %s is %s: copy again once it runs or has stopped", ErrConflict, c.Name, c.State.Status)
	}
	if err := shim.CheckVolatileLayer(c.Dir, &c.Spec, c.State); err != nil {
		unlock()
		return nil, fmt.Errorf("%w: container %s: %v", ErrConflict, c.Name, err)
	}
	fd, err := mountDetached(topFirst(c.Spec.LowerDirs), upperOf(c), filepath.Join(c.Dir, shim.WorkDir), c.Spec.Volatile)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("container %s: %w", c.Name, err)
	}
	return r.counted(&rootView{c: c, fd: fd, mounts: c.Spec.Mounts, release: func() { unix.Close(fd); unlock() }}), nil
}

// holdRuns keeps c's shim from starting another run until closed (see
// shim.Hold). A shim too old to hold is not held, as before it could be.
func holdRuns(ctx context.Context, c *Container) (io.Closer, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	hold, err := shim.Hold(ctx, c.Dir)
	switch {
	case errors.Is(err, shim.ErrOlderShim):
		return io.NopCloser(nil), nil
	case err != nil:
		return nil, fmt.Errorf("%w: container %s stopped meanwhile: copy again (%v)", ErrConflict, c.Name, err)
	}
	return hold, nil
}

// counted counts v among its container's open views until it is closed
// (see Remove). Even a running container's view holds its overlay
// mounted, through its root, after the container is gone.
func (r *Runtime) counted(v *rootView) *rootView {
	done := r.viewed.add(v.c.ID)
	release := v.release
	var once sync.Once
	v.release = func() { once.Do(func() { release(); done() }) }
	return v
}

// openLayers opens the layers view of a container, running or not
// (docker export), under its lifecycle lock (see counted).
func (r *Runtime) openLayers(ref string) (*rootView, error) {
	c, unlock, err := r.lockInspect(ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return r.layersView(c)
}

// layersView is the read-only overlay of a container's layer (as the top
// lowerdir) and its image's: its root file system without its mounts,
// safe to mount beside the container's own overlay while it runs. Its
// caller holds the container's lifecycle lock (see counted).
func (r *Runtime) layersView(c *Container) (*rootView, error) {
	fd, err := mountDetached(append([]string{upperOf(c)}, topFirst(c.Spec.LowerDirs)...), "", "", false)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", c.Name, err)
	}
	return r.counted(&rootView{c: c, fd: fd, release: func() { unix.Close(fd) }}), nil
}

// upperOf is the container's layer (overlay upperdir).
func upperOf(c *Container) string { return filepath.Join(c.Dir, shim.UpperDir) }

// openProcRoot opens /proc/PID/root of the container's init (pinInit),
// so a PID recycled by a host process between the state read and the
// open can never hand out the host's root.
func (r *Runtime) openProcRoot(c *Container) (int, error) {
	proc, err := r.pinInit(c)
	if err != nil {
		return -1, fmt.Errorf("%w: copy again", err)
	}
	defer proc.Close()
	fd, err := unix.Openat(int(proc.Fd()), "root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("container %s: open its root: %w", c.Name, err)
	}
	return fd, nil
}

// pinInit pins the running container's init: its /proc directory, which
// stays that process's even once its PID is reused (what is read through
// it then fails). It is checked after the pin: the state still records
// that PID as running, and the process is the child of the recorded shim,
// which still runs. Whatever is then read through the pin is the
// container's, never another process's that took the PID meanwhile.
func (r *Runtime) pinInit(c *Container) (*os.File, error) {
	gone := fmt.Errorf("%w: container %s stopped meanwhile", ErrConflict, c.Name)
	proc, err := sandbox.OpenProc(c.State.Pid)
	if err != nil {
		return nil, gone
	}
	st, _ := r.reconcileShim(c.ID)
	parent, err := parentPid(proc)
	if err != nil || !st.Running() || st.Pid != c.State.Pid || parent != st.ShimPid || !shim.Alive(st.ShimPid, st.ShimStartTime) {
		proc.Close()
		return nil, gone
	}
	return proc, nil
}

// parentPid reads the parent's PID through a pinned /proc directory.
func parentPid(proc *os.File) (int, error) {
	f, err := procstat.Fields(fmt.Sprintf("/proc/self/fd/%d/stat", proc.Fd()))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(f[1])
}

// cleanPath makes a docker cp path absolute and clean; follow says
// whether its last component is followed when a symlink (docker's rule:
// only when the path ends in "/" or "/.").
func cleanPath(p string) (clean string, follow bool) {
	follow = strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || p == "."
	return path.Clean("/" + p), follow
}

// locate picks where the absolute path p lives: beneath the view's root,
// or, in a stopped container, beneath the source of the bind mounted over
// it. It returns a directory descriptor to resolve rel in (closed by the
// caller through done) and rel.
func (v *rootView) locate(p string, write bool) (dirFd int, rel string, done func(), err error) {
	var best *Mount
	for i := range v.mounts {
		m := &v.mounts[i]
		t := path.Clean(m.Target)
		if (p == t || strings.HasPrefix(p, strings.TrimSuffix(t, "/")+"/")) && (best == nil || len(t) > len(path.Clean(best.Target))) {
			best = m
		}
	}
	switch {
	case best == nil:
		return v.fd, strings.TrimPrefix(p, "/"), func() {}, nil
	case best.Type == MountTmpfs && write:
		return -1, "", nil, fmt.Errorf("%w: %s is on a tmpfs of container %s, which exists only while it runs", ErrConflict, p, v.c.Name)
	case best.Type == MountTmpfs:
		return v.fd, strings.TrimPrefix(p, "/"), func() {}, nil
	case best.ReadOnly && write:
		return -1, "", nil, fmt.Errorf("%w: %s is on a read-only mount of container %s", ErrConflict, p, v.c.Name)
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(p, path.Clean(best.Target)), "/")
	if best.SubPath != "" {
		return subPathDir(best, rest)
	}
	src := best.Source
	if fi, err := os.Stat(src); err == nil && !fi.IsDir() {
		// A file bound onto a file: resolve its name in its directory.
		src, rest = filepath.Dir(src), filepath.Base(src)
	}
	fd, err := unix.Open(src, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", nil, fmt.Errorf("container %s: source of its mount at %s: %w", v.c.Name, best.Target, err)
	}
	return fd, rest, func() { unix.Close(fd) }, nil
}

// open resolves p (absolute) in the view, symlinks inside the container,
// the last one followed only if follow. The result is an O_PATH
// descriptor.
func (v *rootView) open(p string, follow, write bool) (int, error) {
	dirFd, rel, done, err := v.locate(p, write)
	if err != nil {
		return -1, err
	}
	defer done()
	if rel == "" {
		rel = "."
	}
	flags := unix.O_PATH | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := unix.Openat2(dirFd, rel, &unix.OpenHow{
		Flags:   uint64(flags),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return -1, v.notFound(p, err)
	}
	return fd, nil
}

// readFile reads the regular file at p in the container, at most 1 MiB;
// a missing one reads as nil.
func (v *rootView) readFile(p string) ([]byte, error) {
	fd, err := v.open(p, true, false)
	if errors.Is(err, ErrNoSuchPath) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("container %s: %s is not a regular file", v.c.Name, p)
	}
	f, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		return nil, fmt.Errorf("container %s: %s: %w", v.c.Name, p, err)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 1<<20))
}

// ErrNoSuchPath is matched (errors.Is) by a lookup in a container that
// found nothing; the error's text is docker's own message.
var ErrNoSuchPath = errors.New("no such file in container")

type noSuchPath string

func (e noSuchPath) Error() string        { return string(e) }
func (e noSuchPath) Is(target error) bool { return target == ErrNoSuchPath }

// notFound words a failed lookup as docker does (a 404 the CLI shows).
func (v *rootView) notFound(p string, err error) error {
	if os.IsNotExist(err) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		return noSuchPath(fmt.Sprintf("Could not find the file %s in container %s", p, v.c.Name))
	}
	return fmt.Errorf("container %s: %s: %w", v.c.Name, p, err)
}

// subPathDir is locate for a mount of a volume's subPath: the folder to
// resolve rest in, opened beneath the volume as the container's start
// opens it (a folder on the way swapped for a symlink out of the volume
// fails), or, for a file, its folder and name.
func subPathDir(m *Mount, rest string) (int, string, func(), error) {
	sub := m.SubPath
	if rest == "" {
		if fd, err := beneath.Open(m.Source, sub); err == nil {
			var st unix.Stat_t
			isDir := unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
			unix.Close(fd)
			if !isDir {
				sub, rest = path.Dir(sub), path.Base(sub)
			}
		}
	}
	fd, err := beneath.Open(m.Source, sub)
	if err != nil {
		return -1, "", nil, fmt.Errorf("volume %s: subPath %s: %w", m.Volume, m.SubPath, err)
	}
	return fd, rest, func() { unix.Close(fd) }, nil
}
