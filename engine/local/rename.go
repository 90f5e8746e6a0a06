package local

import "context"

// RenameContainer gives a container, running or not, a new name; the
// errors say, in Docker's words, why a name is taken or invalid.
func (e *Engine) RenameContainer(ctx context.Context, ref, name string) error {
	return WrapError(e.containers.Rename(ref, name))
}
