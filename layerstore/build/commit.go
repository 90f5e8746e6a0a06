package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/reconciler/reconciler/layerstore"
)

// change is what one step does on a cache miss.
type change struct {
	// config edits the image config (may be nil).
	config func(c *ocispec.ImageConfig)
	// author sets the image author (MAINTAINER), when not nil.
	author *string
	// layer writes the tar of the step's new layer; nil for steps that only
	// change the config.
	layer func(ctx context.Context, w io.Writer) error
	// inputs is the digest of what the step reads besides the instruction
	// (COPYed files, RUN's build args and shell).
	inputs string
	// createdBy is the history line of the step.
	createdBy string
}

// cacheKey identifies a step's result: the image it starts from, the
// instruction after variable expansion, and the digest of its inputs.
func cacheKey(parent string, cmd instructions.Command, inputs string) string {
	j, err := json.Marshal(cmd)
	if err != nil {
		j = []byte(fmt.Sprint(cmd)) // instructions are plain data; kept for safety
	}
	h := sha256.New()
	fmt.Fprintf(h, "reconciler-build/v1\nparent %s\n%s %T %s\ninputs %s\n", parent, cmd.Name(), cmd, j, inputs)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// commit finishes a step: a cache hit adopts the cached image, a miss
// applies ch and stores the result as a new (intermediate) image whose
// Parent is the previous step's image.
func (b *builder) commit(ctx context.Context, st *stage, cmd instructions.Command, ch change) error {
	key := cacheKey(st.parentID(), cmd, ch.inputs)
	if !b.opts.NoCache {
		if id, ok := b.s.CacheGet(key); ok {
			if img, err := b.s.Resolve(id.String()); err == nil {
				stepsTotal.WithLabelValues("hit").Inc()
				b.out.linef("Using cache")
				b.out.linef("%s", shortID(img.ID))
				st.img, st.cfg = img, cloneConfig(img.Config)
				return nil
			}
		}
	}
	stepsTotal.WithLabelValues("miss").Inc()
	cfg := cloneConfig(st.cfg)
	if ch.config != nil {
		ch.config(&cfg.Config)
	}
	if ch.author != nil {
		cfg.Author = *ch.author
	}
	layers := append([]layerstore.Layer(nil), st.layers()...)
	if ch.layer != nil {
		l, err := b.addLayer(ctx, layers, ch.layer)
		if err != nil {
			return err
		}
		layers = append(layers, l)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.DiffID)
	}
	now := time.Now().UTC()
	cfg.Created = &now
	cfg.History = append(cfg.History, ocispec.History{Created: &now, CreatedBy: ch.createdBy, EmptyLayer: ch.layer == nil})
	img, err := b.s.CreateImage(ctx, cfg, layers, st.parentDigest())
	if err != nil {
		return err
	}
	if err := b.s.CachePut(key, img.ID); err != nil {
		return err
	}
	b.out.linef("%s", shortID(img.ID))
	st.img, st.cfg = img, cloneConfig(img.Config)
	return nil
}

// addLayer streams the tar written by write into the store on top of
// layers. A failure of write (a failed RUN) is the error reported.
func (b *builder) addLayer(ctx context.Context, layers []layerstore.Layer, write func(context.Context, io.Writer) error) (layerstore.Layer, error) {
	var parent digest.Digest
	if len(layers) > 0 {
		parent = layers[len(layers)-1].ChainID
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := write(ctx, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	l, err := b.s.AddLayer(ctx, parent, pr, "")
	pr.CloseWithError(fmt.Errorf("layer store stopped reading: %v", err))
	if werr := <-done; werr != nil {
		return layerstore.Layer{}, werr
	}
	return l, err
}

// nopCreatedBy is the history line of a step that runs nothing.
func nopCreatedBy(cmd instructions.Command) string {
	return "/bin/sh -c #(nop) " + strings.TrimSpace(cmd.(fmt.Stringer).String())
}
