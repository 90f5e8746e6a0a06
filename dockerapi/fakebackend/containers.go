package fakebackend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/mount"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

// ctr is a fake container. Its fields are guarded by Backend.mu.
type ctr struct {
	id, name string
	image    string // as given at create
	imageID  string
	cfg      *container.Config
	host     *container.HostConfig
	volumes  []string // named volumes used
	created  time.Time
	state    string
	exitCode int
	started  time.Time
	finished time.Time
	restarts int
	log      []logLine
	logWatch []chan struct{} // woken on new log lines or exit
	attached []*attachment
	waiters  []waiter
	stdinR   *io.PipeReader
	stdinW   *io.PipeWriter
	kill     func(sig int) // signals the running program
	done     chan struct{} // closed when the running program ended
	removed  bool
	execIDs  []string
}

type logLine struct {
	stream int // 1 stdout, 2 stderr
	t      time.Time
	data   []byte
}

type attachment struct {
	stdout, stderr io.Writer
	done           chan struct{}
}

type waiter struct {
	cond container.WaitCondition
	ch   chan container.WaitResponse
}

var validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// lookup finds a container by name, ID or unique ID prefix; b.mu is held.
func (b *Backend) lookup(ref string) (*ctr, error) {
	if c, ok := b.containers[ref]; ok {
		return c, nil
	}
	name := trimSlash(ref)
	var found *ctr
	for _, c := range b.containers {
		if c.name == name {
			return c, nil
		}
		if strings.HasPrefix(c.id, ref) && ref != "" {
			if found != nil {
				return nil, fmt.Errorf("%w: multiple containers found with provided prefix: %s", engine.ErrInvalid, ref)
			}
			found = c
		}
	}
	if found != nil {
		return found, nil
	}
	return nil, fmt.Errorf("%w: No such container: %s", engine.ErrNotFound, ref)
}

func (b *Backend) containerEvent(c *ctr, action events.Action, extra map[string]string) {
	attrs := map[string]string{"name": c.name, "image": c.image}
	for k, v := range c.cfg.Labels {
		attrs[k] = v
	}
	for k, v := range extra {
		attrs[k] = v
	}
	b.publish(events.ContainerEventType, action, c.id, attrs)
}

// ContainerCreate implements dockerapi.ContainerBackend.
func (b *Backend) ContainerCreate(ctx context.Context, cc dockerapi.ContainerCreateConfig) (container.CreateResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	im, err := b.resolveImage(cc.Config.Image)
	if err != nil {
		return container.CreateResponse{}, err
	}
	id := randomID()
	name := trimSlash(cc.Name)
	if name == "" {
		name = "fake_" + id[:8]
	} else if !validName.MatchString(name) {
		return container.CreateResponse{}, fmt.Errorf("%w: Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", engine.ErrInvalid, name)
	}
	if err := b.nameFree(name); err != nil {
		return container.CreateResponse{}, err
	}
	cfg := *cc.Config
	if len(cfg.Cmd) == 0 && len(cfg.Entrypoint) == 0 {
		cfg.Cmd = im.Cmd
	}
	cfg.Env = append(append([]string{}, im.Env...), cfg.Env...)
	if cfg.Hostname == "" {
		cfg.Hostname = id[:12]
	}
	c := &ctr{id: id, name: name, image: cc.Config.Image, imageID: im.ID, cfg: &cfg, host: cc.HostConfig, created: now(), state: "created"}
	if c.host == nil {
		c.host = &container.HostConfig{}
	}
	for _, bind := range c.host.Binds {
		if src, _, ok := strings.Cut(bind, ":"); ok && !strings.HasPrefix(src, "/") {
			c.volumes = append(c.volumes, src)
		}
	}
	for _, m := range c.host.Mounts {
		if m.Type == mount.TypeVolume && m.Source != "" {
			c.volumes = append(c.volumes, m.Source)
		}
	}
	for _, v := range c.volumes {
		b.ensureVolume(v, nil)
	}
	if cfg.OpenStdin {
		c.stdinR, c.stdinW = io.Pipe()
	}
	b.containers[id] = c
	b.containerEvent(c, events.ActionCreate, nil)
	return container.CreateResponse{ID: id}, nil
}

func (b *Backend) summaryOf(c *ctr) container.Summary {
	cmd := append(append([]string{}, c.cfg.Entrypoint...), c.cfg.Cmd...)
	s := container.Summary{ID: c.id, Names: []string{"/" + c.name}, Image: c.image, ImageID: c.imageID,
		Command: strings.Join(cmd, " "), Created: c.created.Unix(), Labels: c.cfg.Labels, Ports: []container.PortSummary{},
		State: container.ContainerState(c.state), Status: dockerapi.ContainerStatus(c.state, c.exitCode, c.started, c.finished, now())}
	s.HostConfig.NetworkMode = string(c.host.NetworkMode)
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	return s
}

// ContainerList implements dockerapi.ContainerBackend.
func (b *Backend) ContainerList(ctx context.Context, o dockerapi.ContainerListOptions) ([]container.Summary, error) {
	if err := o.Filters.Validate("label", "label!", "name", "id", "status", "ancestor", "exited"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var list []*ctr
	for _, c := range b.containers {
		if !o.All && c.state != "running" && len(o.Filters["status"]) == 0 {
			continue
		}
		if !o.Filters.MatchLabels(c.cfg.Labels) || !o.Filters.Match("status", c.state) || !o.Filters.MatchPrefix("id", c.id) ||
			!matchSubstring(o.Filters, "name", c.name) || !o.Filters.Match("ancestor", c.image) ||
			!o.Filters.Match("exited", strconv.Itoa(c.exitCode)) {
			continue
		}
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].created.After(list[j].created) })
	if o.Limit > 0 && len(list) > o.Limit {
		list = list[:o.Limit]
	}
	out := make([]container.Summary, 0, len(list))
	for _, c := range list {
		out = append(out, b.summaryOf(c))
	}
	return out, nil
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.Format(time.RFC3339Nano)
}

// ContainerInspect implements dockerapi.ContainerBackend.
func (b *Backend) ContainerInspect(ctx context.Context, ref string) (container.InspectResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.lookup(ref)
	if err != nil {
		return container.InspectResponse{}, err
	}
	var path string
	var args []string
	if cmd := append(append([]string{}, c.cfg.Entrypoint...), c.cfg.Cmd...); len(cmd) > 0 {
		path, args = cmd[0], cmd[1:]
	}
	cfg := *c.cfg
	host := *c.host
	var mounts []container.MountPoint
	for _, v := range c.volumes {
		mounts = append(mounts, container.MountPoint{Type: mount.TypeVolume, Name: v, Driver: "local", RW: true, Mode: "z"})
	}
	return container.InspectResponse{
		ID: c.id, Name: "/" + c.name, Created: c.created.Format(time.RFC3339Nano), Path: path, Args: args,
		Image: c.imageID, RestartCount: c.restarts, Driver: "fake", Platform: "linux", ExecIDs: c.execIDs,
		State: &container.State{Status: container.ContainerState(c.state), Running: c.state == "running", ExitCode: c.exitCode,
			StartedAt: timeText(c.started), FinishedAt: timeText(c.finished)},
		Config: &cfg, HostConfig: &host, Mounts: mounts,
	}, nil
}

// ContainerStart implements dockerapi.ContainerBackend.
func (b *Backend) ContainerStart(ctx context.Context, ref string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.lookup(ref)
	if err != nil {
		return err
	}
	if c.state == "running" {
		return fmt.Errorf("%w: container %s is already running", dockerapi.ErrNotModified, c.name)
	}
	b.startLocked(c)
	return nil
}

// startLocked runs the container's program; b.mu is held.
func (b *Backend) startLocked(c *ctr) {
	pctx, cancel := context.WithCancel(context.Background())
	var sigMu sync.Mutex
	sig := 0
	c.kill = func(s int) {
		sigMu.Lock()
		if sig == 0 {
			sig = s
		}
		sigMu.Unlock()
		cancel()
	}
	c.done = make(chan struct{})
	c.state, c.started, c.finished, c.exitCode = "running", now(), time.Time{}, 0
	p := &proc{
		args:   append(append([]string{}, c.cfg.Entrypoint...), c.cfg.Cmd...),
		env:    c.cfg.Env,
		stdout: &ctrOutput{b: b, c: c, stream: 1},
		stderr: &ctrOutput{b: b, c: c, stream: 2},
		signal: func() int { sigMu.Lock(); defer sigMu.Unlock(); return sig },
	}
	if c.stdinR != nil {
		p.stdin = c.stdinR
	}
	done := c.done
	b.containerEvent(c, events.ActionStart, nil)
	go func() {
		code := run(pctx, p)
		cancel()
		b.exited(c, code)
		close(done)
	}()
}

// ctrOutput appends to the container's log and copies to attached clients.
type ctrOutput struct {
	b      *Backend
	c      *ctr
	stream int
}

func (o *ctrOutput) Write(p []byte) (int, error) {
	o.b.mu.Lock()
	o.c.log = append(o.c.log, logLine{stream: o.stream, t: now(), data: append([]byte{}, p...)})
	wake(&o.c.logWatch)
	atts := append([]*attachment{}, o.c.attached...)
	o.b.mu.Unlock()
	for _, a := range atts {
		w := a.stdout
		if o.stream == 2 {
			w = a.stderr
		}
		if w != nil {
			w.Write(p)
		}
	}
	return len(p), nil
}

func wake(list *[]chan struct{}) {
	for _, ch := range *list {
		close(ch)
	}
	*list = nil
}

// exited records the end of a run, answers waits and ends attachments.
func (b *Backend) exited(c *ctr, code int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c.state, c.exitCode, c.finished = "exited", code, now()
	c.kill = nil
	for _, a := range c.attached {
		close(a.done)
	}
	c.attached = nil
	wake(&c.logWatch)
	b.containerEvent(c, events.ActionDie, map[string]string{"exitCode": strconv.Itoa(code)})
	b.answerWaits(c, func(cond container.WaitCondition) bool { return cond != container.WaitConditionRemoved })
	if c.host.AutoRemove {
		b.removeLocked(c)
	}
}

func (b *Backend) answerWaits(c *ctr, match func(container.WaitCondition) bool) {
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if match(w.cond) {
			w.ch <- container.WaitResponse{StatusCode: int64(c.exitCode)}
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

func (b *Backend) removeLocked(c *ctr) {
	if c.removed {
		return
	}
	c.removed = true
	delete(b.containers, c.id)
	if c.stdinW != nil {
		c.stdinW.Close()
	}
	b.containerEvent(c, events.ActionDestroy, nil)
	b.answerWaits(c, func(container.WaitCondition) bool { return true })
}

// signalNumber parses "SIGTERM", "TERM" or "15".
func signalNumber(s string) (int, error) {
	if s == "" {
		return int(syscall.SIGKILL), nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return n, nil
	}
	name := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s), "SIG"))
	for n := 1; n < 32; n++ {
		if strings.EqualFold(strings.TrimPrefix(strings.ToUpper(syscall.Signal(n).String()), "SIG"), name) {
			return n, nil
		}
	}
	known := map[string]int{"TERM": 15, "KILL": 9, "INT": 2, "HUP": 1, "USR1": 10, "USR2": 12, "QUIT": 3}
	if n, ok := known[name]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("%w: invalid signal: %s", engine.ErrInvalid, s)
}

// ContainerStop implements dockerapi.ContainerBackend. Fake programs
// end on any signal, so the timeout only bounds the wait.
func (b *Backend) ContainerStop(ctx context.Context, ref string, o dockerapi.StopOptions) error {
	sigName := o.Signal
	b.mu.Lock()
	c, err := b.lookup(ref)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	if sigName == "" {
		sigName = c.cfg.StopSignal
	}
	if sigName == "" {
		sigName = "SIGTERM"
	}
	sig, err := signalNumber(sigName)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	if c.state != "running" {
		b.mu.Unlock()
		return fmt.Errorf("%w: container %s is not running", dockerapi.ErrNotModified, c.name)
	}
	kill, done := c.kill, c.done
	b.mu.Unlock()
	kill(sig)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ContainerRestart implements dockerapi.ContainerBackend.
func (b *Backend) ContainerRestart(ctx context.Context, ref string, o dockerapi.StopOptions) error {
	if err := b.ContainerStop(ctx, ref, o); err != nil && !errors.Is(err, dockerapi.ErrNotModified) {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.lookup(ref)
	if err != nil {
		return err
	}
	b.startLocked(c) // a manual restart is not counted in RestartCount, as in Docker

	return nil
}

// ContainerKill implements dockerapi.ContainerBackend.
func (b *Backend) ContainerKill(ctx context.Context, ref, signal string) error {
	sig, err := signalNumber(signal)
	if err != nil {
		return err
	}
	b.mu.Lock()
	c, err := b.lookup(ref)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	if c.state != "running" {
		b.mu.Unlock()
		return fmt.Errorf("%w: Container %s is not running", engine.ErrConflict, c.id)
	}
	kill, done := c.kill, c.done
	b.containerEvent(c, events.ActionKill, map[string]string{"signal": strconv.Itoa(sig)})
	b.mu.Unlock()
	kill(sig)
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

// ContainerResize implements dockerapi.ContainerBackend: the fake has no
// terminal, it records the size as the container's console size.
func (b *Backend) ContainerResize(ctx context.Context, ref string, height, width uint) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.lookup(ref)
	if err != nil {
		return err
	}
	if !c.cfg.Tty {
		return fmt.Errorf("%w: container %s has no terminal", engine.ErrInvalid, c.id)
	}
	if c.state != "running" {
		return fmt.Errorf("%w: Container %s is not running", engine.ErrConflict, c.id)
	}
	c.host.ConsoleSize = [2]uint{height, width}
	return nil
}

// ContainerWait implements dockerapi.ContainerBackend.
func (b *Backend) ContainerWait(ctx context.Context, ref string, cond container.WaitCondition) (<-chan container.WaitResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.lookup(ref)
	if err != nil {
		return nil, err
	}
	ch := make(chan container.WaitResponse, 1)
	if cond == container.WaitConditionNotRunning && c.state != "running" {
		ch <- container.WaitResponse{StatusCode: int64(c.exitCode)}
		close(ch)
		return ch, nil
	}
	c.waiters = append(c.waiters, waiter{cond: cond, ch: ch})
	return ch, nil
}

// ContainerLogs implements dockerapi.ContainerBackend.
func (b *Backend) ContainerLogs(ctx context.Context, ref string, o dockerapi.LogsOptions, stdout, stderr io.Writer) error {
	b.mu.Lock()
	c, err := b.lookup(ref)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	next := 0
	if o.Tail >= 0 && len(c.log) > o.Tail {
		next = len(c.log) - o.Tail
	}
	for {
		lines := c.log[next:]
		next = len(c.log)
		running := c.state == "running"
		var wakeup chan struct{}
		if o.Follow && running {
			wakeup = make(chan struct{})
			c.logWatch = append(c.logWatch, wakeup)
		}
		b.mu.Unlock()
		for _, l := range lines {
			if (!o.Since.IsZero() && l.t.Before(o.Since)) || (!o.Until.IsZero() && l.t.After(o.Until)) {
				continue
			}
			w := stdout
			if l.stream == 2 {
				w = stderr
			}
			if w == nil {
				continue
			}
			data := l.data
			if o.Timestamps {
				data = append([]byte(l.t.Format(time.RFC3339Nano)+" "), data...)
			}
			if _, err := w.Write(data); err != nil {
				return nil
			}
		}
		if wakeup == nil {
			return nil
		}
		select {
		case <-wakeup:
		case <-ctx.Done():
			return nil
		}
		b.mu.Lock()
	}
}

// ContainerAttach implements dockerapi.ContainerBackend.
func (b *Backend) ContainerAttach(ctx context.Context, ref string, o dockerapi.AttachOptions) error {
	b.mu.Lock()
	c, err := b.lookup(ref)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	if o.Logs {
		for _, l := range c.log {
			if w := map[int]io.Writer{1: o.Stdout, 2: o.Stderr}[l.stream]; w != nil {
				w.Write(l.data)
			}
		}
	}
	if !o.Stream || (c.state == "exited" && c.stdinW == nil) {
		b.mu.Unlock()
		return nil
	}
	a := &attachment{stdout: o.Stdout, stderr: o.Stderr, done: make(chan struct{})}
	c.attached = append(c.attached, a)
	stdinW := c.stdinW
	b.containerEvent(c, events.ActionAttach, nil)
	b.mu.Unlock()
	if o.Attached != nil {
		o.Attached()
	}
	if o.Stdin != nil && stdinW != nil {
		go func() {
			io.Copy(stdinW, o.Stdin)
			if c.cfg.StdinOnce {
				stdinW.Close()
			}
		}()
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		b.mu.Lock()
		for i, x := range c.attached {
			if x == a {
				c.attached = append(c.attached[:i:i], c.attached[i+1:]...)
				break
			}
		}
		b.mu.Unlock()
	}
	return nil
}

// ContainerRemove implements dockerapi.ContainerBackend.
func (b *Backend) ContainerRemove(ctx context.Context, ref string, o dockerapi.RemoveOptions) error {
	b.mu.Lock()
	c, err := b.lookup(ref)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	if c.state == "running" {
		if !o.Force {
			b.mu.Unlock()
			return fmt.Errorf("%w: You cannot remove a running container %s. Stop the container before attempting removal or force remove", engine.ErrConflict, c.id)
		}
		kill, done := c.kill, c.done
		b.mu.Unlock()
		kill(int(syscall.SIGKILL))
		<-done
		b.mu.Lock()
	}
	b.removeLocked(c)
	b.mu.Unlock()
	return nil
}

// ContainersPrune implements dockerapi.ContainerBackend.
func (b *Backend) ContainersPrune(ctx context.Context, f dockerapi.Filters) (container.PruneReport, error) {
	if err := f.Validate("label", "label!", "until"); err != nil {
		return container.PruneReport{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var rep container.PruneReport
	for _, id := range sortedKeys(b.containers) {
		c := b.containers[id]
		if c.state != "running" && f.MatchLabels(c.cfg.Labels) {
			b.removeLocked(c)
			rep.ContainersDeleted = append(rep.ContainersDeleted, id)
		}
	}
	return rep, nil
}

// ContainerCommit implements dockerapi.ContainerBackend.
func (b *Backend) ContainerCommit(ctx context.Context, ref string, o dockerapi.CommitOptions) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.lookup(ref)
	if err != nil {
		return "", err
	}
	base := b.images[c.imageID]
	i := &img{ID: digestOf(c.id, now().String()), Created: now(), Parent: c.imageID, Comment: o.Comment, Author: o.Author,
		Cmd: c.cfg.Cmd, Env: c.cfg.Env, Labels: c.cfg.Labels}
	if base != nil {
		i.Size = base.Size + 1
		i.History = append(append([]string{}, base.History...), "commit "+c.name)
	}
	applyChanges(i, o.Changes)
	if o.Repo != "" {
		i.Tags = []string{dockerapi.JoinRef(o.Repo, o.Tag)}
	}
	b.addImage(i)
	b.containerEvent(c, events.ActionCommit, nil)
	return i.ID, nil
}
