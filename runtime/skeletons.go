package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/plainfile"
	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// Container folders are recycled. Remove sets a container's folder aside
// (ROOT/.free/dirty-<id>, one rename: the container is gone at once, crash
// or not) and empties it down to its skeleton, the empty folders every
// container has (upper/, work/, log/), which the next Create takes
// instead of making them again.
//
// Making and deleting folders is dear on the hosts this runs on: ext4
// without a journal, mounted with discard, frees a folder's block with a
// synchronous discard (0.2 to 1 ms each), and allocating an inode there
// scans past every inode freed in the last minutes. A container's four
// folders were four of the eight discards its removal waited for.
//
// A skeleton holds nothing of the container it came from: everything else
// in it is deleted, and a folder the container changed (its owner,
// extended attributes or inode flags: upper/ is the root directory of the
// container's file system) is made anew.
type skeletons struct {
	dir string // ROOT/.free

	mu    sync.Mutex
	clean []string // ready to take
	scrub sync.WaitGroup
}

const (
	skeletonsDir = ".free"
	dirtyPrefix  = "dirty-"
	// maxSkeletons bounds the clean ones kept: enough for a burst of
	// removals followed by creates.
	maxSkeletons = 4
)

// skeletonFolders are what a skeleton keeps of a container's folder,
// emptied (mode 0755). Files are deleted, never emptied in place: a reader
// may still hold one open (a client attached to a `run --rm` reads the
// log to its end after the removal).
var skeletonFolders = []string{shim.UpperDir, shim.WorkDir, filepath.Dir(shim.LogFile)}

// skeletonFiles are the empty files a skeleton has, made anew when it is
// emptied: the container's log and its shim's, each created on a start's
// path otherwise (an inode allocated: 0.1 ms or more here).
var skeletonFiles = []struct {
	name string
	mode os.FileMode
}{{shim.LogFile, 0o640}, {shim.ShimLogFile, 0o600}}

// openSkeletons finds ROOT/.free's skeletons; the dirty ones (set aside
// by a process that ended, or crashed, before emptying them) are emptied
// in the background.
func openSkeletons(root string) (*skeletons, error) {
	s := &skeletons{dir: filepath.Join(root, skeletonsDir)}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		p := filepath.Join(s.dir, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), dirtyPrefix):
			s.scrub.Add(1)
			go func() {
				defer s.scrub.Done()
				s.recycle(p, nil)
			}()
		case len(s.clean) < maxSkeletons && e.IsDir():
			s.clean = append(s.clean, p)
		default:
			os.RemoveAll(p)
		}
	}
	return s, nil
}

// take moves a clean skeleton to dir, which must not exist; false if there
// is none (or it could not be moved), and the caller makes the folders.
func (s *skeletons) take(dir string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.clean) > 0 {
		p := s.clean[len(s.clean)-1]
		s.clean = s.clean[:len(s.clean)-1]
		if os.Rename(p, dir) == nil {
			return true
		}
		os.RemoveAll(p)
	}
	return false
}

// setAside moves a removed container's folder (with nothing mounted under
// it) out of the root, to be recycled.
func (s *skeletons) setAside(dir string) (string, error) {
	p := filepath.Join(s.dir, dirtyPrefix+filepath.Base(dir))
	return p, os.Rename(dir, p)
}

// recycle empties a folder set aside, then keeps it as a clean skeleton
// or, with enough of those, deletes it. It runs in the caller's time:
// emptying frees blocks, each with its discard, and in the background
// these would delay the next create's fsyncs, queued behind them on the
// same disk, by as much as they save the removal. unmounted (if not nil)
// returns once no mount of the container's layer is left: deleting the
// files of a layer an idle overlay still has mounted is harmless, but the
// skeleton is kept for a next container only after.
func (s *skeletons) recycle(p string, unmounted func()) {
	if s.full() || emptyToSkeleton(p) != nil {
		os.RemoveAll(p)
		return
	}
	if unmounted != nil {
		unmounted()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	clean := filepath.Join(s.dir, strings.TrimPrefix(filepath.Base(p), dirtyPrefix))
	if len(s.clean) >= maxSkeletons || os.Rename(p, clean) != nil {
		os.RemoveAll(p)
		return
	}
	s.clean = append(s.clean, clean)
}

// full reports whether enough clean skeletons are kept (a removal of many
// containers deletes the folders beyond them at once).
func (s *skeletons) full() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clean) >= maxSkeletons
}

// wait returns once no folder found dirty at open is being emptied
// (Close: a process, or a test's temporary root, may go right after).
func (s *skeletons) wait() { s.scrub.Wait() }

// emptyToSkeleton deletes everything in dir but the skeleton's folders,
// empties those, and makes anew any that is missing or that the container
// changed. It never follows a symbolic link.
func emptyToSkeleton(dir string) error {
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	keep := func(name string) bool { return slices.Contains(skeletonFolders, name) }
	if err := removeAllBut(dir, keep); err != nil {
		return err
	}
	// dir is out of the container's reach: its attributes are what a
	// folder made in it has.
	dirFlags, err := inodeFlags(dir)
	if err != nil {
		return err
	}
	for _, name := range skeletonFolders {
		p := filepath.Join(dir, name)
		if !reusable(p, dirFlags) {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
			if err := os.Mkdir(p, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := removeAllBut(p, func(string) bool { return false }); err != nil {
			return err
		}
		if err := os.Chmod(p, 0o755); err != nil {
			return err
		}
	}
	return makeSkeletonFiles(dir)
}

// makeSkeletonFiles makes dir's empty skeleton files.
func makeSkeletonFiles(dir string) error {
	for _, f := range skeletonFiles {
		fd, err := plainfile.Open(filepath.Join(dir, f.name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, f.mode)
		if err != nil {
			return err
		}
		fd.Close()
	}
	return nil
}

// removeAllBut deletes the entries of dir that keep does not name.
func removeAllBut(dir string, keep func(name string) bool) error {
	d, err := plainfile.Open(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, name := range names {
		if keep(name) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// reusable reports whether p is a folder as os.Mkdir makes it here, but
// for its mode (set later): ours, with the inode flags of its parent
// (dirFlags: `chattr +S` on a container's root would make the next
// container's writes synchronous), and with no extended attributes once
// overlayfs's own (trusted.overlay.*, such as the uuid it gives the upper
// directory at the first mount) are removed.
func reusable(p string, dirFlags uint32) bool {
	var st unix.Stat_t
	if unix.Lstat(p, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false
	}
	if uid, gid := ownIDs(); int(st.Uid) != uid || int(st.Gid) != gid {
		return false
	}
	if flags, err := inodeFlags(p); err != nil || flags != dirFlags {
		return false
	}
	buf := make([]byte, 1024)
	n, err := unix.Llistxattr(p, buf)
	if errors.Is(err, unix.ENOTSUP) {
		return true
	}
	if err != nil {
		return false
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		if !strings.HasPrefix(name, "trusted.overlay.") || unix.Lremovexattr(p, name) != nil {
			return false
		}
	}
	return true
}

// ownIDs are the user and group that own the folders os.Mkdir makes here,
// asked once (each is a system call), at the first removal.
var ownIDs = sync.OnceValues(func() (int, int) { return os.Geteuid(), os.Getegid() })

// inodeFlags returns the folder p's inode flags (the attributes chattr
// sets), or 0 on a file system without them.
func inodeFlags(p string) (uint32, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL) {
		return 0, nil
	}
	return flags, err
}
