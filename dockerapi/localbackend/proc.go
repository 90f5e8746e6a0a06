package localbackend

import "context"

// ContainerRename implements dockerapi.ContainerBackend.
func (b *Backend) ContainerRename(ctx context.Context, ref, name string) error {
	c, err := b.inspect(ref) // Docker's words for a missing container
	if err != nil {
		return err
	}
	return b.e.RenameContainer(ctx, c.ID, name)
}
