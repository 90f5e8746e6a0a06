package fakebackend

import (
	"context"
	"fmt"
	"io"
	"path"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

type execProc struct {
	id       string
	c        *ctr
	cfg      container.ExecCreateRequest
	running  bool
	exitCode *int
	size     [2]uint // the last resize (Tty)
}

// ExecResize implements dockerapi.ExecBackend: the fake has no terminal,
// it records the size.
func (b *Backend) ExecResize(ctx context.Context, id string, height, width uint) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.execs[id]
	switch {
	case !ok:
		return fmt.Errorf("%w: No such exec instance: %s", engine.ErrNotFound, id)
	case !e.cfg.Tty:
		return fmt.Errorf("%w: exec %s has no terminal", engine.ErrInvalid, id)
	case !e.running:
		return fmt.Errorf("%w: exec %s is not running", engine.ErrConflict, id)
	}
	e.size = [2]uint{height, width}
	return nil
}

// ExecCreate implements dockerapi.ExecBackend.
func (b *Backend) ExecCreate(ctx context.Context, ref string, cfg container.ExecCreateRequest) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.lookup(ref)
	if err != nil {
		return "", err
	}
	if c.state != "running" {
		return "", fmt.Errorf("%w: Container %s is not running", engine.ErrConflict, c.id)
	}
	e := &execProc{id: randomID(), c: c, cfg: cfg}
	b.execs[e.id] = e
	c.execIDs = append(c.execIDs, e.id)
	b.containerEvent(c, events.Action(fmt.Sprintf("%s: %s", events.ActionExecCreate, joinArgs(cfg.Cmd))), map[string]string{"execID": e.id})
	return e.id, nil
}

func joinArgs(a []string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

// ExecStart implements dockerapi.ExecBackend.
func (b *Backend) ExecStart(ctx context.Context, id string, o dockerapi.ExecStartOptions) error {
	b.mu.Lock()
	e, ok := b.execs[id]
	if !ok {
		b.mu.Unlock()
		return fmt.Errorf("%w: No such exec instance: %s", engine.ErrNotFound, id)
	}
	if e.running || e.exitCode != nil {
		b.mu.Unlock()
		return fmt.Errorf("%w: exec %s has already run", engine.ErrConflict, id)
	}
	if e.c.state != "running" {
		b.mu.Unlock()
		return fmt.Errorf("%w: Container %s is not running", engine.ErrConflict, e.c.id)
	}
	e.running = true
	env := append(append([]string{}, e.c.cfg.Env...), e.cfg.Env...)
	b.containerEvent(e.c, events.Action(fmt.Sprintf("%s: %s", events.ActionExecStart, joinArgs(e.cfg.Cmd))), map[string]string{"execID": id})
	b.mu.Unlock()

	p := &proc{args: e.cfg.Cmd, env: env, stdout: orDiscard(o.Stdout), stderr: orDiscard(o.Stderr), signal: func() int { return 9 }}
	if o.Stdin != nil {
		p.stdin = o.Stdin
	}
	runIt := func() {
		code := run(ctx, p)
		if _, known := programs[path.Base(p.args[0])]; !known {
			code = 126
		}
		b.mu.Lock()
		e.running, e.exitCode = false, &code
		b.containerEvent(e.c, events.ActionExecDie, map[string]string{"execID": id, "exitCode": fmt.Sprint(code)})
		b.mu.Unlock()
	}
	if o.Detach {
		ctx = context.WithoutCancel(ctx)
		go runIt()
		return nil
	}
	if o.Started != nil {
		o.Started()
	}
	runIt()
	return nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// ExecInspect implements dockerapi.ExecBackend.
func (b *Backend) ExecInspect(ctx context.Context, id string) (container.ExecInspectResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.execs[id]
	if !ok {
		return container.ExecInspectResponse{}, fmt.Errorf("%w: No such exec instance: %s", engine.ErrNotFound, id)
	}
	var args []string
	if len(e.cfg.Cmd) > 1 {
		args = e.cfg.Cmd[1:]
	}
	return container.ExecInspectResponse{
		ID: e.id, Running: e.running, ExitCode: e.exitCode, ContainerID: e.c.id,
		OpenStdin: e.cfg.AttachStdin, OpenStdout: e.cfg.AttachStdout, OpenStderr: e.cfg.AttachStderr,
		ProcessConfig: &container.ExecProcessConfig{Tty: e.cfg.Tty, Entrypoint: e.cfg.Cmd[0], Arguments: args, User: e.cfg.User},
	}, nil
}
