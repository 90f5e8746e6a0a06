// Package tarsafe unpacks tar streams into a directory they cannot escape.
//
// Every path is resolved by the kernel with openat2(RESOLVE_IN_ROOT), so a
// symlink met on the way (absolute or relative, planted by the same archive
// or not) is followed as if the target directory were "/": like Docker's
// chrooted unpacker, nothing is ever created outside the target. On top of
// that the rules of Docker's archive package apply:
//
//   - names are cleaned; absolute names are taken relative to the target,
//     names that climb above it ("../x") fail the whole archive;
//   - a relative symlink whose target climbs above the target fails the
//     archive (absolute symlinks are fine: they mean the container's "/");
//   - a hardlink to a path above the target fails the archive;
//   - character and block devices are skipped, as Docker does when it is not
//     allowed to create them (rootless, user namespaces): a layer is no
//     place for /dev/sda; containers get their /dev from the runtime.
//     FIFOs are kept;
//   - ownership, modes including setuid/setgid/sticky (applied after chown,
//     which would clear them), mtimes, xattrs, symlinks and hardlinks are
//     preserved, as Docker does when it runs as root. trusted.overlay.*
//     xattrs in an archive are dropped: they are overlayfs' own markers.
//
// With Options.OverlayWhiteouts, OCI whiteouts become overlayfs whiteouts
// the way Docker's overlay2 driver writes its layer directories: ".wh.NAME"
// becomes a 0/0 character device NAME, ".wh..wh..opq" sets
// trusted.overlay.opaque=y on its directory, other ".wh..wh." entries (aufs
// metadata) are skipped.
package tarsafe

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// OCI whiteout names.
const (
	WhiteoutPrefix     = ".wh."
	WhiteoutMetaPrefix = ".wh..wh."
	WhiteoutOpaqueDir  = ".wh..wh..opq"
)

// Overlayfs markers.
const (
	OverlayOpaqueXattr = "trusted.overlay.opaque"
	overlayXattrPrefix = "trusted.overlay."
	paxXattrPrefix     = "SCHILY.xattr."
)

// Options tune Extract.
type Options struct {
	// OverlayWhiteouts converts OCI whiteouts into overlayfs whiteouts (for
	// a directory used as an overlay lowerdir). Without it they are
	// unpacked as ordinary files.
	OverlayWhiteouts bool
	// NoOverwriteDirNonDir refuses (ErrDirNonDir) an entry that would
	// replace a directory with a non-directory or the reverse (docker cp's
	// noOverwriteDirNonDir); without it the later entry wins.
	NoOverwriteDirNonDir bool
	// Owner, when set, owns every entry instead of the archive's uid/gid
	// (docker cp -a: the container's user).
	Owner *Owner
}

// Owner is a numeric user and group.
type Owner struct{ UID, GID int }

// ErrDirNonDir is returned (wrapped) under Options.NoOverwriteDirNonDir.
var ErrDirNonDir = errors.New("cannot overwrite a directory with a non-directory or the reverse")

// Stats describe what Extract wrote.
type Stats struct {
	Entries        int
	Bytes          int64    // bytes of regular file content
	SkippedDevices []string // character and block devices not created
}

// BreakoutError reports an archive entry that tried to leave the target.
type BreakoutError struct {
	Name, Link, Reason string
}

func (e *BreakoutError) Error() string {
	if e.Link != "" {
		return fmt.Sprintf("refusing archive: entry %q -> %q %s", e.Name, e.Link, e.Reason)
	}
	return fmt.Sprintf("refusing archive: entry %q %s", e.Name, e.Reason)
}

// Extract unpacks the tar stream r into the existing directory root.
func Extract(ctx context.Context, root string, r io.Reader, opts Options) (Stats, error) {
	rootFd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Stats{}, fmt.Errorf("open extraction target %s: %w", root, err)
	}
	defer unix.Close(rootFd)
	return ExtractAt(ctx, rootFd, r, opts)
}

// ExtractAt is Extract into the directory open at rootFd: for a target
// that has no trustworthy host path (inside a container's mount
// namespace, or a detached mount), already resolved safely by the caller.
func ExtractAt(ctx context.Context, rootFd int, r io.Reader, opts Options) (Stats, error) {
	x := &extractor{root: rootFd, opts: opts}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return x.stats, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return x.stats, fmt.Errorf("read tar: %w", err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return x.stats, err
		}
	}
	// Directory times last: creating entries inside changed them.
	for i := len(x.dirTimes) - 1; i >= 0; i-- {
		d := x.dirTimes[i]
		if err := x.withParent(d.name, false, func(pfd int, base string) error {
			return setTimes(pfd, base, d.atime, d.mtime)
		}); err != nil {
			return x.stats, fmt.Errorf("set times of %s: %w", d.name, err)
		}
	}
	return x.stats, nil
}

type dirTime struct {
	name         string
	atime, mtime time.Time
}

type extractor struct {
	root     int
	opts     Options
	stats    Stats
	dirTimes []dirTime
}

// CleanName turns an archive name into a path relative to the target, or
// fails if it climbs above it. "" means the target itself.
func CleanName(name string) (string, error) {
	c := path.Clean(name)
	if path.IsAbs(c) {
		c = strings.TrimLeft(c, "/")
		if c == "" {
			return "", nil
		}
		return path.Clean(c), nil
	}
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", &BreakoutError{Name: name, Reason: "climbs above the extraction directory"}
	}
	if c == "." {
		return "", nil
	}
	return c, nil
}

func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	name, err := CleanName(hdr.Name)
	if err != nil {
		return err
	}
	if name == "" {
		return nil // the target itself: its metadata is the store's business
	}
	x.stats.Entries++
	if o := x.opts.Owner; o != nil {
		hdr.Uid, hdr.Gid = o.UID, o.GID
	}
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")

	if strings.HasPrefix(base, WhiteoutPrefix) && x.opts.OverlayWhiteouts {
		return x.whiteout(hdr, dir, base)
	}

	switch hdr.Typeflag {
	case tar.TypeChar, tar.TypeBlock:
		x.stats.SkippedDevices = append(x.stats.SkippedDevices, name)
		return nil
	case tar.TypeXGlobalHeader:
		return nil
	case tar.TypeDir, tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse, tar.TypeSymlink, tar.TypeLink, tar.TypeFifo:
	default:
		return fmt.Errorf("archive entry %q: unsupported tar type %q", hdr.Name, hdr.Typeflag)
	}

	return x.withParent(name, true, func(pfd int, base string) error {
		if err := x.prepare(pfd, base, hdr.Typeflag == tar.TypeDir); err != nil {
			return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
		if err := x.create(pfd, name, base, hdr, r); err != nil {
			return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeLink {
			return nil // shares the inode (and metadata) of its target
		}
		if err := applyMeta(pfd, base, hdr); err != nil {
			return fmt.Errorf("archive entry %q: %w", hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeDir {
			x.dirTimes = append(x.dirTimes, dirTime{name, accessTime(hdr), hdr.ModTime})
			return nil
		}
		return setTimes(pfd, base, accessTime(hdr), hdr.ModTime)
	})
}

// whiteout writes an OCI whiteout entry in overlayfs form.
func (x *extractor) whiteout(hdr *tar.Header, dir, base string) error {
	switch {
	case base == WhiteoutOpaqueDir:
		fd, err := x.mkdirAll(dir)
		if err != nil {
			return fmt.Errorf("opaque whiteout %q: %w", hdr.Name, err)
		}
		defer unix.Close(fd)
		// Setxattr, not Lsetxattr: the /proc magic link must be followed.
		if err := unix.Setxattr(procPath(fd, ""), OverlayOpaqueXattr, []byte("y"), 0); err != nil {
			return fmt.Errorf("opaque whiteout %q: set %s: %w", hdr.Name, OverlayOpaqueXattr, err)
		}
		return nil
	case strings.HasPrefix(base, WhiteoutMetaPrefix):
		return nil // aufs hardlink/metadata entries have no overlay meaning
	}
	hidden := strings.TrimPrefix(base, WhiteoutPrefix)
	if hidden == "" || hidden == "." || hidden == ".." {
		return &BreakoutError{Name: hdr.Name, Reason: "is a whiteout of no valid name"}
	}
	target := path.Join(dir, hidden)
	return x.withParent(target, true, func(pfd int, b string) error {
		if err := x.prepare(pfd, b, false); err != nil {
			return fmt.Errorf("whiteout %q: %w", hdr.Name, err)
		}
		if err := unix.Mknodat(pfd, b, unix.S_IFCHR, 0); err != nil {
			return fmt.Errorf("whiteout %q: mknod: %w", hdr.Name, err)
		}
		if err := unix.Fchownat(pfd, b, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("whiteout %q: chown: %w", hdr.Name, err)
		}
		return setTimes(pfd, b, accessTime(hdr), hdr.ModTime)
	})
}

// create makes the entry itself (base in directory pfd).
func (x *extractor) create(pfd int, name, base string, hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := unix.Mkdirat(pfd, base, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("mkdir: %w", err)
		}
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		f := os.NewFile(uintptr(fd), name)
		n, err := io.Copy(f, r)
		x.stats.Bytes += n
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write: %w", err)
		}
	case tar.TypeSymlink:
		if !path.IsAbs(hdr.Linkname) {
			t := path.Join(path.Dir(name), hdr.Linkname)
			if t == ".." || strings.HasPrefix(t, "../") {
				return &BreakoutError{Name: hdr.Name, Link: hdr.Linkname, Reason: "is a symlink pointing above the extraction directory"}
			}
		}
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return fmt.Errorf("symlink: %w", err)
		}
	case tar.TypeLink:
		target, err := CleanName(hdr.Linkname)
		if err != nil || target == "" {
			return &BreakoutError{Name: hdr.Name, Link: hdr.Linkname, Reason: "is a hardlink to a path outside the extraction directory"}
		}
		return x.withParent(target, false, func(tfd int, tbase string) error {
			if err := unix.Linkat(tfd, tbase, pfd, base, 0); err != nil {
				return fmt.Errorf("hardlink to %q: %w", hdr.Linkname, err)
			}
			return nil
		})
	case tar.TypeFifo:
		if err := unix.Mknodat(pfd, base, unix.S_IFIFO|0o600, 0); err != nil {
			return fmt.Errorf("mkfifo: %w", err)
		}
	}
	return nil
}

// prepare removes whatever is at base unless both it and the new entry are
// directories (a later entry replaces an earlier one, as in Docker).
func (x *extractor) prepare(pfd int, base string, isDir bool) error {
	var st unix.Stat_t
	err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	existingDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if existingDir && isDir {
		return nil
	}
	if x.opts.NoOverwriteDirNonDir && (existingDir || isDir) {
		if existingDir {
			return fmt.Errorf("%w: cannot overwrite directory %q with a non-directory", ErrDirNonDir, base)
		}
		return fmt.Errorf("%w: cannot overwrite non-directory %q with a directory", ErrDirNonDir, base)
	}
	if !existingDir {
		return unix.Unlinkat(pfd, base, 0)
	}
	// A non-empty directory replaced by a file: remove it below pfd only.
	return os.RemoveAll(procPath(pfd, base))
}

// withParent resolves the parent directory of name inside the root (making
// it if create) and calls fn with its fd and the last path component.
func (x *extractor) withParent(name string, create bool, fn func(pfd int, base string) error) error {
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	var fd int
	var err error
	if create {
		fd, err = x.mkdirAll(dir)
	} else {
		fd, err = x.openDir(dir)
	}
	if err != nil {
		return fmt.Errorf("parent directory of %q: %w", name, err)
	}
	defer unix.Close(fd)
	return fn(fd, base)
}

// openDir opens a directory inside the root; symlinks resolve inside it.
func (x *extractor) openDir(rel string) (int, error) {
	if rel == "" {
		rel = "."
	}
	return unix.Openat2(x.root, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// mkdirAll opens rel inside the root, creating missing directories (0755,
// root-owned, as Docker does for parents missing from an archive).
func (x *extractor) mkdirAll(rel string) (int, error) {
	fd, err := x.openDir(rel)
	if err == nil || !errors.Is(err, unix.ENOENT) || rel == "" {
		return fd, err
	}
	dir, base := path.Split(rel)
	pfd, err := x.mkdirAll(strings.TrimSuffix(dir, "/"))
	if err != nil {
		return -1, err
	}
	err = unix.Mkdirat(pfd, base, 0o755)
	unix.Close(pfd)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, err
	}
	return x.openDir(rel)
}

// applyMeta sets owner, xattrs and mode, in that order: chown clears
// setuid/setgid bits, so the mode comes after it.
func applyMeta(pfd int, base string, hdr *tar.Header) error {
	if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown %d:%d: %w", hdr.Uid, hdr.Gid, err)
	}
	p := procPath(pfd, base)
	for k, v := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(k, paxXattrPrefix)
		if !ok || strings.HasPrefix(attr, overlayXattrPrefix) {
			continue
		}
		if err := unix.Lsetxattr(p, attr, []byte(v), 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EPERM) && hdr.Typeflag == tar.TypeSymlink {
				continue // the filesystem (or symlinks) cannot hold it; Docker ignores this too
			}
			return fmt.Errorf("set xattr %s: %w", attr, err)
		}
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return nil
	}
	if err := unix.Fchmodat(pfd, base, uint32(hdr.Mode)&0o7777, 0); err != nil {
		return fmt.Errorf("chmod %o: %w", hdr.Mode, err)
	}
	return nil
}

func setTimes(pfd int, base string, atime, mtime time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if base == "" {
		base = "."
	}
	return unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func accessTime(hdr *tar.Header) time.Time {
	if hdr.AccessTime.IsZero() {
		return hdr.ModTime
	}
	return hdr.AccessTime
}

// procPath names base inside the directory fd through /proc, so path-based
// calls (xattrs, RemoveAll) start from the already-resolved directory.
func procPath(fd int, base string) string {
	p := fmt.Sprintf("/proc/self/fd/%d", fd)
	if base != "" {
		p += "/" + base
	}
	return p
}
