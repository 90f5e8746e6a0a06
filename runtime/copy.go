package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/tarsafe"
	"github.com/reconciler/reconciler/internal/userdb"
)

// PathStat describes a path in a container as docker cp shows it (the
// X-Docker-Container-Path-Stat header).
type PathStat struct {
	Name       string
	Size       int64
	Mode       fs.FileMode // Go's bits: a directory has fs.ModeDir
	Mtime      time.Time
	LinkTarget string // a symlink's target, made absolute inside the container
}

// StatPath describes path in the container: symlinks on the way are
// followed inside the container, the last one only if path ends in "/"
// or "/.". A missing path fails with ErrNoSuchPath.
func (r *Runtime) StatPath(ctx context.Context, ref, p string) (PathStat, error) {
	v, err := r.openRoot(ctx, ref, false)
	if err != nil {
		return PathStat{}, err
	}
	defer v.Close()
	fd, st, err := v.stat(p)
	if err != nil {
		return PathStat{}, err
	}
	unix.Close(fd)
	return st, nil
}

// stat opens p (see StatPath) and describes it.
func (v *rootView) stat(p string) (int, PathStat, error) {
	clean, follow := cleanPath(p)
	fd, err := v.open(clean, follow, false)
	if err != nil {
		return -1, PathStat{}, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, PathStat{}, fmt.Errorf("container %s: %s: %w", v.c.Name, clean, err)
	}
	ps := PathStat{Name: path.Base(clean), Size: st.Size, Mode: fileMode(st.Mode), Mtime: time.Unix(st.Mtim.Unix()).UTC()}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		link, err := readlink(fd)
		if err != nil {
			unix.Close(fd)
			return -1, PathStat{}, fmt.Errorf("container %s: %s: %w", v.c.Name, clean, err)
		}
		if !path.IsAbs(link) {
			link = path.Join(path.Dir(clean), link)
		}
		ps.LinkTarget = path.Clean(link)
	}
	return fd, ps, nil
}

// readlink reads the target of the symlink open (O_PATH|O_NOFOLLOW) at fd.
func readlink(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// fileMode turns a stat mode into Go's fs.FileMode, as docker's header
// carries it (a directory 0755 is 1<<31|0755).
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// ArchivePath returns a tar of path in the container (see StatPath for
// how it is resolved), its base name as the top entry ("." for a path
// ending in "/.": the directory's contents), and its stat. The view stays
// open until the reader is closed.
func (r *Runtime) ArchivePath(ctx context.Context, ref, p string) (io.ReadCloser, PathStat, error) {
	v, err := r.openRoot(ctx, ref, false)
	if err != nil {
		return nil, PathStat{}, err
	}
	fd, st, err := v.stat(p)
	if err != nil {
		v.Close()
		return nil, PathStat{}, err
	}
	name := st.Name
	if strings.HasSuffix(p, "/.") || p == "." {
		name = "."
	}
	return v.stream(ctx, func(a *tarsafe.Archiver) error {
		defer unix.Close(fd)
		return a.Add(ctx, fd, "", name)
	}), st, nil
}

// Export returns a tar of the container's root file system: its image
// with its changes, without its volumes, binds and kernel file systems
// (docker export). It reads a read-only overlay of the container's layer
// and its image's, so it works on running and stopped containers alike.
func (r *Runtime) Export(ctx context.Context, ref string) (io.ReadCloser, error) {
	v, err := r.openLayers(ref)
	if err != nil {
		return nil, err
	}
	return v.stream(ctx, func(a *tarsafe.Archiver) error { return a.Add(ctx, v.fd, "", "") }), nil
}

// stream runs write into a pipe and returns its reading end; closing it
// stops the writer and closes the view.
func (v *rootView) stream(ctx context.Context, write func(*tarsafe.Archiver) error) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		defer v.Close()
		a := tarsafe.NewArchiver(pw)
		err := write(a)
		if err == nil {
			err = a.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// ExtractOptions tune ExtractToDir (docker cp into a container).
type ExtractOptions struct {
	// NoOverwriteDirNonDir refuses to replace a directory with a
	// non-directory or the reverse.
	NoOverwriteDirNonDir bool
	// CopyUIDGID makes the container's user (Spec.User, numeric) own what
	// is extracted; without it the archive's owners are kept.
	CopyUIDGID bool
}

// ExtractToDir unpacks the tar content into the directory dir of the
// container (which must exist; symlinks resolve inside the container),
// running or not: a stopped container gets it in its own layer, with
// overlay semantics (files of the image are copied up or shadowed,
// deleted paths come back). Nothing in the archive can reach outside dir.
func (r *Runtime) ExtractToDir(ctx context.Context, ref, dir string, content io.Reader, o ExtractOptions) error {
	v, err := r.openRoot(ctx, ref, true)
	if err != nil {
		return err
	}
	defer v.Close()
	clean, _ := cleanPath(dir)
	if v.c.Spec.ReadonlyRootfs && !onMount(v.c.Spec.Mounts, clean) {
		// dockerd's check and words (the path as given, not resolved).
		return fmt.Errorf("%w: container rootfs is marked read-only", ErrInvalid)
	}
	fd, err := v.open(clean, true, true)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("%w: extraction point %s in container %s is not a directory", ErrInvalid, clean, v.c.Name)
	}
	opts := tarsafe.Options{NoOverwriteDirNonDir: o.NoOverwriteDirNonDir}
	if o.CopyUIDGID && v.c.Spec.User != "" {
		owner, err := v.owner(v.c.Spec.User)
		if err != nil {
			return fmt.Errorf("container %s: %w", v.c.Name, err)
		}
		opts.Owner = owner
	}
	if _, err := tarsafe.ExtractAt(ctx, fd, content, opts); err != nil {
		if errors.Is(err, tarsafe.ErrDirNonDir) {
			return fmt.Errorf("%w: copy into container %s: %v", ErrConflict, v.c.Name, err)
		}
		var be *tarsafe.BreakoutError
		if errors.As(err, &be) {
			return fmt.Errorf("%w: copy into container %s: %v", ErrInvalid, v.c.Name, err)
		}
		return fmt.Errorf("copy into container %s: %w", v.c.Name, err)
	}
	return nil
}

// onMount says whether the absolute path p is at or below a mount's target.
func onMount(ms []Mount, p string) bool {
	for _, m := range ms {
		t := path.Clean(m.Target)
		if p == t || strings.HasPrefix(p, strings.TrimSuffix(t, "/")+"/") {
			return true
		}
	}
	return false
}

// owner resolves the container's user (docker cp -a) as its start does,
// in its own /etc/passwd and /etc/group, read through the view: a name,
// a numeric ID, with or without a group.
func (v *rootView) owner(user string) (*tarsafe.Owner, error) {
	passwd, err := v.readFile(userdb.PasswdFile)
	if err != nil {
		return nil, err
	}
	group, err := v.readFile(userdb.GroupFile)
	if err != nil {
		return nil, err
	}
	u, err := userdb.Resolve(user, passwd, group)
	if err != nil {
		return nil, fmt.Errorf("%w: copy with the container's owner (-a): %v", ErrInvalid, err)
	}
	return &tarsafe.Owner{UID: u.Uid, GID: u.Gid}, nil
}
