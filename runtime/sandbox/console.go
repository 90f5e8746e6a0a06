package sandbox

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// A container or exec with Tty gets a terminal allocated inside the
// container (from its own devpts, so tty(1) finds /dev/pts/N there). The
// helper sends the master back over a socket pair before it execs the
// program; Process.Console returns it.

// consoleSocket returns the parent's and the helper's ends of the pair
// the master travels on.
func consoleSocket() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("console socket: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "console-socket"), os.NewFile(uintptr(fds[1]), "console-socket"), nil
}

// receiveConsole takes the master the helper sent; it is already queued
// once the helper exec'd the program.
func receiveConsole(sock *os.File) (*os.File, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	var n, oobn int
	var rerr error
	rc, err := sock.SyscallConn()
	if err != nil {
		return nil, err
	}
	if err := rc.Control(func(fd uintptr) {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
	}); err != nil {
		return nil, err
	}
	if rerr != nil || n == 0 {
		return nil, fmt.Errorf("receive the terminal from the container: %v", orEOF(rerr))
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receive the terminal from the container: no descriptor sent")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("receive the terminal from the container: bad descriptor message")
	}
	return consoleFile(fds[0])
}

// consoleFile wraps a terminal's master, made non-blocking so reads and
// writes go through Go's poller and Close interrupts them.
func consoleFile(fd int) (*os.File, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("terminal master: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

func orEOF(err error) error {
	if err == nil {
		return fmt.Errorf("EOF")
	}
	return err
}

// setConsole asks the helper for a terminal of the given height and width.
func setConsole(spec *nsinit.Spec, tty bool, size [2]uint) error {
	if !tty {
		return nil
	}
	if size[0] > 0xffff || size[1] > 0xffff {
		return fmt.Errorf("terminal size %dx%d is out of range", size[0], size[1])
	}
	spec.Tty, spec.Rows, spec.Cols = true, uint16(size[0]), uint16(size[1])
	return nil
}

// ResizeConsole sets a terminal's window size (TIOCSWINSZ on its master);
// the program gets SIGWINCH. Zero sizes are ignored, as Docker does.
func ResizeConsole(console *os.File, height, width uint) error {
	if height == 0 || width == 0 {
		return nil
	}
	if height > 0xffff || width > 0xffff {
		return fmt.Errorf("terminal size %dx%d is out of range", height, width)
	}
	rc, err := console.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(height), Col: uint16(width)})
	}); err != nil {
		return err
	}
	if ierr != nil {
		return fmt.Errorf("resize terminal: %w", ierr)
	}
	return nil
}
