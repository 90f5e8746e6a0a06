package runtime

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
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
	opts := logs.ReadOptions{Tail: o.Tail, Since: o.Since, Until: o.Until, Stdout: o.Stdout, Stderr: o.Stderr, Follow: o.Follow, Poll: r.opts.ShortLived}
	if !o.Follow {
		return logs.Read(ctx, filepath.Join(c.Dir, shim.LogFile), opts), nil
	}
	stop := make(chan struct{})
	opts.Stop = stop
	s := logs.Read(ctx, filepath.Join(c.Dir, shim.LogFile), opts)
	r.stopWhen(ctx, s, stop, func(ctx context.Context) { r.Wait(ctx, c.ID, WaitNotRunning) })
	return s, nil
}

// stopWhen closes stop once wait returns, and gives up waiting when the
// stream ends first (closed by its reader), so no goroutine outlives it.
func (r *Runtime) stopWhen(ctx context.Context, s *logs.Stream, stop chan struct{}, wait func(context.Context)) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(stop)
		wait(ctx)
	}()
	go func() {
		<-s.Done()
		cancel()
	}()
}

// Attach streams the container's output from this moment until its next
// exit, everything written before that exit included: call it before
// Start for `docker run` without -d (it then delivers the run from its
// first line), or on a running container for `docker attach`. A client
// slower than the container still gets every line, once, across log
// rotations and the container's removal, unless it falls behind by more
// than the log keeps (see logs.Read).
func (r *Runtime) Attach(ctx context.Context, ref string) (*logs.Stream, error) {
	c, err := r.Inspect(ref)
	if err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	// The log position is fixed inside Read, after the exit count was
	// taken: output of the run that ends with the next exit is all there.
	exits := c.State.ExitCount
	s := logs.Read(ctx, filepath.Join(c.Dir, shim.LogFile), logs.ReadOptions{Tail: 0, Follow: true, Stop: stop, Poll: r.opts.ShortLived})
	r.stopWhen(ctx, s, stop, func(ctx context.Context) { r.waitExit(ctx, c.ID, exits) })
	done := r.attached.add(c.ID)
	go func() {
		<-s.Done()
		done()
	}()
	return s, nil
}

// AttachStdin returns a writer into the running container's stdin (it must
// have been created with OpenStdin). Close ends this client's input: with
// StdinOnce the container then reads EOF, as after `echo x | docker run -i`.
func (r *Runtime) AttachStdin(ctx context.Context, ref string) (io.WriteCloser, error) {
	c, err := r.Inspect(ref)
	if err != nil {
		return nil, err
	}
	if !c.Spec.OpenStdin {
		return nil, fmt.Errorf("%w: container %s was created without an open stdin", ErrInvalid, c.Name)
	}
	if !c.State.Running() {
		return nil, fmt.Errorf("%w: cannot attach to the stdin of container %s", ErrNotRunning, c.Name)
	}
	w, err := shim.Stdin(ctx, c.Dir)
	if err != nil {
		return nil, fmt.Errorf("attach stdin of container %s: %w", c.Name, err)
	}
	return w, nil
}
