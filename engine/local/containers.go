package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
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
		Mounts:   engineMounts(c.Spec.Mounts),
	}
}

// engineMounts reports a container's mounts: volumes by name (those made
// before volume names were recorded show as the binds they are).
func engineMounts(ms []runtime.Mount) []engine.Mount {
	if len(ms) == 0 {
		return nil
	}
	out := make([]engine.Mount, 0, len(ms))
	for _, m := range ms {
		em := engine.Mount{Type: engine.MountBind, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		switch {
		case m.Volume != "":
			em.Type, em.Source = engine.MountVolume, m.Volume
		case m.Type == runtime.MountTmpfs:
			em.Type, em.Source, em.Size, em.Mode = engine.MountTmpfs, "", m.Size, m.Mode
		}
		out = append(out, em)
	}
	return out
}

// CreateContainer creates a container from an image in the store: the
// image's config supplies what cfg leaves empty, as in Docker. Named
// volumes are created on first use, filled from the image on their first
// mount, and recorded as used by the container. Each VOLUME path of the
// image no mount covers, and each volume mount with no source, gets a new
// anonymous volume, filled from the image the same way.
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
		Volatile:       cfg.AutoRemove,
	}
	if err := processOptions(cfg, &spec); err != nil {
		return "", err
	}
	if len(spec.Args) == 0 {
		return "", fmt.Errorf("%w: no command specified: the image %s has no CMD or ENTRYPOINT and none was given", engine.ErrInvalid, cfg.Image)
	}
	mounts := cfg.Mounts
	if vols := img.Config.Config.Volumes; len(vols) > 0 {
		mounts = engine.WithAnonymousVolumes(mounts, vols)
	}
	used, err := e.resolveMounts(spec.ID, lower, mounts, &spec)
	if err != nil {
		return "", err
	}
	id, err := e.containers.Create(ctx, spec)
	if err != nil {
		e.releaseVolumes(spec.ID, used)
		e.removeAnonymous(spec.Mounts)
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
// failure nothing stays recorded as used, and the anonymous volumes it
// made are removed again.
func (e *Engine) resolveMounts(id string, lower []string, ms []engine.Mount, spec *runtime.Spec) (used []string, err error) {
	var anon []runtime.Mount
	defer func() {
		if err != nil {
			e.releaseVolumes(id, used)
			e.removeAnonymous(anon)
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
			v, err := e.ensureVolume(engine.VolumeConfig{Name: m.Source, Labels: m.VolumeLabels})
			if err != nil {
				return used, err
			}
			rm := runtime.Mount{Type: runtime.MountBind, Target: m.Target, ReadOnly: m.ReadOnly, Volume: v.Name, Anonymous: m.Source == ""}
			if rm.Anonymous {
				anon = append(anon, rm)
			}
			if err := e.volumes.Use(v.Name, id); err != nil {
				return used, WrapError(err)
			}
			used = append(used, v.Name)
			if m.SubPath == "" && !m.NoCopy {
				if _, err := e.volumes.CopyUpFromImage(v.Name, lower, m.Target); err != nil {
					return used, fmt.Errorf("volume %s: copy image content at %s: %w", v.Name, m.Target, err)
				}
			}
			// Resolve checks the subPath and makes its missing folders
			// now; each start resolves it again beneath the volume
			// (Mount.SubPath), as something using the volume may have
			// changed the folders on the way since.
			if rm.Source, err = e.volumes.Resolve(v.Name, m.SubPath); err != nil {
				return used, WrapError(err)
			}
			if sub := path.Clean(m.SubPath); sub != "." && sub != "" {
				if rm.Source, err = e.volumes.Resolve(v.Name, ""); err != nil {
					return used, WrapError(err)
				}
				rm.SubPath = sub
			}
			spec.Mounts = append(spec.Mounts, rm)
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
// releases the volumes it used (their data stays, the anonymous volumes'
// too: docker rm without -v).
func (e *Engine) RemoveContainer(ctx context.Context, ref string, force bool) error {
	return e.Remove(ctx, ref, RemoveOptions{Force: force})
}

// RemoveOptions are docker rm's: Force removes a running container,
// Volumes (-v, and run --rm) its anonymous volumes too.
type RemoveOptions struct {
	Force, Volumes bool
}

// Remove is RemoveContainer with docker rm's options. With Volumes, the
// anonymous volumes the engine made for the container go too, unless
// another container uses them; volumes mounted by name never do.
func (e *Engine) Remove(ctx context.Context, ref string, o RemoveOptions) error {
	c, err := e.containers.Inspect(ref)
	if err != nil {
		return WrapError(err)
	}
	if err := e.containers.Remove(ctx, c.ID, o.Force); err != nil {
		return WrapError(err)
	}
	if _, err := e.volumes.ReleaseAll(c.ID); err != nil {
		return fmt.Errorf("container %s removed, but releasing its volumes failed: %w", c.Name, err)
	}
	if o.Volumes {
		if err := e.removeAnonymous(c.Spec.Mounts); err != nil {
			return fmt.Errorf("container %s removed, but removing its anonymous volumes failed: %w", c.Name, err)
		}
	}
	return nil
}

// removeAnonymous removes the anonymous volumes among ms that no
// container uses (one another container mounts by name stays).
func (e *Engine) removeAnonymous(ms []runtime.Mount) error {
	var errs []error
	for _, m := range ms {
		if !m.Anonymous || m.Volume == "" {
			continue
		}
		err := e.volumes.Remove(m.Volume, false)
		switch {
		case err == nil:
			e.publish(engine.EventVolume, "destroy", m.Volume, nil)
		case !errors.Is(err, volumes.ErrInUse) && !errors.Is(err, volumes.ErrNotFound):
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
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
