package localbackend

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/runtime"
)

// execution is one `docker exec`: created, then started once.
type execution struct {
	id, containerID string
	cfg             container.ExecCreateRequest

	// resize carries POST /exec/{id}/resize sizes to a running Tty exec;
	// only the latest pending size matters.
	resize chan [2]uint

	mu       sync.Mutex
	started  bool
	running  bool
	exitCode *int
}

// ExecCreate implements dockerapi.ExecBackend.
func (b *Backend) ExecCreate(ctx context.Context, ref string, cfg container.ExecCreateRequest) (string, error) {
	c, err := b.inspect(ref)
	if err != nil {
		return "", err
	}
	if c.State.Status != runtime.StateRunning {
		return "", fmt.Errorf("%w: container %s is not running", engine.ErrConflict, c.ID)
	}
	if len(cfg.Cmd) == 0 {
		return "", fmt.Errorf("%w: no exec command specified", engine.ErrInvalid)
	}
	if cfg.Privileged {
		return "", fmt.Errorf("%w: exec with --privileged is not supported by this engine", engine.ErrInvalid)
	}
	x := &execution{id: randomID(), containerID: c.ID, cfg: cfg, resize: make(chan [2]uint, 1)}
	b.mu.Lock()
	b.execs[x.id] = x
	b.mu.Unlock()
	return x.id, nil
}

func (b *Backend) execution(id string) (*execution, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	x, ok := b.execs[id]
	if !ok {
		return nil, fmt.Errorf("%w: No such exec instance: %s", engine.ErrNotFound, id)
	}
	return x, nil
}

func (b *Backend) execIDs(containerID string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ids []string
	for _, x := range b.execs {
		if x.containerID == containerID {
			ids = append(ids, x.id)
		}
	}
	return ids
}

// ExecStart implements dockerapi.ExecBackend.
func (b *Backend) ExecStart(ctx context.Context, id string, o dockerapi.ExecStartOptions) error {
	x, err := b.execution(id)
	if err != nil {
		return err
	}
	x.mu.Lock()
	if x.started {
		x.mu.Unlock()
		return fmt.Errorf("%w: exec %s has already been started", engine.ErrConflict, id)
	}
	x.started, x.running = true, true
	x.mu.Unlock()

	spec := runtime.ExecSpec{Args: x.cfg.Cmd, Env: x.cfg.Env, Cwd: x.cfg.WorkingDir, User: x.cfg.User,
		Stdin: o.Stdin, Stdout: orDiscard(o.Stdout), Stderr: orDiscard(o.Stderr)}
	if !x.cfg.AttachStdin {
		spec.Stdin = nil
	}
	// The server frames the streams by the start request's Tty; the
	// terminal is the create's (Docker's rule).
	if x.cfg.Tty {
		spec.Tty, spec.Resize = true, x.resize
		if size := firstSize(o.ConsoleSize, x.cfg.ConsoleSize); size != nil {
			spec.ConsoleSize = *size
		}
	}
	run := func(ctx context.Context) {
		code, err := b.rt().Exec(ctx, x.containerID, spec)
		if err != nil && ctx.Err() == nil {
			// Docker reports an exec that cannot start in its output,
			// with exit code 126 whatever the cause.
			fmt.Fprintf(spec.Stdout, "exec failed: %v\n", local.WrapError(err))
			code = 126
		}
		x.mu.Lock()
		x.running, x.exitCode = false, &code
		x.mu.Unlock()
	}
	if o.Detach {
		spec.Stdout, spec.Stderr, spec.Stdin = io.Discard, io.Discard, nil
		go run(context.Background())
		return nil
	}
	if o.Started != nil {
		o.Started()
	}
	if spec.Tty && spec.ConsoleSize == ([2]uint{}) {
		spec.ConsoleSize = firstResize(ctx, x.resize)
	}
	run(ctx)
	return nil
}

// firstResizeWait bounds how long a Tty exec started without a size waits
// for its client's first resize. The docker CLI at API 1.41 sends no exec
// ConsoleSize: it resizes right after the upgrade, and a program that asks
// for its size at once (stty size) would find 0x0 if it started first.
const firstResizeWait = 500 * time.Millisecond

// firstResize returns the first size sent to the exec's resize channel,
// or 0x0 (no size set) when none comes in time.
func firstResize(ctx context.Context, resize <-chan [2]uint) [2]uint {
	t := time.NewTimer(firstResizeWait)
	defer t.Stop()
	select {
	case sz := <-resize:
		return sz
	case <-t.C:
	case <-ctx.Done():
	}
	return [2]uint{}
}

// ExecResize implements dockerapi.ExecBackend: the size reaches the
// terminal of a running exec created with Tty.
func (b *Backend) ExecResize(ctx context.Context, id string, height, width uint) error {
	x, err := b.execution(id)
	if err != nil {
		return err
	}
	if !x.cfg.Tty {
		return fmt.Errorf("%w: exec %s has no terminal (it was created without Tty)", engine.ErrInvalid, id)
	}
	x.mu.Lock()
	running := x.running
	x.mu.Unlock()
	if !running {
		return fmt.Errorf("%w: exec %s is not running", engine.ErrConflict, id)
	}
	for {
		select {
		case x.resize <- [2]uint{height, width}:
			return nil
		default:
			select { // replace a size not yet applied
			case <-x.resize:
			default:
			}
		}
	}
}

func firstSize(sizes ...*[2]uint) *[2]uint {
	for _, s := range sizes {
		if s != nil && s[0] > 0 && s[1] > 0 {
			return s
		}
	}
	return nil
}

// ExecInspect implements dockerapi.ExecBackend.
func (b *Backend) ExecInspect(ctx context.Context, id string) (container.ExecInspectResponse, error) {
	x, err := b.execution(id)
	if err != nil {
		return container.ExecInspectResponse{}, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	resp := container.ExecInspectResponse{
		ID: x.id, Running: x.running, ExitCode: x.exitCode, ContainerID: x.containerID,
		OpenStdin: x.cfg.AttachStdin, OpenStdout: x.cfg.AttachStdout, OpenStderr: x.cfg.AttachStderr,
		ProcessConfig: &container.ExecProcessConfig{Tty: x.cfg.Tty, Entrypoint: x.cfg.Cmd[0], Arguments: x.cfg.Cmd[1:], User: x.cfg.User},
	}
	return resp, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
