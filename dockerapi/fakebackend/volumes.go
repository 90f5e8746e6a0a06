package fakebackend

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/volume"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

type vol struct {
	name    string
	labels  map[string]string
	created time.Time
}

func (b *Backend) volumeJSON(v *vol) volume.Volume {
	return volume.Volume{Name: v.name, Driver: "local", Labels: v.labels, Scope: "local",
		Mountpoint: filepath.Join(b.root, "volumes", v.name, "_data"), CreatedAt: v.created.Format(time.RFC3339)}
}

// ensureVolume creates a volume if absent; b.mu is held.
func (b *Backend) ensureVolume(name string, labels map[string]string) *vol {
	if v, ok := b.volumes[name]; ok {
		return v
	}
	v := &vol{name: name, labels: labels, created: now()}
	b.volumes[name] = v
	b.publish(events.VolumeEventType, events.ActionCreate, name, map[string]string{"driver": "local"})
	return v
}

// VolumeCreate implements dockerapi.VolumeBackend.
func (b *Backend) VolumeCreate(ctx context.Context, req volume.CreateRequest) (volume.Volume, error) {
	if req.Driver != "" && req.Driver != "local" {
		return volume.Volume{}, fmt.Errorf("%w: volume driver %q is not supported, only local", engine.ErrInvalid, req.Driver)
	}
	name := req.Name
	if name == "" {
		name = randomID()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.volumeJSON(b.ensureVolume(name, req.Labels)), nil
}

// VolumeList implements dockerapi.VolumeBackend.
func (b *Backend) VolumeList(ctx context.Context, f dockerapi.Filters) ([]volume.Volume, error) {
	if err := f.Validate("name", "label", "label!", "dangling", "driver"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []volume.Volume
	for _, name := range sortedKeys(b.volumes) {
		v := b.volumes[name]
		if !f.MatchLabels(v.labels) || !matchSubstring(f, "name", name) {
			continue
		}
		if d := f.Values("dangling"); len(d) > 0 && (d[0] == "true" || d[0] == "1") == (len(b.usersOf(name)) > 0) {
			continue
		}
		out = append(out, b.volumeJSON(v))
	}
	return out, nil
}

func matchSubstring(f dockerapi.Filters, key, v string) bool {
	if len(f[key]) == 0 {
		return true
	}
	for want := range f[key] {
		if strings.Contains(v, want) {
			return true
		}
	}
	return false
}

// VolumeInspect implements dockerapi.VolumeBackend.
func (b *Backend) VolumeInspect(ctx context.Context, name string) (volume.Volume, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.volumes[name]
	if !ok {
		return volume.Volume{}, fmt.Errorf("%w: get %s: no such volume", engine.ErrNotFound, name)
	}
	return b.volumeJSON(v), nil
}

// usersOf lists the containers using a volume; b.mu is held.
func (b *Backend) usersOf(name string) []string {
	var ids []string
	for _, id := range sortedKeys(b.containers) {
		for _, v := range b.containers[id].volumes {
			if v == name {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// VolumeRemove implements dockerapi.VolumeBackend.
func (b *Backend) VolumeRemove(ctx context.Context, name string, force bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.volumes[name]; !ok {
		if force {
			return nil
		}
		return fmt.Errorf("%w: get %s: no such volume", engine.ErrNotFound, name)
	}
	if users := b.usersOf(name); len(users) > 0 {
		return fmt.Errorf("%w: remove %s: volume is in use - %v", engine.ErrConflict, name, users)
	}
	delete(b.volumes, name)
	b.publish(events.VolumeEventType, events.ActionDestroy, name, map[string]string{"driver": "local"})
	return nil
}

// VolumesPrune implements dockerapi.VolumeBackend.
func (b *Backend) VolumesPrune(ctx context.Context, f dockerapi.Filters) (volume.PruneReport, error) {
	if err := f.Validate("label", "label!", "all"); err != nil {
		return volume.PruneReport{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var rep volume.PruneReport
	for _, name := range sortedKeys(b.volumes) {
		if len(b.usersOf(name)) == 0 && f.MatchLabels(b.volumes[name].labels) {
			delete(b.volumes, name)
			rep.VolumesDeleted = append(rep.VolumesDeleted, name)
			b.publish(events.VolumeEventType, events.ActionDestroy, name, map[string]string{"driver": "local"})
		}
	}
	return rep, nil
}
