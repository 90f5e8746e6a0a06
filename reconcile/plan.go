package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/spec"
)

// Plan says what ApplyOnce(objs, sources) would do, without changing any
// engine: it runs the same reconcilers once per object, in setup order,
// against engines that answer reads truthfully and only record writes.
// The error names objects that would fail (a name clash, a missing image).
func (c *Controller) Plan(ctx context.Context, objs []spec.Object, sources []string) ([]Action, error) {
	var mu sync.Mutex
	var actions []Action
	dry, err := New(Options{
		Engines: func(host string, decl *spec.Host) (engine.Engine, error) {
			eng, err := c.opts.Engines(host, decl)
			if err != nil {
				return nil, err
			}
			return &dryEngine{Engine: eng, images: map[string]engine.Image{}}, nil
		},
		Workers:  1,
		Out:      io.Discard,
		Prunable: c.opts.Prunable,
	})
	if err != nil {
		return nil, err
	}
	dry.onAct = func(a Action) {
		mu.Lock()
		actions = append(actions, a)
		mu.Unlock()
	}
	bySource := map[string][]spec.Object{}
	for _, s := range sources {
		bySource[s] = nil
	}
	for _, o := range objs {
		bySource[o.Source.File] = append(bySource[o.Source.File], o)
	}
	for s, l := range bySource {
		dry.SetObjects(s, l)
	}
	dry.Resync(ctx)
	var failures []string
	for dry.queue.Len() > 0 && ctx.Err() == nil {
		key, _ := dry.queue.Get(ctx)
		r := dry.kinds[key.Kind]
		if r == nil {
			dry.queue.Done(key)
			continue
		}
		if _, err := r.Reconcile(ctx, key); err != nil {
			failures = append(failures, name(key)+": "+err.Error())
		}
		dry.queue.Done(key)
	}
	dry.queue.ShutDown()
	if len(failures) > 0 {
		return actions, fmt.Errorf("%d objects would fail:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	return actions, ctx.Err()
}

// dryEngine passes reads through and records writes without making them;
// images it would make are visible to later reads, so a container planned
// after its image sees it.
type dryEngine struct {
	engine.Engine
	mu     sync.Mutex
	images map[string]engine.Image // tag -> image it would have
}

func (d *dryEngine) CreateContainer(ctx context.Context, cfg engine.ContainerConfig) (string, error) {
	all, err := d.Engine.Containers(ctx, nil)
	if err != nil {
		return "", err
	}
	for _, c := range all {
		if c.Name == cfg.Name && c.Labels[engine.LabelName] != cfg.Labels[engine.LabelName] {
			return "", fmt.Errorf("create container %q: %w", cfg.Name, engine.ErrConflict)
		}
	}
	return "(dry-run)", nil
}

func (d *dryEngine) StartContainer(context.Context, string) error               { return nil }
func (d *dryEngine) StopContainer(context.Context, string, time.Duration) error { return nil }
func (d *dryEngine) RemoveContainer(context.Context, string, bool) error        { return nil }
func (d *dryEngine) RenameContainer(context.Context, string, string) error      { return nil }
func (d *dryEngine) RemoveImage(context.Context, string) error                  { return nil }
func (d *dryEngine) RemoveVolume(context.Context, string) error                 { return nil }

func (d *dryEngine) EnsureImage(ctx context.Context, src engine.ImageSource, _ io.Writer) (engine.Image, error) {
	img, err := d.Engine.InspectImage(ctx, src.Tag)
	if err != nil {
		if !errors.Is(err, engine.ErrNotFound) {
			return engine.Image{}, err
		}
		img = engine.Image{ID: "(to be made)", RepoTags: []string{src.Tag}}
	}
	img.Labels = src.Labels
	d.mu.Lock()
	d.images[normalizeRef(src.Tag)] = img
	d.mu.Unlock()
	return img, nil
}

func (d *dryEngine) InspectImage(ctx context.Context, ref string) (engine.Image, error) {
	d.mu.Lock()
	img, ok := d.images[normalizeRef(ref)]
	d.mu.Unlock()
	if ok {
		return img, nil
	}
	return d.Engine.InspectImage(ctx, ref)
}

func (d *dryEngine) EnsureVolume(ctx context.Context, v engine.VolumeConfig) (engine.Volume, error) {
	vols, err := d.Engine.Volumes(ctx, nil)
	if err != nil {
		return engine.Volume{}, err
	}
	for _, x := range vols {
		if x.Name == v.Name {
			return x, nil
		}
	}
	return engine.Volume{Name: v.Name, Driver: v.Driver, Labels: v.Labels}, nil
}
