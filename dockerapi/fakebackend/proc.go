package fakebackend

import (
	"context"
	"fmt"

	"github.com/moby/moby/api/types/events"

	"github.com/reconciler/reconciler/engine"
)

// ContainerRename implements dockerapi.ContainerBackend, with dockerd's
// errors and its rename event.
func (b *Backend) ContainerRename(ctx context.Context, ref, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.lookup(ref)
	if err != nil {
		return err
	}
	name = trimSlash(name)
	switch {
	case name == "":
		return fmt.Errorf("%w: Neither old nor new names may be empty", engine.ErrInvalid)
	case !validName.MatchString(name):
		return fmt.Errorf("%w: Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", engine.ErrInvalid, name)
	case name == c.name:
		return fmt.Errorf("%w: Renaming a container with the same name as its current name", engine.ErrInvalid)
	}
	if err := b.nameFree(name); err != nil {
		return err
	}
	old := c.name
	c.name = name
	b.containerEvent(c, events.ActionRename, map[string]string{"oldName": "/" + old})
	return nil
}

// nameFree fails with dockerd's conflict when a container holds name;
// b.mu is held.
func (b *Backend) nameFree(name string) error {
	for _, o := range b.containers {
		if o.name == name {
			return fmt.Errorf("%w: Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", engine.ErrConflict, name, o.id)
		}
	}
	return nil
}
