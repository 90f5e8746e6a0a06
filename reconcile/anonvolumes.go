package reconcile

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/reconciler/reconciler/engine"
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

// carryOver adds to cfg the anonymous volumes of the containers it
// replaces (preds), and returns the reason to print ("" if none).
func carryOver(ctx context.Context, eng engine.Engine, preds []engine.Container, cfg *engine.ContainerConfig) (string, error) {
	var carried []engine.Mount
	for _, p := range preds {
		ms, err := anonymousMounts(ctx, eng, p, append(slices.Clone(cfg.Mounts), carried...))
		if err != nil {
			return "", err
		}
		carried = append(carried, ms...)
	}
	if len(carried) == 0 {
		return "", nil
	}
	cfg.Mounts = append(slices.Clone(cfg.Mounts), carried...)
	engine.SortMounts(cfg.Mounts)
	return "keeps anonymous " + volumeList(carried), nil
}

// retire stops the container a recreate replaces and renames it out of
// the way, its ID's first 12 digits before its name as compose does, so
// the new container can take the name while the old one still holds its
// anonymous volumes: a recreate interrupted at any step finds them held
// by one container or the other.
func retire(ctx context.Context, eng engine.Engine, ctr engine.Container) (engine.Container, error) {
	if ctr.State == engine.StateRunning || ctr.State == engine.StateRestarting {
		if err := eng.StopContainer(ctx, ctr.ID, graceLabel(ctr.Labels)); err != nil {
			return ctr, fmt.Errorf("stop container %s: %w", ctr.Name, err)
		}
		ctr.State = engine.StateExited
	}
	name := ctr.ID[:min(12, len(ctr.ID))] + "_" + ctr.Name
	if err := eng.RenameContainer(ctx, ctr.ID, name); err != nil {
		return ctr, fmt.Errorf("rename container %s to %s: %w", ctr.Name, name, err)
	}
	ctr.Name = name
	return ctr, nil
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
