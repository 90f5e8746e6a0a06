package localbackend

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/volume"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/volumes"
)

func (b *Backend) vm() *volumes.Manager { return b.e.VolumeManager() }

func volumeJSON(v *volumes.Volume) volume.Volume {
	return volume.Volume{
		Name:       v.Name,
		Driver:     v.Driver,
		Labels:     v.Labels,
		Mountpoint: v.Mountpoint,
		Options:    v.Options,
		Scope:      v.Scope,
		CreatedAt:  v.CreatedAt.UTC().Format(time.RFC3339),
	}
}

// VolumeCreate implements dockerapi.VolumeBackend through the engine (so
// the create event is published). An existing volume is returned as it
// is; no name makes an anonymous volume, labelled as Docker labels them.
func (b *Backend) VolumeCreate(ctx context.Context, req volume.CreateRequest) (volume.Volume, error) {
	if req.Driver != "" && req.Driver != volumes.DriverLocal {
		return volume.Volume{}, fmt.Errorf("%w: volume driver %q is not supported: use %q", engine.ErrInvalid, req.Driver, volumes.DriverLocal)
	}
	if len(req.DriverOpts) > 0 {
		return volume.Volume{}, fmt.Errorf("%w: volume options (%s) are not supported: local volumes here are plain folders", engine.ErrInvalid, strings.Join(slices.Sorted(maps.Keys(req.DriverOpts)), ", "))
	}
	name, labels := req.Name, req.Labels
	if name == "" {
		name = randomID()
		labels = maps.Clone(labels)
		if labels == nil {
			labels = map[string]string{}
		}
		labels[volumes.LabelAnonymous] = ""
	}
	// Creating again is a no-op without labels or with the same ones, and
	// refused with others: an existing volume is never relabelled.
	if v, err := b.vm().Get(name); err == nil && len(labels) > 0 && !maps.Equal(nonNil(v.Labels), labels) {
		return volume.Volume{}, fmt.Errorf("%w: volume %s already exists with labels %s, not %s: remove it first, or create it with the same labels", engine.ErrConflict, name, labelText(v.Labels), labelText(labels))
	}
	if _, err := b.e.EnsureVolume(ctx, engine.VolumeConfig{Name: name, Driver: volumes.DriverLocal, Labels: labels}); err != nil {
		return volume.Volume{}, err
	}
	return b.VolumeInspect(ctx, name)
}

// VolumeList implements dockerapi.VolumeBackend. Filters: label, label!,
// dangling, name (substring, any of several), driver.
func (b *Backend) VolumeList(ctx context.Context, f dockerapi.Filters) ([]volume.Volume, error) {
	if err := f.Validate("label", "label!", "dangling", "name", "driver"); err != nil {
		return nil, err
	}
	var exprs []string
	for _, key := range []string{"label", "dangling", "driver"} {
		for _, v := range f.Values(key) {
			exprs = append(exprs, key+"="+v)
		}
	}
	vf, err := volumes.ParseFilter(exprs)
	if err != nil {
		return nil, local.WrapError(err)
	}
	vs, err := b.vm().List(vf)
	if err != nil {
		return nil, err
	}
	out := []volume.Volume{}
	for _, v := range vs {
		if f.MatchLabels(v.Labels) && matchAnySubstring(f.Values("name"), v.Name) {
			out = append(out, volumeJSON(v))
		}
	}
	return out, nil
}

// matchAnySubstring: no patterns, or s contains one of them.
func matchAnySubstring(patterns []string, s string) bool {
	for _, p := range patterns {
		if strings.Contains(s, p) {
			return true
		}
	}
	return len(patterns) == 0
}

// VolumeInspect implements dockerapi.VolumeBackend; a missing volume is
// Docker's "get NAME: no such volume" (404).
func (b *Backend) VolumeInspect(ctx context.Context, name string) (volume.Volume, error) {
	v, err := b.vm().Get(name)
	if err != nil {
		return volume.Volume{}, volumeError(name, err)
	}
	return volumeJSON(v), nil
}

// volumeError makes an invalid name a 404 too, as for Docker a volume
// that cannot exist is simply not there.
func volumeError(name string, err error) error {
	if errors.Is(err, volumes.ErrInvalid) {
		return fmt.Errorf("%w: get %s: no such volume", engine.ErrNotFound, name)
	}
	return local.WrapError(err)
}

// VolumeRemove implements dockerapi.VolumeBackend through the engine. A
// volume in use is refused (409, "remove NAME: volume is in use - [IDs]")
// even with force, which only makes a missing volume no error.
func (b *Backend) VolumeRemove(ctx context.Context, name string, force bool) error {
	err := b.e.RemoveVolume(ctx, name)
	if err != nil && (errors.Is(err, volumes.ErrNotFound) || errors.Is(err, volumes.ErrInvalid)) {
		if force {
			return nil
		}
		return volumeError(name, err)
	}
	return err
}

// VolumesPrune implements dockerapi.VolumeBackend like Docker 23+:
// anonymous unused volumes, or every unused one with all=true. Volumes
// the reconciler manages with a Retain policy are kept either way.
func (b *Backend) VolumesPrune(ctx context.Context, f dockerapi.Filters) (volume.PruneReport, error) {
	var rep volume.PruneReport
	if err := f.Validate("label", "all"); err != nil {
		if len(f["label!"]) > 0 {
			return rep, fmt.Errorf("%w: volume prune cannot filter on label! here: use label=KEY or label=KEY=VALUE", engine.ErrInvalid)
		}
		return rep, err
	}
	all, err := boolFilter(f, "all")
	if err != nil {
		return rep, err
	}
	res, err := b.vm().Prune(volumes.PruneOptions{All: all != nil && *all, Filter: volumes.Filter{Labels: f.Values("label")}})
	if err != nil {
		return rep, local.WrapError(err)
	}
	rep.VolumesDeleted = res.Deleted
	rep.SpaceReclaimed = uint64(max(res.SpaceReclaimed, 0))
	for _, name := range res.Deleted {
		b.publishVolume(events.ActionDestroy, name, nil)
	}
	b.publishVolume(events.ActionPrune, "", map[string]string{"reclaimed": fmt.Sprint(rep.SpaceReclaimed)})
	return rep, nil
}

// publishVolume sends a volume event the engine does not publish itself
// (prune goes to the volume manager directly).
func (b *Backend) publishVolume(action events.Action, name string, attrs map[string]string) {
	a := map[string]string{"driver": volumes.DriverLocal}
	maps.Copy(a, attrs)
	b.bus.Publish(events.Message{Type: events.VolumeEventType, Action: action, Actor: events.Actor{ID: name, Attributes: a}})
}

// labelText shows labels as {k=v, ...}, sorted.
func labelText(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
