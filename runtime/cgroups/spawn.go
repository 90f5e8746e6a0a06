package cgroups

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/reconciler/reconciler/internal/osthread"
	"github.com/reconciler/reconciler/internal/plainfile"
	"golang.org/x/sys/unix"
)

// Start starts cmd with its process born in the group, instead of moving
// it there afterwards: a move (Add) takes a global lock whose writers wait
// for an RCU grace period, several milliseconds on a system that was
// idle, while a fork into a group does not. On v2 the clone puts the
// child in the group directly (CLONE_INTO_CGROUP). On v1 the starting
// thread moves itself into the group (a thread that moves itself skips
// that lock), forks, and moves itself back.
func (g *Group) Start(cmd *exec.Cmd) error {
	if g.v2 {
		fd, err := unix.Open(g.Dirs[""], unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("cgroups: open %s: %w", g.Dirs[""], err)
		}
		defer unix.Close(fd)
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, fd
		return cmd.Start()
	}
	errc := make(chan error, 1)
	osthread.Go(func() {
		home, err := ofProcFile("/proc/thread-self/cgroup")
		if err == nil {
			err = g.MoveThread()
		}
		if err == nil {
			err = cmd.Start()
			// Back home before anyone may remove the group (its removal
			// kills what is left in it); failing that the thread stays
			// locked and ends with this goroutine, right after.
			if home.MoveThread() == nil {
				runtime.UnlockOSThread()
			}
		}
		errc <- err
	})
	return <-errc
}

// MoveThread moves the calling OS thread, which the caller has locked and
// either moves back or lets end with its goroutine, into the group in
// every v1 hierarchy, so that what it forks is born there (see Start).
// v2 moves whole processes only: it returns an error there.
func (g *Group) MoveThread() error {
	fs, err := g.ThreadTasks()
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range fs {
			f.Close()
		}
	}()
	for _, f := range fs {
		if _, err := f.WriteString("0"); err != nil {
			return fmt.Errorf("cgroups: write %q to %s: %w", "0", f.Name(), err)
		}
	}
	return nil
}

// ThreadTasks are the open tasks files of a v1 group, one per hierarchy:
// writing "0" to them moves the writing thread, which can do so even after
// it left the host's mount namespace, where the files are (see
// sandbox's launch).
func (g *Group) ThreadTasks() ([]*os.File, error) {
	if g.v2 {
		return nil, fmt.Errorf("cgroups: a thread cannot join %s alone on cgroup v2", g.Dirs[""])
	}
	var fs []*os.File
	for _, d := range g.Dirs {
		f, err := plainfile.Open(filepath.Join(d, "tasks"), os.O_WRONLY, 0)
		if err != nil {
			for _, f := range fs {
				f.Close()
			}
			return nil, fmt.Errorf("cgroups: %w", err)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// OfThread returns the groups of the calling thread, which the caller has
// locked.
func OfThread() (*Group, error) { return ofProcFile("/proc/thread-self/cgroup") }
