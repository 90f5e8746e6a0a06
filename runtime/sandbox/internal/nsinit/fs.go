package nsinit

import (
	"errors"
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

// mkdirAll creates path and its missing parents (mode 0755).
func mkdirAll(path string) error {
	if isDir(path) {
		return nil
	}
	for i := 1; i <= len(path); i++ {
		if i < len(path) && path[i] != '/' {
			continue
		}
		p := strings.TrimRight(path[:i], "/")
		if p == "" {
			continue
		}
		if err := syscall.Mkdir(p, 0o755); err != nil && err != syscall.EEXIST {
			return err
		}
	}
	if !isDir(path) {
		return errors.New("not a directory")
	}
	return nil
}

// touch creates an empty file if path does not exist.
func touch(path string) error {
	fd, err := syscall.Open(path, syscall.O_CREAT|syscall.O_WRONLY|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	return syscall.Close(fd)
}
