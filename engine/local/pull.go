package local

import (
	"context"
	"fmt"
	"io"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/layerstore"
)

func (e *Engine) pull(ctx context.Context, ref string, progress io.Writer) (*layerstore.Image, error) {
	return nil, fmt.Errorf("%w: pull %s: registry pulls are not wired into the local engine yet", engine.ErrInvalid, ref)
}
