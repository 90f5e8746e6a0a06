package reconcile

import (
	"context"
	"fmt"
	"strings"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/spec"
)

// Observe reads the statuses of the managed objects on one host from the
// engine's labels alone, for `get` when no controller is running: what
// exists and in which state, though not what manifests now want.
func Observe(ctx context.Context, eng engine.Engine, host string) ([]ObjectStatus, error) {
	managed := map[string]string{engine.LabelManaged: "true"}
	cs, err := eng.Containers(ctx, managed)
	if err != nil {
		return nil, fmt.Errorf("host %s: list containers: %w", host, err)
	}
	imgs, err := eng.Images(ctx, managed)
	if err != nil {
		return nil, fmt.Errorf("host %s: list images: %w", host, err)
	}
	vols, err := eng.Volumes(ctx, managed)
	if err != nil {
		return nil, fmt.Errorf("host %s: list volumes: %w", host, err)
	}
	var out []ObjectStatus
	base := func(kind string, l map[string]string) ObjectStatus {
		return ObjectStatus{
			Key:          spec.Key{Host: host, Kind: kind, Name: l[engine.LabelName]},
			Source:       l[engine.LabelSource],
			ObservedHash: l[engine.LabelSpecHash],
		}
	}
	for _, c := range cs {
		if c.Labels[engine.LabelKind] != spec.KindContainer {
			continue
		}
		s := base(spec.KindContainer, c.Labels)
		s.ID, s.Restarts, s.Created = c.ID, c.Restarts, c.Created
		s.Phase, s.Message = containerPhase(c)
		out = append(out, s)
	}
	for _, img := range imgs {
		// Untagged images with our labels are a build's intermediate
		// images or superseded builds, not objects.
		if img.Labels[engine.LabelKind] != spec.KindImage || len(img.RepoTags) == 0 {
			continue
		}
		s := base(spec.KindImage, img.Labels)
		s.ID, s.Created, s.Phase = img.ID, img.Created, Ready
		s.Message = "present: " + strings.Join(img.RepoTags, ", ")
		out = append(out, s)
	}
	for _, v := range vols {
		if v.Labels[engine.LabelKind] != spec.KindVolume {
			continue
		}
		s := base(spec.KindVolume, v.Labels)
		s.ID, s.Created, s.Phase, s.Message = v.Name, v.CreatedAt, Ready, "present"
		out = append(out, s)
	}
	SortStatuses(out)
	return out, nil
}

// containerPhase words a container's engine state as a status.
func containerPhase(c engine.Container) (Phase, string) {
	switch c.State {
	case engine.StateRunning:
		return Ready, "running"
	case engine.StateRestarting:
		return Progressing, "restarting"
	case engine.StateCreated:
		return Progressing, "created, not started"
	}
	if c.ExitCode == 0 {
		return Ready, "completed"
	}
	return Failed, fmt.Sprintf("%s with code %d", c.State, c.ExitCode)
}
