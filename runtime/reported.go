package runtime

import (
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// A shim records each state of its container in state.json (written to a
// temporary file, synced, renamed over the last), and reports it to the
// runtime that assigned the container as it begins to (see shim.ReadyMsg).
// The sync is the slow part: a millisecond or two here, on the way of
// every start and every exit. So the runtime answers from the report
// while the disk catches up, as dockerd answers from memory while it
// writes its own checkpoint: a start returns once the program runs, and a
// wait once it has exited, not once the disk has the news. Nothing is
// weaker on disk: every state still lands there synced before its rename,
// and a Runtime that closes waits for the states it was told of.
//
// reported holds, by container ID, the latest state reported and not yet
// read back from state.json (shim.State).

// stateSeq orders the states of one container: every start and every exit
// a shim records adds one.
func stateSeq(st State) int { return st.StartCount + st.ExitCount }

// readState is the container's state: state.json, or the state its shim
// reported if that is newer.
func (r *Runtime) readState(id string) (State, error) {
	// The report first: a file read before it could be older than one
	// another reader found newer, which deleted the report.
	v, ok := r.reported.Load(id)
	st, err := shim.ReadState(r.dir(id))
	if !ok || err != nil {
		return st, err
	}
	if rep := v.(State); stateSeq(rep) > stateSeq(st) {
		return rep, nil
	}
	r.reported.CompareAndDelete(id, v) // on disk now
	return st, nil
}

// report keeps a state the shim of container id reported (unless an
// older one than kept), and with observe, reports it as the watcher does
// a change of state.json: events, metrics, waiters woken.
func (r *Runtime) report(id string, st State, observe bool) {
	for {
		v, loaded := r.reported.LoadOrStore(id, st)
		if !loaded {
			break
		}
		if stateSeq(v.(State)) > stateSeq(st) || r.reported.CompareAndSwap(id, v, st) {
			break
		}
	}
	if observe {
		r.watch.observe(id)
	}
}

// settleReported waits, up to limit, until state.json holds every state
// reported (its shim alive to write it): a process that reads the root
// after this one ends (the next CLI command) then finds them.
func (r *Runtime) settleReported(limit time.Duration) {
	deadline := time.Now().Add(limit)
	r.reported.Range(func(k, _ any) bool {
		r.settle(k.(string), deadline)
		return true
	})
}

// settle waits, up to deadline, until state.json holds the state reported
// for container id, if any (and its shim is alive to write it).
func (r *Runtime) settle(id string, deadline time.Time) {
	for {
		changed := r.watch.changed()
		v, ok := r.reported.Load(id)
		if !ok {
			return
		}
		rep := v.(State)
		st, err := shim.ReadState(r.dir(id))
		if err != nil || stateSeq(st) >= stateSeq(rep) || !shim.Alive(rep.ShimPid, rep.ShimStartTime) {
			r.reported.CompareAndDelete(id, v)
			return
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return
		}
		// The watcher sees the rename; the poll is for a ShortLived
		// runtime, whose watcher polls slowly.
		select {
		case <-changed:
		case <-time.After(min(wait, time.Millisecond)):
		}
	}
}
