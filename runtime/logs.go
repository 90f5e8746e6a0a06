package runtime

import (
	"context"
	"github.com/reconciler/reconciler/runtime/internal/shim"
	"path/filepath"
	"time"

	"github.com/reconciler/reconciler/runtime/logs"
)

// LogOptions select a container's log entries, in Docker's terms.
type LogOptions struct {
	// Follow keeps streaming new output, across log rotations and
	// restarts, until the container stops running (or ctx ends).
	Follow bool
	// Tail is how many of the last lines to show: logs.TailAll (-1) for
	// all, 0 for none.
	Tail         int
	Since, Until time.Time
	// Timestamps is for the caller's rendering (Entry.Format); entries
	// always carry their time.
	Timestamps bool
	// Stdout and Stderr select streams; both false means both.
	Stdout, Stderr bool
}

// Logs streams a container's log entries (stream, time, line): what
// `docker logs` prints and the Docker API frames.
func (r *Runtime) Logs(ctx context.Context, ref string, o LogOptions) (*logs.Stream, error) {
	c, err := r.Inspect(ref)
	if err != nil {
		return nil, err
	}
	opts := logs.ReadOptions{Tail: o.Tail, Since: o.Since, Until: o.Until, Stdout: o.Stdout, Stderr: o.Stderr, Follow: o.Follow}
	if o.Follow {
		stop := make(chan struct{})
		opts.Stop = stop
		go func() {
			defer close(stop)
			r.Wait(ctx, c.ID, WaitNotRunning)
		}()
	}
	return logs.Read(ctx, filepath.Join(c.Dir, shim.LogFile), opts), nil
}

// Attach streams the container's output from this moment until its next
// exit, everything written before that exit included: call it before
// Start for `docker run` without -d, or on a running container for
// `docker attach`.
func (r *Runtime) Attach(ctx context.Context, ref string) (*logs.Stream, error) {
	c, err := r.Inspect(ref)
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	// The log position is fixed inside Read, after the exit count was
	// taken: output of the run that ends with the next exit is all there.
	exits := c.State.ExitCount
	s := logs.Read(ctx, filepath.Join(c.Dir, shim.LogFile), logs.ReadOptions{Tail: 0, Follow: true, Stop: stop})
	go func() {
		defer close(stop)
		r.waitExit(ctx, c.ID, exits)
	}()
	return s, nil
}
