package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/layerstore"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/volumes"
)

// Containers lists the containers carrying every label given.
func (e *Engine) Containers(ctx context.Context, labels map[string]string) ([]engine.Container, error) {
	cs, err := e.containers.Select(func(s *runtime.Spec) bool { return hasLabels(s.Labels, labels) })
	if err != nil {
		return nil, err
	}
	out := make([]engine.Container, 0, len(cs))
	for _, c := range cs {
		out = append(out, toEngineContainer(c))
	}
	return out, nil
}

func toEngineContainer(c *runtime.Container) engine.Container {
	return engine.Container{
		ID:       c.ID,
		Name:     c.Name,
		Image:    c.Spec.ImageRef,
		ImageID:  c.Spec.ImageID,
		Labels:   c.Spec.Labels,
		State:    c.State.Status,
		ExitCode: c.State.ExitCode,
		Restarts: c.State.RestartCount,
		Created:  c.Created,
		Started:  c.State.StartedAt,
	}
}

// CreateContainer creates a container from an image in the store: the
// image's config supplies what cfg leaves empty, as in Docker. Named
// volumes are created on first use, filled from the image on their first
// mount, and recorded as used by the container.
func (e *Engine) CreateContainer(ctx context.Context, cfg engine.ContainerConfig) (string, error) {
	img, err := e.images.Resolve(cfg.Image)
	if err != nil {
		return "", WrapError(err)
	}
	lower, err := e.images.LowerDirs(img)
	if err != nil {
		return "", err
	}
	spec := runtime.Spec{
		ID:            newContainerID(),
		Name:          cfg.Name,
		Labels:        cfg.Labels,
		ImageRef:      cfg.Image,
		ImageID:       img.ID.String(),
		LowerDirs:     lower,
		Args:          commandLine(img, cfg.Entrypoint, cfg.Cmd),
		Env:           runtime.MergeEnv(img.Config.Config.Env, cfg.Env),
		Cwd:           firstNonEmpty(cfg.WorkingDir, img.Config.Config.WorkingDir),
		User:          firstNonEmpty(cfg.User, img.Config.Config.User),
		Hostname:      cfg.Hostname,
		Network:       cfg.Network,
		ExtraHosts:    cfg.ExtraHosts,
		DNS:           cfg.DNS,
		DNSSearch:     cfg.DNSSearch,
		DNSOptions:    cfg.DNSOptions,
		Resources:     runtime.Resources(cfg.Resources),
		RestartPolicy: runtime.RestartPolicy{Name: cfg.Restart.Name, MaxRetries: cfg.Restart.MaxRetries},
		StopSignal:    firstNonEmpty(cfg.StopSignal, img.Config.Config.StopSignal),
		StopGrace:     cfg.StopGrace,
		OpenStdin:     cfg.OpenStdin,
		StdinOnce:     cfg.StdinOnce,
		Tty:           cfg.Tty,
		ConsoleSize:   cfg.ConsoleSize,

		ReadonlyRootfs: cfg.ReadonlyRootfs,
		ShmSize:        cfg.ShmSize,
		Ulimits:        runtimeUlimits(cfg.Ulimits),
		CapDrop:        cfg.CapDrop,
	}
	if err := processOptions(cfg, &spec); err != nil {
		return "", err
	}
	if len(spec.Args) == 0 {
		return "", fmt.Errorf("%w: no command specified: the image %s has no CMD or ENTRYPOINT and none was given", engine.ErrInvalid, cfg.Image)
	}
	used, err := e.resolveMounts(spec.ID, lower, cfg.Mounts, &spec)
	if err != nil {
		return "", err
	}
	id, err := e.containers.Create(ctx, spec)
	if err != nil {
		e.releaseVolumes(spec.ID, used)
		return "", WrapError(err)
	}
	return id, nil
}

func runtimeUlimits(us []engine.Ulimit) []runtime.Ulimit {
	if us == nil {
		return nil
	}
	out := make([]runtime.Ulimit, len(us))
	for i, u := range us {
		out[i] = runtime.Ulimit(u)
	}
	return out
}

// resolveMounts turns engine mounts into host paths for the runtime. On
// failure nothing stays recorded as used.
func (e *Engine) resolveMounts(id string, lower []string, ms []engine.Mount, spec *runtime.Spec) (used []string, err error) {
	defer func() {
		if err != nil {
			e.releaseVolumes(id, used)
			used = nil
		}
	}()
	for _, m := range ms {
		switch m.Type {
		case engine.MountBind:
			if m.CreateSource && filepath.IsAbs(m.Source) {
				if err := os.MkdirAll(m.Source, 0o755); err != nil {
					return used, fmt.Errorf("%w: --mount bind-create-src: %v", engine.ErrInvalid, err)
				}
			}
			if err := volumes.CheckBind(m.Source); err != nil {
				return used, fmt.Errorf("%w: %v", engine.ErrInvalid, err)
			}
			spec.Mounts = append(spec.Mounts, runtime.Mount{Type: runtime.MountBind, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
		case engine.MountTmpfs:
			spec.Mounts = append(spec.Mounts, runtime.Mount{Type: runtime.MountTmpfs, Target: m.Target, ReadOnly: m.ReadOnly, Size: m.Size, Mode: m.Mode})
		case engine.MountVolume, "":
			if _, err := e.ensureVolume(engine.VolumeConfig{Name: m.Source, Labels: m.VolumeLabels}); err != nil {
				return used, err
			}
			if err := e.volumes.Use(m.Source, id); err != nil {
				return used, WrapError(err)
			}
			used = append(used, m.Source)
			if m.SubPath == "" && !m.NoCopy {
				if _, err := e.volumes.CopyUpFromImage(m.Source, lower, m.Target); err != nil {
					return used, fmt.Errorf("volume %s: copy image content at %s: %w", m.Source, m.Target, err)
				}
			}
			path, err := e.volumes.Resolve(m.Source, m.SubPath)
			if err != nil {
				return used, WrapError(err)
			}
			spec.Mounts = append(spec.Mounts, runtime.Mount{Type: runtime.MountBind, Source: path, Target: m.Target, ReadOnly: m.ReadOnly})
		default:
			return used, fmt.Errorf("%w: mount type %q: want volume, bind or tmpfs", engine.ErrInvalid, m.Type)
		}
	}
	return used, nil
}

func (e *Engine) releaseVolumes(id string, names []string) {
	for _, n := range names {
		e.volumes.Release(n, id)
	}
}

// StartContainer starts a created or exited container.
func (e *Engine) StartContainer(ctx context.Context, id string) error {
	return WrapError(e.containers.Start(ctx, id))
}

// StopContainer sends the stop signal, then SIGKILL after grace.
func (e *Engine) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	return WrapError(e.containers.Stop(ctx, id, grace))
}

// RemoveContainer removes the container and its writable layer, and
// releases the volumes it used (their data stays).
func (e *Engine) RemoveContainer(ctx context.Context, ref string, force bool) error {
	c, err := e.containers.Inspect(ref)
	if err != nil {
		return WrapError(err)
	}
	if err := e.containers.Remove(ctx, c.ID, force); err != nil {
		return WrapError(err)
	}
	if _, err := e.volumes.ReleaseAll(c.ID); err != nil {
		return fmt.Errorf("container %s removed, but releasing its volumes failed: %w", c.Name, err)
	}
	return nil
}

// commandLine applies Docker's rules: an entrypoint given replaces the
// image's and its CMD; otherwise the image's entrypoint runs with the CMD
// given or the image's.
func commandLine(img *layerstore.Image, entrypoint, cmd []string) []string {
	c := img.Config.Config
	if entrypoint != nil {
		return append(append([]string{}, entrypoint...), cmd...)
	}
	if cmd == nil {
		cmd = c.Cmd
	}
	return append(append([]string{}, c.Entrypoint...), cmd...)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// WrapError maps the parts' errors onto the engine's sentinels, keeping
// the message as it is (the parts already say "not found" or "conflict").
func WrapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, engine.ErrNotFound), errors.Is(err, engine.ErrConflict), errors.Is(err, engine.ErrInvalid):
		return err
	case errors.Is(err, runtime.ErrNotFound), errors.Is(err, runtime.ErrNoSuchPath), errors.Is(err, layerstore.ErrNotFound), errors.Is(err, volumes.ErrNotFound):
		return kindError{engine.ErrNotFound, err}
	case errors.Is(err, runtime.ErrConflict), errors.Is(err, layerstore.ErrInUse), errors.Is(err, layerstore.ErrConflict), errors.Is(err, volumes.ErrInUse), errors.Is(err, volumes.ErrConflict):
		return kindError{engine.ErrConflict, err}
	case errors.Is(err, runtime.ErrInvalid), errors.Is(err, volumes.ErrInvalid):
		return kindError{engine.ErrInvalid, err}
	}
	return err
}

// kindError is err, also matching the engine sentinel kind.
type kindError struct{ kind, err error }

func (k kindError) Error() string   { return k.err.Error() }
func (k kindError) Unwrap() []error { return []error{k.kind, k.err} }
