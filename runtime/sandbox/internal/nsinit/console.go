package nsinit

import (
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ConsoleFD is, when the Spec asks for a terminal, one end of a unix socket
// pair: the helper sends the terminal's master on it (SCM_RIGHTS) before
// the program is exec'd. It is fd 6 for both roles (fd 5 is the exec
// helper's MountNSFD; the init's fd 5 is left closed).
const ConsoleFD = 6

// setupConsole gives the program a terminal, as runc's console socket
// does: the pair is allocated from the container's own devpts instance
// (its /dev/ptmx), so the slave's path, /dev/pts/N, exists inside the
// container and tty(1) can name it. The slave becomes stdin, stdout,
// stderr and the controlling terminal (the helper leads its own session:
// the parent started it with Setsid); it belongs to the program's user.
// Its size is set here, before the program can ask for it.
func setupConsole(uid int, rows, cols uint16) error {
	syscall.CloseOnExec(ConsoleFD)
	master, slave, path, err := openConsole(uid, rows, cols)
	if err != nil {
		return err
	}
	defer unix.Close(master)
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			unix.Close(slave)
			return wrap("make "+path+" the standard streams", err)
		}
	}
	unix.Close(slave)
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return wrap("make "+path+" the controlling terminal", err)
	}
	if err := unix.Sendmsg(ConsoleFD, []byte{0}, unix.UnixRights(master), nil, 0); err != nil {
		return wrap("send the terminal to the runtime", err)
	}
	unix.Close(ConsoleFD)
	return nil
}

// openConsole allocates a terminal from the container's /dev/ptmx, of
// rows x cols, its slave (at path) owned by uid. Both are close-on-exec.
func openConsole(uid int, rows, cols uint16) (master, slave int, path string, err error) {
	master, err = unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, -1, "", wrap("open the container's /dev/ptmx for a terminal", err)
	}
	fail := func(op string, err error) (int, int, string, error) {
		unix.Close(master)
		return -1, -1, "", wrap(op, err)
	}
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fail("unlock the terminal (unlockpt)", err)
	}
	if rows > 0 && cols > 0 {
		if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
			return fail("set the terminal's size", err)
		}
	}
	n, err := unix.IoctlGetUint32(master, unix.TIOCGPTN)
	if err != nil {
		return fail("get the terminal's number (ptsname)", err)
	}
	path = "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
	slave, err = unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail("open "+path, err)
	}
	if err := unix.Fchown(slave, uid, -1); err != nil {
		unix.Close(slave)
		return fail("chown "+path, err)
	}
	return master, slave, path, nil
}
