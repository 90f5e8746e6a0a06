package local

import (
	"context"
	"io"

	"github.com/reconciler/reconciler/layerstore"
	"github.com/reconciler/reconciler/layerstore/registry"
)

func (e *Engine) pull(ctx context.Context, ref string, progress io.Writer) (*layerstore.Image, error) {
	img, err := registry.Pull(ctx, e.images, ref, registry.Options{Progress: progress})
	return img, WrapError(err)
}
