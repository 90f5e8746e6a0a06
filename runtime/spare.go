package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// A spare shim is started ahead of need, so a container's start does not
// wait for a new process to load and initialize (a few milliseconds of the
// time to first instruction). It idles on its assign pipe; Start hands it
// a container directory and starts the next spare in the background if
// none is left. Once its container has exited for good, the shim reports
// itself free on its ready pipe and becomes a spare again: containers
// started one after another then need no new shim at all (starting one is
// a new Go runtime to load, most of a shim's CPU). A Runtime keeps at most
// maxSpares, once it has started a container (or one at once, with
// Options.SpareAtOpen); shims it does not keep, it lets exit.
type spareShim struct {
	cmd    *exec.Cmd
	assign *os.File      // write end: one line per container, its directory
	ready  *os.File      // read end: the shim's reports
	msgs   *json.Decoder // on ready
}

// maxSpares: one started ahead, one freed by its last container.
const maxSpares = 2

// shimProcs is how many Ps a shim's Go runtime gets for the container it
// is given now (inits and exec helpers get one: sandbox.OneProcEnv). A
// shim launches its containers itself, on threads that each hand the work
// on to the next (the launch, the /proc mount, the sync of the running
// state): with one P, each handoff waited for the P to come free. But
// where several starts are under way at once, the CPUs are busy already,
// and a second P only adds thread wake-ups that compete for them. Measured
// on a 2-CPU virtual machine: 100 containers back to back, up to the exit,
// 14.8 ms with one P, 12.7 with two (and the same with this choice);
// converging 100 containers in process, 3.2 s with one, 3.6 with two, and
// with this choice 3.2 to 3.5 s (against 3.4 to 4.1 with two, two sets of
// five interleaved pairs). The count is given with each container (see
// shim.Assignment): a shim that served a burst serves a lone start later.
func (r *Runtime) shimProcs() int {
	if r.starting.Load() > 1 {
		return 1
	}
	return 2
}

// newSpare starts a shim in its own session with /dev/null as stdio
// (never ours: a test's or daemon's stdout held by a shim would keep
// `go test` waiting; it switches stderr to its container's shim.log).
// It is told where root's containers are mounted (see shim.MountPoint),
// so that its init prepares there while it waits.
func newSpare(root string, procs int) (*spareShim, error) {
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
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(procs))
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
	return &spareShim{cmd: cmd, assign: assignW, ready: readyR, msgs: json.NewDecoder(readyR)}, nil
}

// discard makes an unused spare exit (EOF on its assign pipe).
func (s *spareShim) discard() {
	s.assign.Close()
	s.ready.Close()
}

// takeShim returns a shim assigned to dir: a spare if there is one
// (popSpare), else a new one. The caller starts the next spare (refillSpare)
// once the start is done: a new shim loading beside the starting
// container would compete with it for the CPUs.
func (r *Runtime) takeShim(dir string) (*spareShim, error) {
	for {
		r.spareMu.Lock()
		sp := r.popSpare()
		r.spareMu.Unlock()
		fresh := sp == nil
		if fresh {
			var err error
			if sp, err = newSpare(r.root, r.shimProcs()); err != nil {
				return nil, err
			}
		}
		err := shim.Assignment{Dir: dir, Procs: r.shimProcs()}.Write(sp.assign)
		if err == nil {
			return sp, nil
		}
		sp.discard()
		if fresh {
			return nil, fmt.Errorf("assign shim: %w", err)
		}
		// A spare that died meanwhile: take another.
	}
}

// popSpare takes the spare freed last, nil if none; called with spareMu
// held. The one freed last runs warm: taking the one that waited longest
// instead made a start 2 ms slower (100 back to back, 2-CPU virtual
// machine), though it had finished its prestart long before.
func (r *Runtime) popSpare() *spareShim {
	n := len(r.spares)
	if n == 0 || r.closed {
		return nil
	}
	sp := r.spares[n-1]
	r.spares = r.spares[:n-1]
	return sp
}

// refillSpare starts a spare unless one is left.
func (r *Runtime) refillSpare() {
	r.spareMu.Lock()
	defer r.spareMu.Unlock()
	if len(r.spares) > 0 || r.closed {
		return
	}
	if sp, err := newSpare(r.root, r.shimProcs()); err == nil {
		r.spares = append(r.spares, sp)
	}
}

// awaitFree takes the reports of the shim serving container id (after its
// first start's, read already) until it reports itself free, and keeps it
// as a spare, or lets it go. Close ends the wait (see dropSpare).
func (r *Runtime) awaitFree(sp *spareShim, id string) {
	r.spareMu.Lock()
	if r.closed || r.opts.ShortLived {
		r.spareMu.Unlock()
		sp.discard() // it exits once done
		return
	}
	r.serving[sp] = struct{}{}
	r.spareMu.Unlock()
	var m shim.ReadyMsg
	var err error
	for {
		m = shim.ReadyMsg{}
		if err = sp.msgs.Decode(&m); err != nil || m.State == nil {
			break
		}
		r.report(id, *m.State, true)
	}
	r.spareMu.Lock()
	delete(r.serving, sp)
	keep := err == nil && m.Free && !r.closed && len(r.spares) < maxSpares
	if keep {
		r.spares = append(r.spares, sp)
	}
	r.spareMu.Unlock()
	if !keep {
		sp.discard()
	}
}

// dropSpare discards the spares for good and lets the shims serving
// containers exit once those are done (Close).
func (r *Runtime) dropSpare() {
	r.spareMu.Lock()
	defer r.spareMu.Unlock()
	r.closed = true
	for _, sp := range r.spares {
		sp.discard()
	}
	r.spares = nil
	for sp := range r.serving {
		sp.ready.Close() // ends its awaitFree, which discards it
	}
}
