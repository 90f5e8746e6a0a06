package runtime

import (
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// A created container's start is held ready when a spare shim is idle at
// its create (see shim.Assignment): the shim sets the container up (root,
// namespaces, cgroup, the program exec'd and stopped before its first
// instruction) while Create still syncs the config to disk, and Start
// only lets the program run. docker run, compose and the reconciler all
// start right after they create. Anything else done to the container
// first (remove, rename, update, a copy into its root) calls the start
// off, and so does holdFor passing: the container is then as if never
// held, and starts the usual way.
type heldStart struct {
	sp    *spareShim
	timer *time.Timer
	// off is made once a call-off begins and closed once the shim has
	// let go of the container's folder.
	off chan struct{}
}

// holdFor is how long a held start waits for its Start.
var holdFor = 2 * time.Second

// holdStart hands the container of dir, configured as cfg, to an idle
// spare shim to set up ahead of its start; nil when there is none (or the
// runtime is short-lived, or the launcher is not the sandbox's).
func (r *Runtime) holdStart(dir string, cfg *shim.Config) *spareShim {
	if r.opts.ShortLived || cfg.Launcher != "" {
		return nil
	}
	r.spareMu.Lock()
	sp := r.popSpare()
	r.spareMu.Unlock()
	if sp == nil {
		return nil
	}
	if err := (shim.Assignment{Dir: dir, Procs: r.shimProcs(), Config: cfg}).Write(sp.assign); err != nil {
		sp.discard()
		return nil
	}
	return sp
}

// keepHeld records sp as holding the start of container id, created.
func (r *Runtime) keepHeld(id string, sp *spareShim) {
	r.spareMu.Lock()
	defer r.spareMu.Unlock()
	r.held[id] = &heldStart{sp: sp, timer: time.AfterFunc(holdFor, func() { r.callOff(id) })}
}

// takeHeld returns the shim holding the start of id, told to go ahead,
// or nil (none, or being called off).
func (r *Runtime) takeHeld(id string) *spareShim {
	r.spareMu.Lock()
	h := r.held[id]
	if h == nil || h.off != nil {
		r.spareMu.Unlock()
		return nil
	}
	delete(r.held, id)
	h.timer.Stop()
	r.spareMu.Unlock()
	if err := shim.GoAhead(h.sp.assign); err != nil {
		h.sp.discard() // it died: the start goes the usual way
		return nil
	}
	return h.sp
}

// callOff calls off the start held for id, if any, and returns once its
// shim has undone the setup and let go of the folder.
func (r *Runtime) callOff(id string) {
	r.spareMu.Lock()
	h := r.held[id]
	if h == nil {
		r.spareMu.Unlock()
		return
	}
	if h.off != nil {
		r.spareMu.Unlock()
		<-h.off
		return
	}
	h.off = make(chan struct{})
	h.timer.Stop()
	r.spareMu.Unlock()
	r.releaseHeld(h.sp, r.dir(id), id)
	r.spareMu.Lock()
	delete(r.held, id)
	close(h.off)
	r.spareMu.Unlock()
}

// releaseHeld calls off the start sp holds for container id in dir, keeps
// sp as a spare if it can, and waits until it let go of dir.
func (r *Runtime) releaseHeld(sp *spareShim, dir, id string) {
	if shim.CallOff(sp.assign) != nil {
		sp.discard()
	} else {
		r.awaitFree(sp, id)
	}
	shim.WaitUnlocked(dir, 5*time.Second)
}

// callOffAll calls off every held start (Close).
func (r *Runtime) callOffAll() {
	r.spareMu.Lock()
	var ids []string
	for id := range r.held {
		ids = append(ids, id)
	}
	r.spareMu.Unlock()
	for _, id := range ids {
		r.callOff(id)
	}
}
