package cgroups

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"

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
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// The main thread could not end with this goroutine should
			// the way back fail: move the child instead.
			runtime.UnlockOSThread()
			errc <- g.startAndAdd(cmd)
			return
		}
		home, err := ofProcFile("/proc/thread-self/cgroup")
		if err == nil {
			err = g.moveThread()
		}
		if err == nil {
			err = cmd.Start()
			// Back home before anyone may remove the group (its removal
			// kills what is left in it); failing that the thread stays
			// locked and ends with this goroutine, right after.
			if home.moveThread() == nil {
				runtime.UnlockOSThread()
			}
		}
		errc <- err
	}()
	return <-errc
}

// startAndAdd is the slow way: start, then move the child (Add).
func (g *Group) startAndAdd(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := g.Add(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	return nil
}

// moveThread moves the calling thread (locked by the caller) into the
// group in every v1 hierarchy.
func (g *Group) moveThread() error {
	for _, d := range g.Dirs {
		if err := writeFile(filepath.Join(d, "tasks"), "0"); err != nil {
			return err
		}
	}
	return nil
}
