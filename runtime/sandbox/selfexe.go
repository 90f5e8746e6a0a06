package sandbox

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The container init and exec helpers run from a sealed memfd copy of this
// binary, never from the file on disk: a process in the container that
// opens /proc/PID/exe of a helper gets the memfd, which is read-only
// forever (CVE-2019-5736). The copy is made once per process and reused;
// a daemon hands it to the shims it starts (PassSealedBinary), so a shim
// does not copy the binary again.
var (
	selfOnce sync.Once
	selfFile *os.File
	selfErr  error
	// helperPath, set by UseHelper, is copied instead of this binary.
	helperPath atomic.Pointer[string]
)

// OneProcEnv runs a helper's Go runtime (a shim, a container's init, an
// exec helper) on one P: they wait on pipes and processes, never compute,
// and a second P only costs them threads and wake-ups: about 7 % of a
// container's CPU in all, measured on a 2-CPU virtual machine where those
// are dear. Set explicitly, it also spares the runtime its lookup of the
// cgroup's CPU limit at start.
const OneProcEnv = "GOMAXPROCS=1"

// SealedBinaryEnv names the inherited descriptor of the sealed copy in a
// process started with PassSealedBinary.
const SealedBinaryEnv = "RECONCILER_SANDBOX_SEALED_FD"

// memfdMinFD keeps the cached descriptor above the descriptors os/exec
// dup2()s into place in the child (0-2 and ExtraFiles), which would
// otherwise clobber it before the exec of /proc/self/fd/N.
const memfdMinFD = 100

const requiredSeals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE

// sealed returns the sealed copy, adopting an inherited one if valid.
func sealed() (*os.File, error) {
	selfOnce.Do(func() {
		if v := os.Getenv(SealedBinaryEnv); v != "" {
			os.Unsetenv(SealedBinaryEnv)
			if fd, err := strconv.Atoi(v); err == nil {
				if f, err := adopt(fd); err == nil {
					selfFile = f
					return
				}
			}
		}
		if p := helperPath.Load(); p != nil {
			if selfFile, selfErr = sealedCopy(*p); selfErr == nil {
				return
			}
		}
		selfFile, selfErr = sealedCopy("/proc/self/exe")
	})
	return selfFile, selfErr
}

// UseHelper makes the sealed copy from path, a reconciler-shim binary of
// this very build (see package runtime/shimhelper), instead of from this
// binary: the helpers started from it load far less. Call it before
// anything starts a container; should the copy fail, this binary is used.
func UseHelper(path string) {
	helperPath.Store(&path)
}

// Executable returns the path of the sealed copy (under /proc/self/fd), to
// start another process of the helper binary from it, such as a shim.
func Executable() (string, error) {
	return selfExe()
}

// selfExe returns the path under /proc/self/fd of the sealed copy.
func selfExe() (string, error) {
	f, err := sealed()
	if err != nil {
		return "", err
	}
	return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())), nil
}

// Prepare makes the sealed copy now (e.g. when a daemon starts), so the
// first container start does not pay for copying the binary (about 10 ms
// for 20 MB).
func Prepare() error {
	_, err := sealed()
	return err
}

// PassSealedBinary makes cmd (this binary re-executed, e.g. a shim)
// inherit the sealed copy, so its own Start and Exec calls reuse it
// instead of copying the binary once more (and holding another copy in
// memory). Call it after setting cmd.Env and cmd.ExtraFiles: it appends
// to both.
func PassSealedBinary(cmd *exec.Cmd) error {
	f, err := sealed()
	if err != nil {
		return err
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, SealedBinaryEnv+"="+strconv.Itoa(2+len(cmd.ExtraFiles)))
	return nil
}

// adopt accepts an inherited descriptor only if it is a memfd sealed
// against every change, and moves it out of the way (close-on-exec, high).
func adopt(fd int) (*os.File, error) {
	link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil || !strings.HasPrefix(link, "/memfd:") {
		return nil, fmt.Errorf("sandbox: inherited fd %d is not a memfd", fd)
	}
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil || seals&requiredSeals != requiredSeals {
		return nil, fmt.Errorf("sandbox: inherited memfd %d is not sealed", fd)
	}
	hi, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, memfdMinFD)
	if err != nil {
		return nil, err
	}
	unix.Close(fd)
	return os.NewFile(uintptr(hi), "memfd:reconciler-init"), nil
}

// sealedCopy copies the file at path into a memfd and seals it against
// any further change.
func sealedCopy(path string) (*os.File, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox: open own binary: %w", err)
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("reconciler-init", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("sandbox: memfd_create: %w", err)
	}
	if hi, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, memfdMinFD); err == nil {
		unix.Close(fd)
		fd = hi
	}
	dst := os.NewFile(uintptr(fd), "memfd:reconciler-init")
	if err := copyInKernel(fd, int(src.Fd())); err != nil {
		if _, err = io.Copy(dst, src); err != nil {
			dst.Close()
			return nil, fmt.Errorf("sandbox: copy own binary into memfd: %w", err)
		}
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, requiredSeals); err != nil {
		dst.Close()
		return nil, fmt.Errorf("sandbox: seal memfd: %w", err)
	}
	return dst, nil
}

// copyInKernel copies all of src to dst with sendfile: no round trip
// through user memory for the tens of megabytes of a Go binary.
func copyInKernel(dst, src int) error {
	for {
		n, err := unix.Sendfile(dst, src, nil, 1<<30)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}
