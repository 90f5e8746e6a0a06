package client

import (
	"context"
	"time"

	"github.com/moby/moby/api/types/volume"
	moby "github.com/moby/moby/client"

	"github.com/reconciler/reconciler/engine"
)

func toVolume(v volume.Volume) engine.Volume {
	out := engine.Volume{Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, Labels: v.Labels}
	out.CreatedAt, _ = time.Parse(time.RFC3339, v.CreatedAt)
	return out
}

// EnsureVolume implements engine.Engine: an existing volume is returned
// as it is.
func (e *Engine) EnsureVolume(ctx context.Context, v engine.VolumeConfig) (engine.Volume, error) {
	ctx, cancel := e.short(ctx)
	defer cancel()
	res, err := e.api.VolumeInspect(ctx, v.Name, moby.VolumeInspectOptions{})
	if err == nil {
		return toVolume(res.Volume), nil
	}
	if err := e.wrap("inspect volume "+v.Name, err); !isNotFound(err) {
		return engine.Volume{}, err
	}
	created, err := e.api.VolumeCreate(ctx, moby.VolumeCreateOptions{Name: v.Name, Driver: v.Driver, Labels: v.Labels})
	if err != nil {
		return engine.Volume{}, e.wrap("create volume "+v.Name, err)
	}
	return toVolume(created.Volume), nil
}

// Volumes implements engine.Engine.
func (e *Engine) Volumes(ctx context.Context, labels map[string]string) ([]engine.Volume, error) {
	ctx, cancel := e.short(ctx)
	defer cancel()
	res, err := e.api.VolumeList(ctx, moby.VolumeListOptions{Filters: labelFilters(labels)})
	if err != nil {
		return nil, e.wrap("list volumes", err)
	}
	out := make([]engine.Volume, 0, len(res.Items))
	for _, v := range res.Items {
		out = append(out, toVolume(v))
	}
	return out, nil
}

// RemoveVolume implements engine.Engine; a volume in use is ErrConflict.
func (e *Engine) RemoveVolume(ctx context.Context, name string) error {
	ctx, cancel := e.short(ctx)
	defer cancel()
	_, err := e.api.VolumeRemove(ctx, name, moby.VolumeRemoveOptions{})
	return e.wrap("remove volume "+name, err)
}
