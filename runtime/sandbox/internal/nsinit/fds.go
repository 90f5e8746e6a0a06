package nsinit

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseOnExecFrom3 marks every descriptor above 2 close-on-exec, so that
// no descriptor this process inherited (from a shell, a service manager,
// a parent that left one open) reaches a container's program: Go opens
// its own descriptors close-on-exec, but leaves inherited ones as they
// are, and a descriptor leaked into a container can open the host to it
// (runc's CVE-2024-21626). The streams and ExtraFiles that os/exec and
// syscall.ForkExec hand to a child are put in place in the child, so
// they pass all the same.
func CloseOnExecFrom3() error {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	// Before Linux 5.11: each open descriptor, as /proc lists them.
	dir, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return wrap("list open descriptors", err)
	}
	defer unix.Close(dir)
	buf := make([]byte, 4096)
	for {
		n, err := unix.ReadDirent(dir, buf)
		if err != nil {
			return wrap("list open descriptors", err)
		}
		if n == 0 {
			return nil
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			if fd, err := strconv.Atoi(name); err == nil && fd > 2 && fd != dir {
				unix.CloseOnExec(fd)
			}
		}
	}
}
