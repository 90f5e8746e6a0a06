package runtime

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// Rename gives a container (running or not) a new name, Docker's rename:
// config.json is rewritten atomically with the new name, which is what
// the next Runtime on this root reads, so the name survives a restart of
// the daemon. The new name is reserved before the file is written, so two
// renames (or a create) never both take it. A "rename" event carries the
// old name in oldName, with Docker's leading "/".
func (r *Runtime) Rename(ref, name string) error {
	name = strings.TrimPrefix(name, "/")
	if name == "" {
		return fmt.Errorf("%w: Neither old nor new names may be empty", ErrInvalid)
	}
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", ErrInvalid, name)
	}
	c, unlock, err := r.lockInspect(ref)
	if err != nil {
		return err
	}
	defer unlock()
	old := c.Name
	if name == old {
		return fmt.Errorf("%w: Renaming a container with the same name as its current name", ErrInvalid)
	}
	r.mu.Lock()
	if other, ok := r.names[name]; ok {
		r.mu.Unlock()
		return nameInUse(name, other)
	}
	r.names[name] = c.ID
	r.mu.Unlock()

	cfg, err := r.config(c.ID)
	if err == nil {
		// A copy: the cached config may be read concurrently.
		renamed := *cfg
		renamed.Spec.Name = name
		err = r.saveConfig(c.ID, &renamed)
	}
	r.mu.Lock()
	if err != nil {
		delete(r.names, name)
	} else {
		delete(r.names, old)
	}
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("rename container %s: %w", old, err)
	}
	r.emit(c.ID, "rename", map[string]string{"oldName": "/" + old})
	return nil
}

// saveConfig replaces a container's config.json, atomically, and its
// cached copy (Rename, Update: config.json is otherwise written once).
func (r *Runtime) saveConfig(id string, cfg *shim.Config) error {
	if err := shim.WriteJSON(filepath.Join(r.dir(id), shim.ConfigFile), cfg); err != nil {
		return err
	}
	r.configs.Store(id, cfg)
	return nil
}

// nameInUse is ErrConflict in dockerd's words for a name held by
// container id (create and rename).
func nameInUse(name, id string) error {
	return fmt.Errorf("%w: Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", ErrConflict, name, id)
}
