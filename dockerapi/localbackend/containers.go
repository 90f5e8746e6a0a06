package localbackend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/runtime/logs"
)

const timeFormat = time.RFC3339Nano

func (b *Backend) rt() *runtime.Runtime { return b.e.Runtime() }

// inspect resolves ref and maps the runtime's errors to the engine's.
func (b *Backend) inspect(ref string) (*runtime.Container, error) {
	c, err := b.rt().Inspect(ref)
	if errors.Is(err, runtime.ErrNotFound) {
		return nil, fmt.Errorf("%w: No such container: %s", engine.ErrNotFound, ref) // docker's words
	}
	if err != nil {
		return nil, local.WrapError(err)
	}
	return c, nil
}

// ContainerList implements dockerapi.ContainerBackend.
func (b *Backend) ContainerList(ctx context.Context, o dockerapi.ContainerListOptions) ([]container.Summary, error) {
	if err := o.Filters.Validate("label", "label!", "name", "id", "status", "ancestor", "exited"); err != nil {
		return nil, err
	}
	cs, err := b.rt().List()
	if err != nil {
		return nil, err
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Created.After(cs[j].Created) })
	out := []container.Summary{}
	for _, c := range cs {
		st := c.State
		if !o.All && !st.Running() && len(o.Filters["status"]) == 0 {
			continue
		}
		if !o.Filters.MatchLabels(c.Spec.Labels) || !o.Filters.Match("status", st.Status) ||
			!o.Filters.MatchPrefix("id", c.ID) || !matchName(o.Filters, c.Name) ||
			!o.Filters.Match("ancestor", c.Spec.ImageRef) || !o.Filters.Match("exited", itoa(st.ExitCode)) {
			continue
		}
		out = append(out, summary(c))
		if o.Limit > 0 && len(out) == o.Limit {
			break
		}
	}
	return out, nil
}

func matchName(f dockerapi.Filters, name string) bool {
	vals := f.Values("name")
	if len(vals) == 0 {
		return true
	}
	for _, v := range vals {
		if strings.Contains(name, strings.TrimPrefix(v, "/")) {
			return true
		}
	}
	return false
}

func summary(c *runtime.Container) container.Summary {
	s := container.Summary{
		ID:      c.ID,
		Names:   []string{"/" + c.Name},
		Image:   c.Spec.ImageRef,
		ImageID: c.Spec.ImageID,
		Command: strings.Join(c.Spec.Args, " "),
		Created: c.Created.Unix(),
		Labels:  nonNil(c.Spec.Labels),
		Ports:   []container.PortSummary{},
		State:   container.ContainerState(c.State.Status),
		Status:  dockerapi.ContainerStatus(c.State.Status, c.State.ExitCode, c.State.StartedAt, c.State.FinishedAt, time.Now()),
		Mounts:  mountPoints(c),
	}
	s.HostConfig.NetworkMode = networkOf(c)
	return s
}

func networkOf(c *runtime.Container) string {
	if c.Spec.Network == engine.NetworkHost {
		return "host"
	}
	return "none"
}

func mountPoints(c *runtime.Container) []container.MountPoint {
	out := []container.MountPoint{}
	for _, m := range c.Spec.Mounts {
		mp := container.MountPoint{Type: mountType(m.Type), Source: m.Source, Destination: m.Target, RW: !m.ReadOnly}
		if m.Volume != "" {
			mp.Type, mp.Name, mp.Driver = mount.TypeVolume, m.Volume, "local"
		}
		out = append(out, mp)
	}
	return out
}

// anonymousVolumes are Config.Volumes as dockerd reports them: the paths
// of the container's anonymous volumes.
func anonymousVolumes(c *runtime.Container) map[string]struct{} {
	var out map[string]struct{}
	for _, m := range c.Spec.Mounts {
		if m.Anonymous {
			if out == nil {
				out = map[string]struct{}{}
			}
			out[m.Target] = struct{}{}
		}
	}
	return out
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// ContainerCreate implements dockerapi.ContainerBackend.
func (b *Backend) ContainerCreate(ctx context.Context, cc dockerapi.ContainerCreateConfig) (container.CreateResponse, error) {
	warnings, err := checkCreate(cc)
	if err != nil {
		return container.CreateResponse{}, err
	}
	cfg, err := engineConfig(cc)
	if err != nil {
		return container.CreateResponse{}, err
	}
	id, err := b.e.CreateContainer(ctx, cfg)
	if err != nil {
		if errors.Is(err, engine.ErrNotFound) && strings.Contains(err.Error(), "image") {
			return container.CreateResponse{}, fmt.Errorf("%w: No such image: %s", engine.ErrNotFound, cfg.Image)
		}
		return container.CreateResponse{}, err
	}
	if cc.HostConfig != nil && cc.HostConfig.AutoRemove {
		b.goAutoRemove(id)
	}
	return container.CreateResponse{ID: id, Warnings: append([]string{}, warnings...)}, nil
}

// ResumeAutoRemove takes over the --rm containers a daemon (or a command
// serving the root itself) left behind, as dockerd does when it starts:
// one that has run and exited goes now, a running one once it exits. A
// daemon calls it once, at its start.
func (b *Backend) ResumeAutoRemove() {
	cs, err := b.rt().List()
	if err != nil {
		return
	}
	for _, c := range cs {
		switch {
		case !c.Spec.Volatile:
		case c.State.Running():
			b.goAutoRemove(c.ID)
		case c.State.ExitCount > 0:
			b.e.Remove(context.Background(), c.ID, local.RemoveOptions{Force: true, Volumes: true})
		}
	}
}

// goAutoRemove is --rm: the container goes once it has run and exited,
// unless the backend closes first (a next daemon takes over then:
// ResumeAutoRemove).
func (b *Backend) goAutoRemove(id string) {
	b.removals.Add(1)
	go func() {
		defer b.removals.Done()
		c, err := b.rt().Inspect(id)
		if err != nil {
			return
		}
		if _, err := b.rt().WaitFrom(b.ctx, id, runtime.WaitNextExit, c.State.ExitCount); err != nil {
			return
		}
		b.e.Remove(context.Background(), id, local.RemoveOptions{Force: true, Volumes: true})
	}()
}

// ContainerInspect implements dockerapi.ContainerBackend.
func (b *Backend) ContainerInspect(ctx context.Context, ref string) (container.InspectResponse, error) {
	c, err := b.inspect(ref)
	if err != nil {
		return container.InspectResponse{}, err
	}
	st := c.State
	resp := container.InspectResponse{
		ID:      c.ID,
		Created: c.Created.UTC().Format(timeFormat),
		State: &container.State{
			Status: container.ContainerState(st.Status), Running: st.Status == runtime.StateRunning,
			Restarting: st.Status == runtime.StateRestarting, Dead: st.Status == runtime.StateDead,
			OOMKilled: st.OOMKilled, Pid: st.Pid, ExitCode: st.ExitCode, Error: st.Error,
			StartedAt: zeroTime(st.StartedAt), FinishedAt: zeroTime(st.FinishedAt),
		},
		Image:        c.Spec.ImageID,
		LogPath:      c.LogPath,
		Name:         "/" + c.Name,
		RestartCount: st.RestartCount,
		Driver:       "overlay",
		Platform:     "linux",
		ExecIDs:      b.execIDs(c.ID),
		HostConfig:   hostConfig(c),
		Mounts:       mountPoints(c),
		Config: &container.Config{
			Hostname:     hostname(c),
			User:         c.Spec.User,
			Env:          c.Spec.Env,
			Cmd:          c.Spec.Args,
			Image:        c.Spec.ImageRef,
			WorkingDir:   c.Spec.Cwd,
			Labels:       nonNil(c.Spec.Labels),
			Volumes:      anonymousVolumes(c),
			StopSignal:   c.Spec.StopSignal,
			AttachStdout: true,
			AttachStderr: true,
			// The CLI frames attach and logs by Tty; `run -i` is the
			// only way to an open stdin, and it attaches it too.
			Tty:         c.Spec.Tty,
			OpenStdin:   c.Spec.OpenStdin,
			StdinOnce:   c.Spec.StdinOnce,
			AttachStdin: c.Spec.OpenStdin,
		},
		NetworkSettings: &container.NetworkSettings{Networks: map[string]*network.EndpointSettings{networkOf(c): {}}},
	}
	if len(c.Spec.Args) > 0 {
		resp.Path, resp.Args = c.Spec.Args[0], c.Spec.Args[1:]
	}
	if grace := int(c.Spec.StopGrace / time.Second); grace > 0 {
		resp.Config.StopTimeout = &grace
	}
	return resp, nil
}

func hostname(c *runtime.Container) string {
	if c.Spec.Hostname != "" {
		return c.Spec.Hostname
	}
	return c.ID[:12]
}

func hostConfig(c *runtime.Container) *container.HostConfig {
	hc := &container.HostConfig{
		NetworkMode:   container.NetworkMode(networkOf(c)),
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyMode(c.Spec.RestartPolicy.Name), MaximumRetryCount: c.Spec.RestartPolicy.MaxRetries},
		LogConfig:     container.LogConfig{Type: "json-file", Config: map[string]string{}},
		ConsoleSize:   c.Spec.ConsoleSize,
	}
	maps.Copy(hc.LogConfig.Config, c.Spec.LogOptions) // {} without options, as dockerd has it
	if hc.RestartPolicy.Name == "" {
		hc.RestartPolicy.Name = "no"
	}
	inspectNames(hc, &c.Spec)
	if c.Spec.Init != "" {
		init := true
		hc.Init = &init
	}
	hc.OomScoreAdj = c.Spec.OOMScoreAdj
	hc.AutoRemove = c.Spec.Volatile
	hc.ReadonlyRootfs, hc.ShmSize, hc.CapDrop = c.Spec.ReadonlyRootfs, c.Spec.ShmSize, c.Spec.CapDrop
	if hc.ShmSize == 0 {
		hc.ShmSize = 64 << 20 // dockerd reports its default
	}
	for _, u := range c.Spec.Ulimits {
		hc.Ulimits = append(hc.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	hc.Memory = c.Spec.Resources.MemoryBytes
	hc.NanoCPUs = c.Spec.Resources.NanoCPUs
	if c.Spec.Resources.PidsLimit > 0 {
		p := c.Spec.Resources.PidsLimit
		hc.PidsLimit = &p
	}
	for _, m := range c.Spec.Mounts {
		if m.Type == runtime.MountBind && !m.Anonymous {
			src := m.Source
			if m.Volume != "" {
				src = m.Volume
			}
			bind := src + ":" + m.Target
			if m.ReadOnly {
				bind += ":ro"
			}
			hc.Binds = append(hc.Binds, bind)
		}
	}
	return hc
}

func zeroTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(timeFormat)
}

// ContainerStart implements dockerapi.ContainerBackend.
func (b *Backend) ContainerStart(ctx context.Context, ref string) error {
	c, err := b.inspect(ref)
	if err != nil {
		return err
	}
	if c.State.Running() {
		return fmt.Errorf("%w: container %s is already running", dockerapi.ErrNotModified, c.Name)
	}
	return local.WrapError(b.e.StartContainer(ctx, c.ID))
}

// ContainerStop implements dockerapi.ContainerBackend.
func (b *Backend) ContainerStop(ctx context.Context, ref string, o dockerapi.StopOptions) error {
	c, err := b.inspect(ref)
	if err != nil {
		return err
	}
	if !c.State.Running() {
		return fmt.Errorf("%w: container %s is not running", dockerapi.ErrNotModified, c.Name)
	}
	if o.Signal != "" {
		// A one-off stop signal: send it, then stop with the grace left.
		if err := b.rt().Kill(ctx, c.ID, o.Signal); err != nil {
			return local.WrapError(err)
		}
	}
	return local.WrapError(b.rt().Stop(ctx, c.ID, stopGrace(o)))
}

// ContainerRestart implements dockerapi.ContainerBackend.
func (b *Backend) ContainerRestart(ctx context.Context, ref string, o dockerapi.StopOptions) error {
	c, err := b.inspect(ref)
	if err != nil {
		return err
	}
	return local.WrapError(b.rt().Restart(ctx, c.ID, stopGrace(o)))
}

// ContainerKill implements dockerapi.ContainerBackend.
func (b *Backend) ContainerKill(ctx context.Context, ref string, signal string) error {
	c, err := b.inspect(ref)
	if err != nil {
		return err
	}
	return local.WrapError(b.rt().Kill(ctx, c.ID, signal))
}

// ContainerWait implements dockerapi.ContainerBackend.
func (b *Backend) ContainerWait(ctx context.Context, ref string, cond container.WaitCondition) (<-chan container.WaitResponse, error) {
	c, err := b.inspect(ref)
	if err != nil {
		return nil, err
	}
	ch := make(chan container.WaitResponse, 1)
	exits := c.State.ExitCount
	go func() {
		defer close(ch)
		code, err := b.rt().WaitFrom(ctx, c.ID, string(cond), exits)
		if ctx.Err() != nil {
			return
		}
		resp := container.WaitResponse{StatusCode: int64(code)}
		if err != nil && !errors.Is(err, runtime.ErrNotFound) {
			resp.Error = &container.WaitExitError{Message: err.Error()}
		}
		ch <- resp
	}()
	return ch, nil
}

// ContainerLogs implements dockerapi.ContainerBackend.
func (b *Backend) ContainerLogs(ctx context.Context, ref string, o dockerapi.LogsOptions, stdout, stderr io.Writer) error {
	c, err := b.inspect(ref)
	if err != nil {
		return err
	}
	s, err := b.rt().Logs(ctx, c.ID, runtime.LogOptions{Follow: o.Follow, Tail: o.Tail, Since: o.Since, Until: o.Until,
		Timestamps: o.Timestamps, Stdout: stdout != nil, Stderr: stderr != nil})
	if err != nil {
		return local.WrapError(err)
	}
	return copyLog(s, stdout, stderr, o.Timestamps)
}

// copyLog writes a log stream to the writers requested (nil: skipped).
func copyLog(s *logs.Stream, stdout, stderr io.Writer, timestamps bool) error {
	defer s.Close()
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	err := s.CopyTo(stdout, stderr, timestamps)
	if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// ContainerAttach implements dockerapi.ContainerBackend. Input goes to the
// container's stdin once it runs (docker run -i attaches before it
// starts); a container created without -i has none, and input is dropped
// so the client never blocks.
func (b *Backend) ContainerAttach(ctx context.Context, ref string, o dockerapi.AttachOptions) error {
	c, err := b.inspect(ref)
	if err != nil {
		return err
	}
	if o.Stdin != nil {
		if c.Spec.OpenStdin {
			go b.feedStdin(ctx, c.ID, o.Stdin)
		} else {
			go io.Copy(io.Discard, o.Stdin)
		}
	}
	if o.Logs {
		s, err := b.rt().Logs(ctx, c.ID, runtime.LogOptions{Tail: -1})
		if err != nil {
			return local.WrapError(err)
		}
		if err := copyLog(s, o.Stdout, o.Stderr, false); err != nil {
			return err
		}
	}
	if !o.Stream {
		if o.Attached != nil {
			o.Attached()
		}
		return nil
	}
	s, err := b.rt().Attach(ctx, c.ID)
	if err != nil {
		return local.WrapError(err)
	}
	if o.Attached != nil {
		o.Attached()
	}
	return copyLog(s, o.Stdout, o.Stderr, false)
}

// ContainerResize implements dockerapi.ContainerBackend.
func (b *Backend) ContainerResize(ctx context.Context, ref string, height, width uint) error {
	c, err := b.inspect(ref)
	if err != nil {
		return err
	}
	return local.WrapError(b.rt().Resize(ctx, c.ID, height, width))
}

// feedStdin copies in to the container's stdin as soon as it runs, and
// closes it at the end of in (the client's EOF).
func (b *Backend) feedStdin(ctx context.Context, id string, in io.Reader) {
	for {
		c, err := b.rt().Inspect(id)
		if err != nil || ctx.Err() != nil {
			return
		}
		if c.State.Status == runtime.StateRunning {
			break
		}
		if c.State.Status != runtime.StateCreated {
			return // it ran and ended before we got here
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Millisecond):
		}
	}
	w, err := b.rt().AttachStdin(ctx, id)
	if err != nil {
		io.Copy(io.Discard, in)
		return
	}
	io.Copy(w, in)
	w.Close()
}

// ContainerRemove implements dockerapi.ContainerBackend.
func (b *Backend) ContainerRemove(ctx context.Context, ref string, o dockerapi.RemoveOptions) error {
	c, err := b.inspect(ref)
	if err != nil {
		return err
	}
	if c.State.Running() && !o.Force {
		return fmt.Errorf("%w: cannot remove container \"/%s\": container is running: stop the container before removing or force remove", engine.ErrConflict, c.Name)
	}
	return local.WrapError(b.e.Remove(ctx, c.ID, local.RemoveOptions{Force: o.Force, Volumes: o.RemoveVolumes}))
}

// ContainersPrune implements dockerapi.ContainerBackend: stopped
// containers go.
func (b *Backend) ContainersPrune(ctx context.Context, f dockerapi.Filters) (container.PruneReport, error) {
	if err := f.Validate("label", "label!", "until"); err != nil {
		return container.PruneReport{}, err
	}
	cs, err := b.rt().List()
	if err != nil {
		return container.PruneReport{}, err
	}
	rep := container.PruneReport{ContainersDeleted: []string{}}
	for _, c := range cs {
		if c.State.Running() || !f.MatchLabels(c.Spec.Labels) {
			continue
		}
		if err := b.e.RemoveContainer(ctx, c.ID, false); err == nil {
			rep.ContainersDeleted = append(rep.ContainersDeleted, c.ID)
		}
	}
	return rep, nil
}

func mountType(t string) mount.Type {
	if t == runtime.MountTmpfs {
		return mount.TypeTmpfs
	}
	return mount.TypeBind
}
