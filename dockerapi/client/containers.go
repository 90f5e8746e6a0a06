package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	moby "github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/reconciler/reconciler/engine"
)

func labelFilters(labels map[string]string) moby.Filters {
	f := moby.Filters{}
	for k, v := range labels {
		f.Add("label", k+"="+v)
	}
	return f
}

// Containers implements engine.Engine. The list gives IDs; each container
// is then inspected for its exit code, restart count and start time.
func (e *Engine) Containers(ctx context.Context, labels map[string]string) ([]engine.Container, error) {
	lctx, cancel := e.short(ctx)
	defer cancel()
	res, err := e.api.ContainerList(lctx, moby.ContainerListOptions{All: true, Filters: labelFilters(labels)})
	if err != nil {
		return nil, e.wrap("list containers", err)
	}
	out := make([]engine.Container, 0, len(res.Items))
	for _, s := range res.Items {
		c, err := e.inspectContainer(ctx, s.ID)
		if isNotFound(err) {
			continue // removed since the list
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (e *Engine) inspectContainer(ctx context.Context, id string) (engine.Container, error) {
	ctx, cancel := e.short(ctx)
	defer cancel()
	res, err := e.api.ContainerInspect(ctx, id, moby.ContainerInspectOptions{})
	if err != nil {
		return engine.Container{}, e.wrap("inspect container "+id, err)
	}
	ci := res.Container
	c := engine.Container{ID: ci.ID, Name: strings.TrimPrefix(ci.Name, "/"), ImageID: ci.Image, Restarts: ci.RestartCount}
	c.Created, _ = time.Parse(time.RFC3339Nano, ci.Created)
	if ci.Config != nil {
		c.Image, c.Labels = ci.Config.Image, ci.Config.Labels
	}
	if st := ci.State; st != nil {
		c.State, c.ExitCode = string(st.Status), st.ExitCode
		if t, err := time.Parse(time.RFC3339Nano, st.StartedAt); err == nil && t.Year() > 1 {
			c.Started = t
		}
	}
	for _, m := range ci.Mounts {
		em := engine.Mount{Type: string(m.Type), Source: m.Source, Target: m.Destination, ReadOnly: !m.RW}
		if m.Type == mount.TypeVolume {
			em.Source = m.Name
		}
		c.Mounts = append(c.Mounts, em)
	}
	return c, nil
}

// CreateContainer implements engine.Engine. A missing image is
// engine.ErrNotFound (the engine does not pull on create).
func (e *Engine) CreateContainer(ctx context.Context, c engine.ContainerConfig) (string, error) {
	cfg, host, err := e.toDocker(ctx, c)
	if err != nil {
		return "", err
	}
	ctx, cancel := e.short(ctx)
	defer cancel()
	res, err := e.api.ContainerCreate(ctx, moby.ContainerCreateOptions{Name: c.Name, Config: cfg, HostConfig: host})
	if err != nil {
		return "", e.wrap("create container "+c.Name, err)
	}
	return res.ID, nil
}

// toDocker translates an engine.ContainerConfig into the API's create body.
func (e *Engine) toDocker(ctx context.Context, c engine.ContainerConfig) (*container.Config, *container.HostConfig, error) {
	cfg := &container.Config{
		Image: c.Image, Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env, WorkingDir: c.WorkingDir, User: c.User,
		Hostname: c.Hostname, Labels: c.Labels, StopSignal: c.StopSignal,
		// As docker run -i sends them: AttachStdin marks the stdin as one
		// a client attaches to, which is what OpenStdin asks for.
		OpenStdin: c.OpenStdin, StdinOnce: c.StdinOnce, AttachStdin: c.OpenStdin, Tty: c.Tty,
	}
	if c.StopGrace > 0 {
		secs := int(math.Ceil(c.StopGrace.Seconds()))
		cfg.StopTimeout = &secs
	}
	network := c.Network
	if network == "" {
		network = "none"
	}
	host := &container.HostConfig{
		NetworkMode:   container.NetworkMode(network),
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyMode(c.Restart.Name), MaximumRetryCount: c.Restart.MaxRetries},
		ConsoleSize:   c.ConsoleSize, // height, width; zero leaves it unset
	}
	if host.RestartPolicy.Name == "" {
		host.RestartPolicy.Name = container.RestartPolicyDisabled
	}
	host.ReadonlyRootfs, host.ShmSize, host.CapDrop = c.ReadonlyRootfs, c.ShmSize, c.CapDrop
	host.ExtraHosts, host.DNSSearch, host.DNSOptions = c.ExtraHosts, c.DNSSearch, c.DNSOptions
	for _, a := range c.DNS {
		addr, err := netip.ParseAddr(a)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: dns server %q is not an IP address", engine.ErrInvalid, a)
		}
		host.DNS = append(host.DNS, addr)
	}
	if c.Init {
		host.Init = &c.Init
	}
	host.OomScoreAdj, host.LogConfig.Config = c.OOMScoreAdj, c.LogOptions
	for _, u := range c.Ulimits {
		host.Ulimits = append(host.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	host.Memory = c.Resources.MemoryBytes
	host.NanoCPUs = c.Resources.NanoCPUs
	if c.Resources.PidsLimit > 0 {
		p := c.Resources.PidsLimit
		host.PidsLimit = &p
	}
	for _, m := range c.Mounts {
		dm := mount.Mount{Type: mount.Type(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		switch m.Type {
		case engine.MountVolume:
			if m.SubPath != "" {
				if v := e.api.ClientVersion(); versions.LessThan(v, "1.45") {
					return nil, nil, fmt.Errorf("%w: mount %s: volume subPath needs Docker API 1.45 or later; %s speaks %s", engine.ErrInvalid, m.Target, e.address, v)
				}
				dm.VolumeOptions = &mount.VolumeOptions{Subpath: m.SubPath}
			}
			if m.NoCopy || len(m.VolumeLabels) > 0 {
				if dm.VolumeOptions == nil {
					dm.VolumeOptions = &mount.VolumeOptions{}
				}
				dm.VolumeOptions.NoCopy, dm.VolumeOptions.Labels = m.NoCopy, m.VolumeLabels
			}
		case engine.MountTmpfs:
			if m.Size > 0 || m.Mode != 0 {
				dm.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: m.Size, Mode: os.FileMode(m.Mode)}
			}
		case engine.MountBind:
			if m.CreateSource {
				dm.BindOptions = &mount.BindOptions{CreateMountpoint: true}
			}
		default:
			return nil, nil, fmt.Errorf("%w: mount %s: unknown type %q", engine.ErrInvalid, m.Target, m.Type)
		}
		host.Mounts = append(host.Mounts, dm)
	}
	return cfg, host, nil
}

// StartContainer implements engine.Engine; starting a running container
// is not an error.
func (e *Engine) StartContainer(ctx context.Context, id string) error {
	ctx, cancel := e.short(ctx)
	defer cancel()
	_, err := e.api.ContainerStart(ctx, id, moby.ContainerStartOptions{})
	return e.wrap("start container "+id, err)
}

// StopContainer implements engine.Engine.
func (e *Engine) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	secs := int(math.Ceil(grace.Seconds()))
	ctx, cancel := context.WithTimeout(ctx, grace+e.timeout)
	defer cancel()
	_, err := e.api.ContainerStop(ctx, id, moby.ContainerStopOptions{Timeout: &secs})
	return e.wrap("stop container "+id, err)
}

// RemoveContainer implements engine.Engine.
func (e *Engine) RemoveContainer(ctx context.Context, id string, force bool) error {
	ctx, cancel := e.short(ctx)
	defer cancel()
	_, err := e.api.ContainerRemove(ctx, id, moby.ContainerRemoveOptions{Force: force})
	return e.wrap("remove container "+id, err)
}

// RenameContainer implements engine.Engine.
func (e *Engine) RenameContainer(ctx context.Context, id, name string) error {
	ctx, cancel := e.short(ctx)
	defer cancel()
	_, err := e.api.ContainerRename(ctx, id, moby.ContainerRenameOptions{NewName: name})
	return e.wrap("rename container "+id+" to "+name, err)
}

func isNotFound(err error) bool { return errors.Is(err, engine.ErrNotFound) }
