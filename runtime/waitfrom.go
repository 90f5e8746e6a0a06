package runtime

import (
	"context"
	"fmt"
)

// WaitFrom is Wait counted from an earlier observation: with next-exit, any
// exit after the container had exited exits times satisfies it, even one
// that happened before this call. The Docker API registers a wait before
// the client's start, then waits in the background: this closes that gap.
func (r *Runtime) WaitFrom(ctx context.Context, ref, condition string, exits int) (int, error) {
	id, err := r.Resolve(ref)
	if err != nil {
		return 0, err
	}
	switch condition {
	case "":
		condition = WaitNotRunning
	case WaitNotRunning, WaitNextExit, WaitRemoved:
	default:
		return 0, fmt.Errorf("%w: wait condition %q: must be not-running, next-exit or removed", ErrInvalid, condition)
	}
	first, err := r.inspect(id)
	if err != nil {
		return 0, err
	}
	return r.wait(ctx, first, condition, exits)
}
