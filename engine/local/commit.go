package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/layerstore"
	"github.com/reconciler/reconciler/layerstore/build"
)

// CommitOptions describe the image a commit makes.
type CommitOptions struct {
	Tag     string // "" leaves the image untagged
	Author  string
	Message string
	// Changes are Dockerfile instructions applied to the new image's
	// config (CMD, ENTRYPOINT, ENV, LABEL, EXPOSE, USER, WORKDIR, ...), as
	// `docker commit --change`.
	Changes []string
}

// Commit turns a container's writable layer into a new immutable layer on
// top of its image's (deletions become OCI whiteouts) and stores the
// result as a new image. The container is not paused: a container still
// writing may commit a file half-written, as with `docker commit -p=false`.
func (e *Engine) Commit(ctx context.Context, ref string, o CommitOptions) (*layerstore.Image, error) {
	c, err := e.containers.Inspect(ref)
	if err != nil {
		return nil, WrapError(err)
	}
	base, err := e.images.Resolve(c.Spec.ImageID)
	if err != nil {
		return nil, fmt.Errorf("commit %s: its image %s: %w", c.Name, c.Spec.ImageRef, WrapError(err))
	}
	upper, err := e.containers.UpperDir(c.ID)
	if err != nil {
		return nil, WrapError(err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(e.images.DiffDir(ctx, upper, pw)) }()
	parent := ""
	if n := len(base.Layers); n > 0 {
		parent = base.Layers[n-1].ChainID.String()
	}
	layer, err := e.images.AddLayer(ctx, digest.Digest(parent), pr, "")
	pr.CloseWithError(err)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", c.Name, err)
	}
	cfg := base.Config
	cfg.RootFS.DiffIDs = append(append([]digest.Digest{}, cfg.RootFS.DiffIDs...), layer.DiffID)
	now := time.Now().UTC()
	cfg.Created = &now
	if o.Author != "" {
		cfg.Author = o.Author
	}
	cfg.History = append(append([]ocispec.History{}, cfg.History...), ocispec.History{Created: &now, Author: o.Author, Comment: o.Message, CreatedBy: "reconciler commit " + c.Name})
	layers := append(append([]layerstore.Layer{}, base.Layers...), layer)
	var tags []string
	if o.Tag != "" && len(o.Changes) == 0 {
		tags = []string{o.Tag}
	}
	img, err := e.images.CreateImage(ctx, cfg, layers, base.ID, tags...)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", c.Name, err)
	}
	if len(o.Changes) > 0 {
		if img, err = e.ApplyChanges(ctx, img, o.Changes, o.Tag); err != nil {
			return nil, fmt.Errorf("commit %s: %w", c.Name, err)
		}
	}
	e.publish(engine.EventContainer, "commit", c.ID, c.Spec.Labels)
	if o.Tag != "" {
		e.publish(engine.EventImage, "tag", img.ID.String(), img.Config.Config.Labels)
	}
	return img, nil
}

// ApplyChanges runs Dockerfile instructions that change only the config
// (`commit --change`, `import --change`) as a build FROM img, so CMD or
// ENV mean exactly what they mean in a Dockerfile; the result is tagged
// tag when given.
func (e *Engine) ApplyChanges(ctx context.Context, img *layerstore.Image, changes []string, tag string) (*layerstore.Image, error) {
	dir, err := os.MkdirTemp(filepath.Join(e.root, "images"), "commit-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	df := "FROM " + img.ID.String() + "\n"
	for _, ch := range changes {
		switch strings.ToUpper(strings.Fields(ch + " x")[0]) {
		case "CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "VOLUME", "WORKDIR", "STOPSIGNAL":
		default:
			return nil, fmt.Errorf("%w: --change %q: only CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR and STOPSIGNAL can be changed", engine.ErrInvalid, ch)
		}
		df += strings.ReplaceAll(ch, "\n", " ") + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o600); err != nil {
		return nil, err
	}
	var tags []string
	if tag != "" {
		tags = []string{tag}
	}
	img, err = build.Build(ctx, e.images, build.Options{ContextDir: dir, Tags: tags, Runner: BuildRunner{e.containers}})
	if err != nil {
		return nil, fmt.Errorf("%w: --change: %v", engine.ErrInvalid, err)
	}
	return img, nil
}
