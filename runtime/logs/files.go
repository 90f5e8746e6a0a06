package logs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/plainfile"
)

// Rotation renames NAME -> NAME.1 -> ... and deletes the oldest, so a name
// says nothing about which content it holds by the time it is opened. A
// reader therefore tracks files by identity (device and inode) and holds
// them open: an open file keeps its content, and its inode, however it is
// renamed or deleted afterwards.

// lockDir takes a flock on the log's directory: exclusive while the writer
// rotates, shared while a reader lists the files, so a reader never sees a
// rotation half done (a name missing, or one file under two names).
func lockDir(dir string, how int) (unlock func(), err error) {
	d, err := plainfile.Open(dir, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	if err = flock(d, how); err != nil {
		d.Close()
		return nil, fmt.Errorf("lock log directory %s: %w", dir, err)
	}
	return func() {
		unix.Flock(int(d.Fd()), unix.LOCK_UN)
		d.Close()
	}, nil
}

// followersSuffix ends the name of the hidden file beside the log
// (.NAME.followers, out of the way of a glob for NAME*) on which every
// follower holds a shared flock while it follows. A writer that finds
// none may write many entries at once (Writer.Copy): faster than a
// follower reads, which with a follower would let rotation delete what it
// has yet to read.
const followersSuffix = ".followers"

// openFollowers opens (making it if need be) the followers file of the
// log at path.
func openFollowers(path string) (*os.File, error) {
	name := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+followersSuffix)
	return plainfile.Open(name, os.O_RDONLY|os.O_CREATE, 0o640)
}

// flock is unix.Flock, again after an interruption.
func flock(f *os.File, how int) error {
	for {
		if err := unix.Flock(int(f.Fd()), how); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// follow marks the caller as a follower of the log at path until the
// returned file is closed; nil if the log's folder does not exist yet.
func follow(path string) *os.File {
	f, err := openFollowers(path)
	if err != nil {
		return nil
	}
	if flock(f, unix.LOCK_SH) != nil {
		f.Close()
		return nil
	}
	return f
}

// logFile is an open log file and its identity.
type logFile struct {
	f    *os.File
	info os.FileInfo
}

// listFiles opens the log's files, oldest first (NAME.k ... NAME.1, NAME),
// as one consistent set; current says whether NAME is among them (it is
// not while the log is being removed). A log whose directory is gone has
// no files.
func listFiles(path string) (files []logFile, current bool, err error) {
	unlock, err := lockDir(filepath.Dir(path), unix.LOCK_SH)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	for i := 0; ; i++ {
		name := path
		if i > 0 {
			name = fmt.Sprintf("%s.%d", path, i)
		}
		f, err := plainfile.Open(name, os.O_RDONLY, 0)
		if errors.Is(err, os.ErrNotExist) {
			if i == 0 {
				continue // rotated files without a current one: a rotation failed
			}
			break
		}
		if err == nil {
			var st os.FileInfo
			if st, err = f.Stat(); err == nil {
				files = append([]logFile{{f, st}}, files...)
				current = current || i == 0
				continue
			}
			f.Close()
		}
		closeFiles(files)
		return nil, false, fmt.Errorf("open log: %w", err)
	}
	return files, current, nil
}

func closeFiles(files []logFile) {
	for _, lf := range files {
		lf.f.Close()
	}
}

// unlinked reports whether f has been deleted from the directory.
func unlinked(f *os.File) bool {
	st, err := f.Stat()
	if err != nil {
		return true
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && sys.Nlink == 0
}
