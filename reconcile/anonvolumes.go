package reconcile

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/spec"
)

// anonymousMounts are ctr's mounts of anonymous volumes (made by its
// engine for its image's VOLUME paths) at targets declared does not
// mount anything at: the data a recreate carries over, as compose does,
// and a removal leaves behind. Volumes are named in Source.
func anonymousMounts(ctx context.Context, eng engine.Engine, ctr engine.Container, declared []engine.Mount) ([]engine.Mount, error) {
	taken := make(map[string]bool, len(declared))
	for _, m := range declared {
		taken[path.Clean(m.Target)] = true
	}
	var cand []engine.Mount
	for _, m := range ctr.Mounts {
		if m.Type == engine.MountVolume && m.Source != "" && !taken[path.Clean(m.Target)] {
			cand = append(cand, engine.Mount{Type: engine.MountVolume, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
		}
	}
	if len(cand) == 0 {
		return nil, nil
	}
	vols, err := eng.Volumes(ctx, map[string]string{engine.LabelAnonymousVolume: ""})
	if err != nil {
		return nil, fmt.Errorf("list the anonymous volumes of container %s: %w", ctr.Name, err)
	}
	return slices.DeleteFunc(cand, func(m engine.Mount) bool {
		return !slices.ContainsFunc(vols, func(v engine.Volume) bool { return v.Name == m.Source })
	}), nil
}

// carryOver adds to cfg the anonymous volumes of the container it
// replaces (old; nil when that one is already gone, and then those a
// recreate interrupted after removing it had taken over), and remembers
// them until the new container exists. It returns the reason to print.
func (r containerReconciler) carryOver(ctx context.Context, eng engine.Engine, key spec.Key, old *engine.Container, cfg *engine.ContainerConfig) (string, error) {
	c := r.c
	var carried []engine.Mount
	if old != nil {
		var err error
		if carried, err = anonymousMounts(ctx, eng, *old, cfg.Mounts); err != nil {
			return "", err
		}
	} else {
		c.mu.Lock()
		pending := c.carried[key]
		c.mu.Unlock()
		if len(pending) > 0 {
			var err error
			if carried, err = anonymousMounts(ctx, eng, engine.Container{Name: cfg.Name, Mounts: pending}, cfg.Mounts); err != nil {
				return "", err
			}
		}
	}
	if len(carried) == 0 {
		return "", nil
	}
	c.mu.Lock()
	c.carried[key] = carried
	c.mu.Unlock()
	cfg.Mounts = append(slices.Clone(cfg.Mounts), carried...)
	engine.SortMounts(cfg.Mounts)
	return "keeps anonymous " + volumeList(carried), nil
}

// carriedBy names the anonymous volumes key's new container is carrying
// over ("" if none).
func (c *Controller) carriedBy(key spec.Key) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.carried[key]) == 0 {
		return ""
	}
	return "anonymous " + volumeList(c.carried[key])
}

// carriedOver forgets the volumes key's new container has taken over.
func (c *Controller) carriedOver(key spec.Key) {
	c.mu.Lock()
	delete(c.carried, key)
	c.mu.Unlock()
}

// volumeList names volumes in full (to be found with docker volume
// inspect) and where they are mounted: "volume NAME at /data" or
// "volumes NAME at /data, NAME at /cache".
func volumeList(ms []engine.Mount) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.Source + " at " + m.Target
	}
	if len(ms) == 1 {
		return "volume " + parts[0]
	}
	return "volumes " + strings.Join(parts, ", ")
}
