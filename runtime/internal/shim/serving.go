package shim

import (
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/plainfile"
)

// A shim may serve several containers in turn (see shimMain), so its
// process being alive does not say it still serves a given one. Instead
// it holds an exclusive lock (flock) on the container's directory from
// its assignment until it has recorded the last exit and cleaned up; a
// shim that dies drops it with its descriptors.

// lockDir takes the lock of dir for its shim, waiting for a shim that
// served dir before to finish.
func lockDir(dir string) (*os.File, error) {
	f, err := plainfile.Open(dir, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Serving says whether the shim recorded in st still serves the
// container of dir.
func Serving(dir string, st State) bool {
	if !Alive(st.ShimPid, st.ShimStartTime) {
		return false
	}
	if !st.ShimLocksDir {
		return true
	}
	f, err := plainfile.Open(dir, os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) != nil {
		return true
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}

// WaitDone waits, up to 5 s, until the shim recorded in st no longer
// serves the container of dir: it has recorded the final state and
// cleaned up, moments after the exit.
func WaitDone(dir string, st State) {
	const limit = 5 * time.Second
	if !st.ShimLocksDir {
		waitExit(st, limit)
		return
	}
	if !Serving(dir, st) {
		return
	}
	WaitUnlocked(dir, limit)
}

// WaitUnlocked waits, up to limit, until no shim holds the lock of dir
// (see Serving).
func WaitUnlocked(dir string, limit time.Duration) {
	f, err := plainfile.Open(dir, os.O_RDONLY, 0)
	if err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer f.Close()
		for unix.Flock(int(f.Fd()), unix.LOCK_SH) == unix.EINTR {
		}
		close(done) // closing f drops the shared lock
	}()
	select {
	case <-done:
	case <-time.After(limit):
	}
}

// waitExit waits up to limit for the shim recorded in st to exit. A pidfd
// wakes it the moment the shim is gone (checked to be that shim after it
// was opened: its PID may have been reused).
func waitExit(st State, limit time.Duration) {
	if st.ShimPid <= 0 {
		return
	}
	fd, err := unix.PidfdOpen(st.ShimPid, 0)
	if err != nil {
		return // gone already
	}
	defer unix.Close(fd)
	if !Alive(st.ShimPid, st.ShimStartTime) {
		return
	}
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(time.Until(deadline).Milliseconds())+1)
		if err != unix.EINTR {
			return
		}
	}
}
