package local

import (
	"context"
	"errors"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/volumes"
)

// EnsureVolume creates the volume if absent; an existing one is returned
// as it is, its data untouched.
func (e *Engine) EnsureVolume(ctx context.Context, v engine.VolumeConfig) (engine.Volume, error) {
	return e.ensureVolume(v)
}

// ensureVolume is EnsureVolume; no name makes a new anonymous volume.
func (e *Engine) ensureVolume(v engine.VolumeConfig) (engine.Volume, error) {
	if v.Name != "" {
		got, err := e.volumes.Get(v.Name)
		if err == nil {
			return toEngineVolume(got), nil
		}
		if !errors.Is(err, volumes.ErrNotFound) {
			return engine.Volume{}, WrapError(err)
		}
	}
	got, err := e.volumes.Create(volumes.CreateOptions{Name: v.Name, Driver: v.Driver, Labels: v.Labels})
	if err != nil {
		return engine.Volume{}, WrapError(err)
	}
	e.publish(engine.EventVolume, "create", got.Name, got.Labels)
	return toEngineVolume(got), nil
}

// Volumes lists volumes carrying every label given.
func (e *Engine) Volumes(ctx context.Context, labels map[string]string) ([]engine.Volume, error) {
	vs, err := e.volumes.List(volumes.Filter{})
	if err != nil {
		return nil, err
	}
	var out []engine.Volume
	for _, v := range vs {
		if hasLabels(v.Labels, labels) {
			out = append(out, toEngineVolume(v))
		}
	}
	return out, nil
}

// RemoveVolume removes a volume no container uses (ErrConflict otherwise,
// naming them).
func (e *Engine) RemoveVolume(ctx context.Context, name string) error {
	if err := e.volumes.Remove(name, false); err != nil {
		return WrapError(err)
	}
	e.publish(engine.EventVolume, "destroy", name, nil)
	return nil
}

func toEngineVolume(v *volumes.Volume) engine.Volume {
	return engine.Volume{Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, Labels: v.Labels, CreatedAt: v.CreatedAt}
}
