package nsinit

import (
	"errors"
	"path"
	"strings"
	"syscall"
)

// Small file helpers on bare syscalls (this package must not import os).

// opError is an error with what was being done.
type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

func wrap(op string, err error) error { return &opError{op, err} }

// readFD reads fd to EOF.
func readFD(fd int) ([]byte, error) {
	var out []byte
	buf := make([]byte, 16<<10)
	for {
		n, err := syscall.Read(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}

func readFile(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	return readFD(fd)
}

func isDir(path string) bool {
	var st syscall.Stat_t
	return syscall.Stat(path, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFDIR
}

func exists(path string) bool {
	var st syscall.Stat_t
	return syscall.Lstat(path, &st) == nil
}

// mkdirAll creates path and its missing parents (mode 0755). It tries
// path itself first: in a fresh layer or tmpfs, most of a long path is
// there already (or /proc/thread-self/fd/N is), and a mkdir per level
// from the root would find each in turn.
func mkdirAll(p string) error {
	err := syscall.Mkdir(p, 0o755)
	if err == syscall.ENOENT {
		if parent := path.Dir(strings.TrimRight(p, "/")); parent != p && parent != "/" && parent != "." {
			if err := mkdirAll(parent); err != nil {
				return err
			}
			err = syscall.Mkdir(p, 0o755)
		}
	}
	if err == syscall.EEXIST {
		if !isDir(p) {
			return errors.New("not a directory")
		}
		return nil
	}
	return err
}

// touch creates an empty file if path does not exist.
func touch(path string) error {
	fd, err := syscall.Open(path, syscall.O_CREAT|syscall.O_WRONLY|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	return syscall.Close(fd)
}
