package local

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/layerstore"
	"github.com/reconciler/reconciler/layerstore/archive"
	"github.com/reconciler/reconciler/layerstore/build"
	"github.com/reconciler/reconciler/runtime"
)

// EnsureImage builds, imports or pulls the image and tags it src.Tag,
// carrying src.Labels in its config (a build gets them as LABELs; an
// imported or pulled image gets a config of its own with them added).
func (e *Engine) EnsureImage(ctx context.Context, src engine.ImageSource, progress io.Writer) (engine.Image, error) {
	if progress == nil {
		progress = io.Discard
	}
	var img *layerstore.Image
	var err error
	switch {
	case src.Build != nil:
		img, err = e.Build(ctx, *src.Build, []string{src.Tag}, src.Labels, progress)
	case src.Import != nil:
		img, err = e.importFile(ctx, src.Import.Path, progress)
	case src.Pull != nil:
		img, err = e.pull(ctx, src.Pull.Ref, progress)
	default:
		return engine.Image{}, fmt.Errorf("%w: image %s has no source: give build, import or pull", engine.ErrInvalid, src.Tag)
	}
	if err != nil {
		return engine.Image{}, err
	}
	if src.Build == nil {
		if img, err = e.withLabels(ctx, img, src.Labels, src.Tag); err != nil {
			return engine.Image{}, err
		}
	}
	e.publish(engine.EventImage, "tag", img.ID.String(), img.Config.Config.Labels)
	return toEngineImage(img), nil
}

// Build runs a Dockerfile build, with RUN steps executed by the runtime.
func (e *Engine) Build(ctx context.Context, b engine.BuildSource, tags []string, labels map[string]string, progress io.Writer) (*layerstore.Image, error) {
	img, err := build.Build(ctx, e.images, build.Options{
		ContextDir: b.Context,
		Dockerfile: b.Dockerfile,
		Tags:       tags,
		BuildArgs:  b.Args,
		Target:     b.Target,
		NoCache:    b.NoCache,
		Labels:     labels,
		Progress:   progress,
		Runner:     BuildRunner{e.containers},
	})
	return img, WrapError(err)
}

// BuildRunner runs Dockerfile RUN steps in containers of the runtime.
type BuildRunner struct{ R *runtime.Runtime }

// Run implements build.Runner.
func (b BuildRunner) Run(ctx context.Context, req build.RunRequest) error {
	return b.R.RunOnce(ctx, runtime.OnceSpec(req))
}

func (e *Engine) importFile(ctx context.Context, path string, progress io.Writer) (*layerstore.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: import: %v", engine.ErrInvalid, err)
	}
	defer f.Close()
	imgs, err := archive.Load(ctx, e.images, f, progress)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	if len(imgs) != 1 {
		return nil, fmt.Errorf("%w: import %s: the archive holds %d images; an Image object takes exactly one", engine.ErrInvalid, path, len(imgs))
	}
	return imgs[0], nil
}

// withLabels returns img tagged tag with labels in its config: img itself
// when it already has them, or a new image on the same layers.
func (e *Engine) withLabels(ctx context.Context, img *layerstore.Image, labels map[string]string, tag string) (*layerstore.Image, error) {
	if !hasLabels(img.Config.Config.Labels, labels) {
		cfg := img.Config
		merged := maps.Clone(cfg.Config.Labels)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, labels)
		cfg.Config.Labels = merged
		return e.images.CreateImage(ctx, cfg, img.Layers, "", tag)
	}
	if err := e.images.Tag(img.ID.String(), tag); err != nil {
		return nil, err
	}
	return e.images.Resolve(img.ID.String())
}

// Images lists images carrying every label given.
func (e *Engine) Images(ctx context.Context, labels map[string]string) ([]engine.Image, error) {
	imgs, err := e.images.List()
	if err != nil {
		return nil, err
	}
	var out []engine.Image
	for _, img := range imgs {
		if hasLabels(img.Config.Config.Labels, labels) {
			out = append(out, toEngineImage(img))
		}
	}
	return out, nil
}

// InspectImage resolves a tag or ID.
func (e *Engine) InspectImage(ctx context.Context, ref string) (engine.Image, error) {
	img, err := e.images.Resolve(ref)
	if err != nil {
		return engine.Image{}, WrapError(err)
	}
	return toEngineImage(img), nil
}

// RemoveImage untags ref and deletes the image once nothing refers to it;
// an image a container uses is refused (ErrConflict).
func (e *Engine) RemoveImage(ctx context.Context, ref string) error {
	_, deleted, err := e.images.Remove(ref, false)
	if err != nil {
		return WrapError(err)
	}
	for _, id := range deleted {
		e.publish(engine.EventImage, "delete", id.String(), nil)
	}
	return nil
}

func toEngineImage(img *layerstore.Image) engine.Image {
	return engine.Image{
		ID:       img.ID.String(),
		RepoTags: img.RepoTags,
		Labels:   img.Config.Config.Labels,
		Size:     img.Size,
		Created:  img.Created,
	}
}
