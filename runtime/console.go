package runtime

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// Resize sets the terminal size of a running container created with Tty
// (docker's POST /containers/{id}/resize); the size is kept for its later
// runs (restarts).
func (r *Runtime) Resize(ctx context.Context, ref string, height, width uint) error {
	c, err := r.Inspect(ref)
	if err != nil {
		return err
	}
	if !c.Spec.Tty {
		return fmt.Errorf("%w: container %s has no terminal (it was created without Tty)", ErrInvalid, c.Name)
	}
	if !c.State.Running() {
		return fmt.Errorf("%w: cannot resize the terminal of container %s (%s)", ErrNotRunning, c.Name, c.State.Status)
	}
	if _, err := shim.Call(ctx, c.Dir, shim.Request{Op: "resize", Height: height, Width: width}); err != nil {
		return fmt.Errorf("resize the terminal of container %s: %w", c.Name, err)
	}
	return nil
}

// execConsole connects an exec's terminal to its caller: output to
// e.Stdout, e.Stdin typed in, sizes from e.ConsoleSize and e.Resize. The
// returned function waits (briefly: a background child may hold the
// terminal) for the output to end and releases the terminal.
func execConsole(console *os.File, e ExecSpec) (finish func()) {
	// Sizes sent before the start apply before any input.
	for pending := true; pending && e.Resize != nil; {
		select {
		case sz := <-e.Resize:
			sandbox.ResizeConsole(console, sz[0], sz[1])
		default:
			pending = false
		}
	}
	out := e.Stdout
	if out == nil {
		out = io.Discard
	}
	done := make(chan struct{})
	go func() {
		io.Copy(out, console) // ends with EIO once every slave is closed
		close(done)
	}()
	if e.Stdin != nil {
		go io.Copy(console, e.Stdin)
	}
	if e.Resize != nil {
		go func() {
			for {
				select {
				case sz := <-e.Resize:
					sandbox.ResizeConsole(console, sz[0], sz[1])
				case <-done:
					return
				}
			}
		}()
	}
	return func() {
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
		console.Close()
	}
}
