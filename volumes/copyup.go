package volumes

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

// CopyUp gives a volume the image's content at its mount path, as Docker
// does on the first mount of an empty volume: src (a folder of the
// container's rootfs or image layer view) is copied into the volume with
// ownership, modes, times, symlinks, hard links, device nodes and
// extended attributes (except overlayfs' own trusted.overlay.*), and the
// volume folder takes src's owner, mode and times.
//
// It happens at most once in a volume's life: the first call records that
// copy-up is done whatever it found (src missing, or the volume already
// holding data, copies nothing), and later calls return false at once, even
// if the volume has been emptied since. copied reports whether content was
// copied by this call.
//
// The copy is staged next to the data (ROOT/NAME/_copyup) and moved in
// entry by entry only once complete; the metadata records the move, so a
// crash before it leaves the volume as it was (and copy-up still to do) and
// a crash during it is finished by Open. Existing entries in the volume are
// never replaced. Other writers of the volume wait while it runs.
func (m *Manager) CopyUp(name, src string) (copied bool, err error) {
	md, unlock, err := m.lockForCopyUp(name)
	if md == nil {
		return false, err
	}
	defer unlock()
	fi, err := os.Lstat(src)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, m.markCopiedUp(md)
	case err != nil:
		return false, fmt.Errorf("copy-up into volume %s: %w", name, err)
	case !fi.IsDir():
		return false, fmt.Errorf("copy-up into volume %s: %w: %s is not a folder, so a volume cannot be mounted there", name, ErrInvalid, src)
	}
	return m.copyUpLocked(md, src, fi)
}

// lockForCopyUp takes the volumes' lock for a copy-up into volume name
// and loads its metadata; md is nil, and the lock released, when there is
// nothing to do (the copy-up happened) or on an error.
func (m *Manager) lockForCopyUp(name string) (md *meta, unlock func(), err error) {
	unlock, err = m.lock()
	if err != nil {
		return nil, nil, err
	}
	md, err = m.load(name)
	done := false
	if err == nil {
		done, err = m.copyUpDone(md)
	}
	if done || err != nil {
		unlock()
		return nil, nil, err
	}
	return md, unlock, nil
}

// copyUpDone reports whether the volume's one copy-up has happened, first
// finishing one whose move an earlier call left unfinished (it failed, or
// the process died before Open could finish it).
func (m *Manager) copyUpDone(md *meta) (bool, error) {
	if md.CopyUp == copyUpMoving {
		return true, m.finishCopyUp(md.Name, md)
	}
	return md.CopiedUp, nil
}

// copyUpLocked copies the folder src (described by fi) into the volume of
// md unless the volume holds data already. The caller holds the lock and
// has checked md.CopiedUp.
func (m *Manager) copyUpLocked(md *meta, src string, fi fs.FileInfo) (bool, error) {
	name := md.Name
	data := filepath.Join(m.dir(name), dataDir)
	if empty, err := isEmptyDir(data); err != nil {
		return false, fmt.Errorf("copy-up into volume %s: %w", name, err)
	} else if !empty {
		return false, m.markCopiedUp(md)
	}

	staging := filepath.Join(m.dir(name), stagingDir)
	if err := os.RemoveAll(staging); err != nil {
		return false, err
	}
	c := copier{links: map[inodeKey]string{}}
	if err := c.copy(src, staging, fi); err != nil {
		os.RemoveAll(staging)
		return false, fmt.Errorf("copy-up into volume %s from %s: %w", name, src, err)
	}
	if err := syncTree(staging); err != nil {
		os.RemoveAll(staging)
		return false, fmt.Errorf("copy-up into volume %s: sync: %w", name, err)
	}
	md.CopyUp = copyUpMoving
	if err := writeMeta(m.metaPath(name), md); err != nil {
		os.RemoveAll(staging)
		return false, fmt.Errorf("copy-up into volume %s: %w", name, err)
	}
	if err := m.finishCopyUp(name, md); err != nil {
		return false, err
	}
	return true, nil
}

// finishCopyUp moves a complete staging copy into the volume (skipping
// names that exist), gives the volume folder the staged root's owner, mode
// and times, records copy-up as done and drops the staging folder. It is
// idempotent, so Open can rerun it after a crash.
func (m *Manager) finishCopyUp(name string, md *meta) error {
	data := filepath.Join(m.dir(name), dataDir)
	staging := filepath.Join(m.dir(name), stagingDir)
	entries, err := os.ReadDir(staging)
	staged := err == nil // else an earlier run got past removing it
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("copy-up into volume %s: %w", name, err)
	}
	for _, e := range entries {
		err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(staging, e.Name()), unix.AT_FDCWD, filepath.Join(data, e.Name()), unix.RENAME_NOREPLACE)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("copy-up into volume %s: move %s: %w", name, e.Name(), err)
		}
	}
	if staged {
		fi, err := os.Lstat(staging)
		if err != nil {
			return err
		}
		if err := copyAttrs(staging, data, fi); err != nil {
			return fmt.Errorf("copy-up into volume %s: %w", name, err)
		}
		if err := atomicfile.SyncDir(data); err != nil {
			return err
		}
	}
	if err := m.markCopiedUp(md); err != nil {
		return err
	}
	return os.RemoveAll(staging)
}

func (m *Manager) markCopiedUp(md *meta) error {
	md.CopiedUp, md.CopyUp = true, copyUpNone
	if err := writeMeta(m.metaPath(md.Name), md); err != nil {
		return fmt.Errorf("copy-up into volume %s: %w", md.Name, err)
	}
	return nil
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}

type inodeKey struct{ dev, ino uint64 }

// copier copies a tree, remembering multiply-linked files so their other
// names become hard links again.
type copier struct {
	links map[inodeKey]string
}

func (c *copier) copy(src, dst string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no stat information", src)
	}
	if !fi.IsDir() && st.Nlink > 1 {
		k := inodeKey{uint64(st.Dev), st.Ino}
		if first, ok := c.links[k]; ok {
			return os.Link(first, dst)
		}
		c.links[k] = dst
	}
	switch fi.Mode().Type() {
	case fs.ModeDir:
		if err := os.Mkdir(dst, 0o700); err != nil {
			return err
		}
		entries, err := os.ReadDir(src)
		if err != nil {
			return err
		}
		for _, e := range entries {
			efi, err := e.Info()
			if err != nil {
				return err
			}
			if err := c.copy(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), efi); err != nil {
				return err
			}
		}
	case 0:
		if err := copyFile(src, dst); err != nil {
			return err
		}
	case fs.ModeSymlink:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
	case fs.ModeNamedPipe, fs.ModeDevice, fs.ModeDevice | fs.ModeCharDevice:
		if err := unix.Mknod(dst, st.Mode, int(st.Rdev)); err != nil {
			return err
		}
	case fs.ModeSocket:
		return nil // a socket is only meaningful to the process serving it
	default:
		return fmt.Errorf("%s: unsupported file type %v", src, fi.Mode().Type())
	}
	return copyAttrs(src, dst, fi)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil { // copy_file_range where possible
		out.Close()
		return err
	}
	return out.Close()
}

// copyAttrs gives dst src's owner, mode, extended attributes and times, in
// the order that keeps them: chown clears setuid bits and file
// capabilities, so mode and xattrs come after it, and times come last.
func copyAttrs(src, dst string, fi fs.FileInfo) error {
	st := fi.Sys().(*syscall.Stat_t)
	if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	isLink := fi.Mode().Type() == fs.ModeSymlink
	if !isLink {
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return err
		}
	}
	if err := copyXattrs(src, dst); err != nil {
		return err
	}
	ts := []unix.Timespec{unix.Timespec(st.Atim), unix.Timespec(st.Mtim)}
	return unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func copyXattrs(src, dst string) error {
	names, err := listXattrs(src)
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasPrefix(n, "trusted.overlay.") {
			continue // overlayfs bookkeeping of a layer, not content
		}
		v, err := getXattr(src, n)
		if err != nil {
			return fmt.Errorf("read xattr %s of %s: %w", n, src, err)
		}
		if err := unix.Lsetxattr(dst, n, v, 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) {
				continue // the volume's filesystem cannot hold this namespace
			}
			return fmt.Errorf("set xattr %s on %s: %w", n, dst, err)
		}
	}
	return nil
}

func listXattrs(p string) ([]string, error) {
	buf := make([]byte, 1024)
	for {
		n, err := unix.Llistxattr(p, buf)
		if errors.Is(err, unix.ERANGE) {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list xattrs of %s: %w", p, err)
		}
		var names []string
		for _, s := range strings.Split(string(buf[:n]), "\x00") {
			if s != "" {
				names = append(names, s)
			}
		}
		return names, nil
	}
}

func getXattr(p, name string) ([]byte, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(p, name, buf)
		if errors.Is(err, unix.ERANGE) {
			buf = make([]byte, len(buf)*4)
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
}

// syncTree flushes the filesystem holding root (one syncfs instead of an
// fsync per file), so the metadata that marks the copy complete is never
// more durable than the copy itself.
func syncTree(root string) error {
	f, err := os.Open(root)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
