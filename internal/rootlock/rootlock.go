// Package rootlock guards a state root with an exclusive flock, so a daemon
// and a CLI never interleave writes and a second daemon on the same root
// refuses to start, naming the process that holds it.
//
// The lock file is ROOT/run/daemon.lock; it holds the PID of its holder.
// The kernel drops a flock when its holder dies, so a crash never leaves a
// stale lock behind (the PID text may remain and is simply overwritten).
package rootlock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrLocked is wrapped by the error Acquire returns when another process
// holds the lock.
var ErrLocked = errors.New("state root is locked")

// Lock is a held lock on a state root.
type Lock struct {
	f    *os.File
	path string
}

// Path is the lock file of root.
func Path(root string) string { return filepath.Join(root, "run", "daemon.lock") }

// Acquire takes the exclusive lock of root without waiting. If another
// process holds it, the error wraps ErrLocked and names that process's PID.
func Acquire(root string) (*Lock, error) {
	p := Path(root)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("lock state root %s: %w", root, err)
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock state root %s: %w", root, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is in use by process %s (lock %s); stop that process or use another --root", ErrLocked, root, holderText(p), p)
		}
		return nil, fmt.Errorf("lock state root %s: flock %s: %w", root, p, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		if err == nil {
			err = f.Sync()
		}
	}
	return &Lock{f: f, path: p}, nil
}

// Holder reports the PID recorded by the process holding root's lock, or
// 0 if the lock is free (or held by a process that recorded no PID).
func Holder(root string) (int, error) {
	p := Path(root)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err == nil {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return 0, nil
	}
	pid, _ := strconv.Atoi(holderText(p))
	return pid, nil
}

func holderText(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return "(unknown)"
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "(unknown)"
	}
	return s
}

// Release drops the lock. The file stays, so the next holder reuses it.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	err := l.f.Close()
	l.f = nil
	return err
}
