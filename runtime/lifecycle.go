package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/mountinfo"
	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// Start starts a created or exited container under a new shim and returns
// once its process runs (or failed to start: the error says why, and the
// state records it). Starting a running container does nothing.
func (r *Runtime) Start(ctx context.Context, ref string) error {
	c, unlock, err := r.lockInspectHeld(ref)
	if err != nil {
		return err
	}
	defer unlock()
	id := c.ID
	if c.State.Running() {
		return nil
	}
	// The previous shim may still be cleaning up after the last exit (its
	// cleanup removes the cgroup of this very ID): let it finish.
	shim.WaitDone(c.Dir, c.State)
	// A copy may still have the last run's root open, that run's overlay
	// with it: this run must not mount the same layer beside it.
	if !r.runViews.wait(id, runViewWait) {
		return fmt.Errorf("%w: start container %s: a copy from or into its last run (docker cp) is still open: start it again once the copy is done", ErrConflict, c.Name)
	}
	r.watch.ensure(id)
	begin := time.Now()
	if err := r.spawnShim(ctx, c); err != nil {
		return fmt.Errorf("start container %s: %w", c.Name, err)
	}
	r.metrics.startDuration.Observe(time.Since(begin).Seconds())
	r.watch.observe(id) // "start" before Start returns, in order
	return nil
}

// runViewWait bounds how long a start waits for copies of the last run.
var runViewWait = 10 * time.Second

// spawnShim assigns a shim to the container and waits for its first-start
// report.
func (r *Runtime) spawnShim(ctx context.Context, c *Container) error {
	r.starting.Add(1)
	defer r.starting.Add(-1)
	sp, err := r.takeHeld(c.ID), error(nil)
	if sp == nil {
		sp, err = r.takeShim(c.Dir)
	}
	if !r.opts.ShortLived {
		// After the first-start report (deferred): the next spare's
		// start stays off this start's critical path.
		defer func() { go r.refillSpare() }()
	}
	if err != nil {
		return err
	}
	cmd := sp.cmd
	timeout := time.NewTimer(r.opts.StartTimeout)
	defer timeout.Stop()
	got := make(chan shim.ReadyMsg, 1)
	go func() {
		var m shim.ReadyMsg
		if err := sp.msgs.Decode(&m); err != nil {
			m.Error = "the shim exited before reporting: " + lastLine(filepath.Join(c.Dir, shim.ShimLogFile))
		}
		if m.State != nil {
			r.report(c.ID, *m.State, false) // observed by Start
		}
		got <- m
		if m.Error != "" {
			sp.discard()
			return
		}
		r.awaitFree(sp, c.ID)
	}()
	select {
	case m := <-got:
		if m.Error != "" {
			return errors.New(m.Error)
		}
		return nil
	case <-timeout.C:
		cmd.Process.Kill()
		return fmt.Errorf("the shim did not report within %s (see %s)", r.opts.StartTimeout, filepath.Join(c.Dir, shim.ShimLogFile))
	case <-ctx.Done():
		// The shim goes on: the start is already under way.
		return ctx.Err()
	}
}

// waitReleased returns once the last run's mounts are gone (see
// sandbox.Process.WaitExit), as the shim in dir (recorded in st) says; a
// shim that cannot say (too old, or exiting) is waited for.
func waitReleased(ctx context.Context, dir string, st State) {
	if !shim.Serving(dir, st) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := shim.Call(ctx, dir, shim.Request{Op: "released"}); err != nil {
		shim.WaitDone(dir, st)
	}
}

func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return "no output (see " + path + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// Stop sends the container's stop signal, then SIGKILL after grace
// (negative: the container's StopGrace), and returns once it has exited.
// Its restart policy no longer applies until the next Start. Stopping a
// container that is not running does nothing.
func (r *Runtime) Stop(ctx context.Context, ref string, grace time.Duration) error {
	id, err := r.Resolve(ref)
	if err != nil {
		return err
	}
	defer r.lock(id)()
	return r.stop(ctx, id, grace)
}

func (r *Runtime) stop(ctx context.Context, id string, grace time.Duration) error {
	c, err := r.inspect(id)
	if err != nil {
		return err
	}
	if !c.State.Running() {
		return nil
	}
	sig := unix.SIGTERM
	if c.Spec.StopSignal != "" {
		sig, _ = shim.ParseSignal(c.Spec.StopSignal)
	}
	if grace < 0 {
		grace = c.Spec.StopGrace
	}
	r.emit(id, "kill", map[string]string{"signal": fmt.Sprint(int(sig))})
	if _, err := shim.Call(ctx, c.Dir, shim.Request{Op: "stop", Signal: int(sig), Grace: grace}); err != nil {
		if st, _ := r.reconcileShim(id); !st.Running() {
			return nil // it ended meanwhile
		}
		return fmt.Errorf("stop container %s: %w", c.Name, err)
	}
	shim.WaitDone(c.Dir, c.State)
	r.watch.observe(id)
	r.emit(id, "stop", nil)
	return nil
}

// Kill sends a signal ("" = SIGKILL) to the container's init. SIGKILL and
// the stop signal end the restart policy, as a stop does.
func (r *Runtime) Kill(ctx context.Context, ref, signal string) error {
	id, err := r.Resolve(ref)
	if err != nil {
		return err
	}
	sig := unix.SIGKILL
	if signal != "" {
		if sig, err = shim.ParseSignal(signal); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	c, err := r.inspect(id)
	if err != nil {
		return err
	}
	if !c.State.Running() {
		return fmt.Errorf("%w: cannot kill container %s", ErrNotRunning, c.Name)
	}
	if _, err := shim.Call(ctx, c.Dir, shim.Request{Op: "kill", Signal: int(sig)}); err != nil {
		if err.Error() == ErrNotRunning.Error() {
			return fmt.Errorf("%w: cannot kill container %s", ErrNotRunning, c.Name)
		}
		return fmt.Errorf("kill container %s: %w", c.Name, err)
	}
	r.emit(id, "kill", map[string]string{"signal": fmt.Sprint(int(sig))})
	return nil
}

// Restart stops (as Stop) and starts the container again.
func (r *Runtime) Restart(ctx context.Context, ref string, grace time.Duration) error {
	id, err := r.Resolve(ref)
	if err != nil {
		return err
	}
	if err := r.Stop(ctx, id, grace); err != nil {
		return err
	}
	if err := r.Start(ctx, id); err != nil {
		return err
	}
	r.emit(id, "restart", nil)
	return nil
}

// Remove deletes a container, its layer, its log and its cgroup. A running
// container is refused (ErrConflict) unless force, which kills it first.
func (r *Runtime) Remove(ctx context.Context, ref string, force bool) error {
	c, unlock, err := r.lockInspect(ref)
	if err != nil {
		return err
	}
	defer unlock()
	id := c.ID
	if c.State.Running() {
		if !force {
			return fmt.Errorf("%w: cannot remove container %s: container is running: stop the container before removing or force remove", ErrConflict, c.Name)
		}
		if err := r.stop(ctx, id, 0); err != nil {
			return err
		}
	}
	cfg, err := r.config(id)
	if err != nil {
		return err
	}
	// Streams attached to the run that just ended read its log to the
	// end first: removing it could take a file they have yet to open.
	r.attached.wait(id, 2*time.Second)
	// Not waiting for the shim to be gone, only for its final state on
	// disk (reported first: see reported.go): it then only cleans up
	// what Cleanup below cleans up too (idempotently), so its exit
	// overlaps the removal.
	r.settle(id, time.Now().Add(5*time.Second))
	// Its last transitions are reported before "destroy". Waiters that
	// find it gone report its final exit code, not an earlier one they
	// happened to see (docker run --rm waits for removal).
	if final, ok := r.watch.observe(id); ok {
		r.finalExit.Store(id, final.ExitCode)
		time.AfterFunc(time.Minute, func() { r.finalExit.Delete(id) })
	}
	if err := shim.Cleanup(c.Dir, cfg); err != nil {
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	// Never recurse into a mount: a bind inside a leftover rootfs would
	// take the host's files with it.
	if err := unmountUnder(c.Dir); err != nil {
		return fmt.Errorf("remove container %s: %w", c.Name, err)
	}
	r.configs.Delete(id)
	r.reported.Delete(id)
	// One rename takes the folder out of the root (the container is gone
	// at once, crash or not); it is then emptied, to be reused
	// (skeletons.go).
	dirty, err := r.skel.setAside(c.Dir)
	if err != nil {
		// config.json first, so a crash mid-way leaves a crashed create
		// that the next New sweeps away.
		os.Remove(filepath.Join(c.Dir, shim.ConfigFile))
		if err := os.RemoveAll(c.Dir); err != nil {
			return fmt.Errorf("remove container %s: %w", c.Name, err)
		}
	}
	r.mu.Lock()
	if r.names[c.Name] == id {
		delete(r.names, c.Name)
	}
	r.mu.Unlock()
	// Unwatched before it is emptied, and so before it can be reused.
	r.watch.forget(id)
	switch {
	case err == nil && r.viewed.any(id):
		// A view (cp, export) still has the layer mounted: reused, it
		// would show the next container's files. It reads what it
		// opened already and no more.
		os.RemoveAll(dirty)
	case err == nil:
		// Its shim lets the last run's mounts go only once that exit is
		// recorded: the next container must not mount this layer before
		// (the emptying overlaps their teardown).
		r.skel.recycle(dirty, func() { waitReleased(ctx, dirty, c.State) })
	}
	r.events.publish(r.event(c, "destroy", nil))
	return nil
}

// unmountUnder detaches every mount at or below dir (deepest first) and
// fails if one remains.
func unmountUnder(dir string) error {
	mounts, err := mountinfo.Under(dir)
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s: %w", m, err)
		}
	}
	return nil
}

// Wait conditions, as Docker names them.
const (
	WaitNotRunning = "not-running" // return at once if not running
	WaitNextExit   = "next-exit"   // the next exit after the call
	WaitRemoved    = "removed"     // until the container is removed
)

// Wait blocks until the condition holds and returns the container's last
// exit code. "" means not-running.
func (r *Runtime) Wait(ctx context.Context, ref, condition string) (int, error) {
	return r.WaitFrom(ctx, ref, condition, -1)
}

func waitCondition(condition string) (string, error) {
	switch condition {
	case "":
		return WaitNotRunning, nil
	case WaitNotRunning, WaitNextExit, WaitRemoved:
		return condition, nil
	}
	return "", fmt.Errorf("%w: wait condition %q: must be not-running, next-exit or removed", ErrInvalid, condition)
}

// WaitFrom is Wait counted from an earlier observation: with next-exit, any
// exit after the container had exited exits times (State.ExitCount)
// satisfies it, even one that happened before this call. The Docker API
// registers a wait before the client's start, then waits in the
// background: this closes that gap. exits below 0 counts from the first
// state the wait reads, as Wait does.
func (r *Runtime) WaitFrom(ctx context.Context, ref, condition string, exits int) (int, error) {
	condition, err := waitCondition(condition)
	if err != nil {
		return 0, err
	}
	id, err := r.Resolve(ref)
	if err != nil {
		if code, ok := r.removedExit(ref, condition); ok {
			return code, nil
		}
		return 0, err
	}
	return r.wait(ctx, id, condition, exits)
}

// removedExit is the final exit code of container ref (its full ID) if it
// was removed lately and condition is its removal: a wait that comes
// after the removal is satisfied as one that came before would have been
// (the Docker API registers a wait beside the start, and a loaded host
// may run it only once a --rm container is gone).
func (r *Runtime) removedExit(ref, condition string) (int, bool) {
	if condition != WaitRemoved {
		return 0, false
	}
	code, ok := r.finalExit.Load(strings.TrimPrefix(ref, "/"))
	if !ok {
		return 0, false
	}
	return code.(int), true
}

// waitExit waits until the container has exited more than exits times (or
// is gone, or ctx ends).
func (r *Runtime) waitExit(ctx context.Context, id string, exits int) {
	r.wait(ctx, id, WaitNextExit, exits)
}

// wait waits for condition on container id, exits as for WaitFrom. A
// container gone at the first read is an error, as for Inspect, unless
// the wait is for its removal (removedExit).
func (r *Runtime) wait(ctx context.Context, id, condition string, exits int) (int, error) {
	r.watch.ensure(id)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var name string
	last := 0
	for first := true; ; first = false {
		changed := r.watch.changed()
		c, err := r.inspect(id)
		if errors.Is(err, ErrNotFound) {
			if first {
				if code, ok := r.removedExit(id, condition); ok {
					return code, nil
				}
				return 0, err
			}
			if code, ok := r.finalExit.Load(id); ok {
				last = code.(int)
			}
			if condition == WaitRemoved {
				return last, nil
			}
			return last, fmt.Errorf("%w: %s was removed while waiting", ErrNotFound, name)
		}
		if err != nil {
			return 0, err
		}
		if first {
			name = c.Name
			if exits < 0 {
				exits = c.State.ExitCount
			}
		}
		last = c.State.ExitCode
		switch {
		case condition == WaitNotRunning && !c.State.Running():
			return last, nil
		case condition == WaitNextExit && c.State.ExitCount > exits:
			return last, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-changed:
		case <-tick.C:
		}
	}
}
