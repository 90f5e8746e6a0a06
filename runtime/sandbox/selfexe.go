package sandbox

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// The container init and exec helpers run from a sealed memfd copy of this
// binary, never from the file on disk: a process in the container that
// opens /proc/PID/exe of a helper gets the memfd, which is read-only
// forever (CVE-2019-5736). The copy is made once per process and reused.
var (
	selfOnce sync.Once
	selfFD   int
	selfErr  error
)

// memfdMinFD keeps the cached descriptor above the descriptors os/exec
// dup2()s into place in the child (0-2 and ExtraFiles), which would
// otherwise clobber it before the exec of /proc/self/fd/N.
const memfdMinFD = 100

// selfExe returns the path under /proc/self/fd of the sealed copy.
func selfExe() (string, error) {
	selfOnce.Do(func() { selfFD, selfErr = sealedCopy("/proc/self/exe") })
	if selfErr != nil {
		return "", selfErr
	}
	return fmt.Sprintf("/proc/self/fd/%d", selfFD), nil
}

// sealedCopy copies the file at path into a memfd and seals it against
// any further change, returning the (close-on-exec) descriptor.
func sealedCopy(path string) (int, error) {
	src, err := os.Open(path)
	if err != nil {
		return -1, fmt.Errorf("sandbox: open own binary: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("reconciler-init", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, fmt.Errorf("sandbox: memfd_create: %w", err)
	}
	if hi, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, memfdMinFD); err == nil {
		unix.Close(fd)
		fd = hi
	}
	dst := os.NewFile(uintptr(fd), "memfd:reconciler-init")
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return -1, fmt.Errorf("sandbox: copy own binary into memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		dst.Close()
		return -1, fmt.Errorf("sandbox: seal memfd: %w", err)
	}
	// Keep the descriptor for the life of the process: dst must not be
	// garbage collected (its finalizer would close fd).
	selfFile = dst
	return fd, nil
}

var selfFile *os.File
