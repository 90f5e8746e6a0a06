package runtime

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// A spare shim is started ahead of need, so a container's start does not
// wait for a new process to load and initialize (a few milliseconds of the
// time to first instruction). It idles on its assign pipe; Start hands it
// a container directory and starts the next spare in the background. A
// Runtime keeps at most one, once it has started a container (or at once,
// with Options.SpareAtOpen).
type spareShim struct {
	cmd    *exec.Cmd
	assign *os.File // write end: one line, the container's directory
	ready  *os.File // read end: the shim's first-start report
}

// newSpare starts a shim in its own session with /dev/null as stdio
// (never ours: a test's or daemon's stdout held by a shim would keep
// `go test` waiting; it switches stderr to its container's shim.log).
// It is told where root's containers are mounted (see shim.MountPoint),
// so that its init prepares there while it waits.
func newSpare(root string) (*spareShim, error) {
	// From the sealed copy of the helper binary (or of this one), like
	// the container's init: nothing it runs can reach a binary on disk.
	exe, err := sandbox.Executable()
	if err != nil {
		return nil, err
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	assignR, assignW, err := os.Pipe()
	if err != nil {
		readyR.Close()
		readyW.Close()
		return nil, err
	}
	cmd := &exec.Cmd{Path: exe, Args: []string{shim.Name, filepath.Join(root, shim.MountPoint)}}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.ExtraFiles = []*os.File{readyW, assignR}
	cmd.Env = append(os.Environ(), sandbox.OneProcEnv)
	// The shim reuses our sealed copy of the binary for the container's
	// init instead of copying the binary again (a missing copy only costs
	// time: the shim makes its own).
	sandbox.PassSealedBinary(cmd)
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
	err = cmd.Start()
	readyW.Close()
	assignR.Close()
	if err != nil {
		readyR.Close()
		assignW.Close()
		return nil, fmt.Errorf("run shim: %w", err)
	}
	// Reap the shim if it ends while we live; if we die first, init (or
	// a subreaper) inherits and reaps it.
	go cmd.Wait()
	return &spareShim{cmd: cmd, assign: assignW, ready: readyR}, nil
}

// discard makes an unused spare exit (EOF on its assign pipe).
func (s *spareShim) discard() {
	s.assign.Close()
	s.ready.Close()
}

// takeShim returns a shim assigned to dir: the spare if there is one, else
// a new one. The caller starts the next spare (refillSpare) once the start
// is done: a new shim loading beside the starting container would compete
// with it for the CPUs.
func (r *Runtime) takeShim(dir string) (*spareShim, error) {
	r.spareMu.Lock()
	sp := r.spare
	r.spare = nil
	r.spareMu.Unlock()
	if sp != nil {
		if _, err := fmt.Fprintln(sp.assign, dir); err == nil {
			sp.assign.Close()
			return sp, nil
		}
		sp.discard() // it died meanwhile: take a new one
	}
	sp, err := newSpare(r.root)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintln(sp.assign, dir); err != nil {
		sp.discard()
		return nil, fmt.Errorf("assign shim: %w", err)
	}
	sp.assign.Close()
	return sp, nil
}

func (r *Runtime) refillSpare() {
	r.spareMu.Lock()
	defer r.spareMu.Unlock()
	if r.spare != nil || r.closed {
		return
	}
	if sp, err := newSpare(r.root); err == nil {
		r.spare = sp
	}
}

// dropSpare discards the spare for good (Close).
func (r *Runtime) dropSpare() {
	r.spareMu.Lock()
	defer r.spareMu.Unlock()
	r.closed = true
	if r.spare != nil {
		r.spare.discard()
		r.spare = nil
	}
}
