package shim

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/procstat"
)

// ProcStartTime returns a process's start time (field 22 of
// /proc/PID/stat, in clock ticks since boot). With the PID it identifies a
// process for good: a recycled PID has another start time.
func ProcStartTime(pid int) (uint64, error) {
	f, err := procstat.Fields(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	if f[0] == "Z" || f[0] == "X" {
		return 0, fmt.Errorf("process %d has exited", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// alive reports whether the process pid with the recorded start time still
// exists (and is not a zombie).
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := ProcStartTime(pid)
	return err == nil && st == start
}

// Unix socket paths are limited to 108 bytes, and state roots can be deep
// (t.TempDir() plus a 64-hex ID). Both ends therefore address the socket
// through an O_PATH descriptor of its directory: /proc/self/fd/N/NAME.
// They use plain syscalls and *os.File (still on Go's poller, so deadlines
// and Close work): package net would delay the shim's early start (see the
// package init).

func socketAddr(dir, name string, fn func(addr *unix.SockaddrUnix) error) error {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	return fn(&unix.SockaddrUnix{Name: "/proc/self/fd/" + strconv.Itoa(fd) + "/" + name})
}

func newSocket() (int, error) {
	return unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
}

// listener is a listening unix socket.
type listener struct{ f *os.File }

func listenDir(dir, name string) (*listener, error) {
	os.Remove(filepath.Join(dir, name))
	sfd, err := newSocket()
	if err != nil {
		return nil, err
	}
	err = socketAddr(dir, name, func(a *unix.SockaddrUnix) error {
		if err := unix.Bind(sfd, a); err != nil {
			return err
		}
		return unix.Listen(sfd, 16)
	})
	if err != nil {
		unix.Close(sfd)
		return nil, fmt.Errorf("listen on %s: %w", filepath.Join(dir, name), err)
	}
	return &listener{f: os.NewFile(uintptr(sfd), filepath.Join(dir, name))}, nil
}

// accept waits for a connection; it fails once the listener is closed.
func (l *listener) accept() (*os.File, error) {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var nfd int
	var aerr error
	err = rc.Read(func(fd uintptr) bool {
		nfd, _, aerr = unix.Accept4(int(fd), unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK)
		return aerr != unix.EAGAIN
	})
	if err != nil {
		return nil, err
	}
	if aerr != nil {
		return nil, aerr
	}
	return os.NewFile(uintptr(nfd), l.f.Name()), nil
}

func (l *listener) close() error { return l.f.Close() }

// dialDir connects to the socket NAME in dir.
func dialDir(dir, name string) (*os.File, error) {
	sfd, err := newSocket()
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(sfd), filepath.Join(dir, name))
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	err = socketAddr(dir, name, func(a *unix.SockaddrUnix) error {
		// A unix socket connects at once or, with a full backlog, says
		// EAGAIN: then try again for a while.
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
			var cerr error
			if err := rc.Control(func(fd uintptr) { cerr = unix.Connect(int(fd), a) }); err != nil {
				return err
			}
			if cerr != unix.EAGAIN || time.Now().After(deadline) {
				return cerr
			}
		}
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// BootID identifies the current boot of the host ("" if unknown); read
// once per process.
var BootID = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
})

// ParseSignal accepts "SIGTERM", "TERM", "term" or "15".
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return unix.Signal(n), nil
	}
	name := bytes.ToUpper([]byte(s))
	if !bytes.HasPrefix(name, []byte("SIG")) {
		name = append([]byte("SIG"), name...)
	}
	if sig := unix.SignalNum(string(name)); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %q: use a name like SIGTERM or a number", s)
}
