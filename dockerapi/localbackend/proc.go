package localbackend

import (
	"context"
	"fmt"

	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/runtime"
)

// ContainerRename implements dockerapi.ContainerBackend.
func (b *Backend) ContainerRename(ctx context.Context, ref, name string) error {
	c, err := b.inspect(ref) // Docker's words for a missing container
	if err != nil {
		return err
	}
	return b.e.RenameContainer(ctx, c.ID, name)
}

// ContainerTop implements dockerapi.ContainerBackend.
func (b *Backend) ContainerTop(ctx context.Context, ref, psArgs string) (container.TopResponse, error) {
	c, err := b.running(ref)
	if err != nil {
		return container.TopResponse{}, err
	}
	top, err := b.e.ContainerTop(ctx, c.ID, psArgs)
	if err != nil {
		return container.TopResponse{}, err
	}
	return container.TopResponse{Titles: top.Titles, Processes: top.Processes}, nil
}

// running is inspect of a container that must be running, failing as
// dockerd does (409) otherwise.
func (b *Backend) running(ref string) (*runtime.Container, error) {
	c, err := b.inspect(ref)
	if err != nil {
		return nil, err
	}
	switch c.State.Status {
	case runtime.StateRunning:
		return c, nil
	case runtime.StateRestarting:
		return nil, fmt.Errorf("%w: Container %s is restarting, wait until the container is running", engine.ErrConflict, c.ID)
	}
	return nil, fmt.Errorf("%w: Container %s is not running", engine.ErrConflict, c.ID)
}
