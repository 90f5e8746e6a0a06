package volumes

import (
	"fmt"
	"slices"
)

// Use records that container id uses the volume, so Remove and Prune
// refuse it until Release. Call it when the container is created (Docker
// counts stopped containers as users too). Recording an existing user again
// is a no-op. The record is persisted, so it survives restarts.
func (m *Manager) Use(name, containerID string) error {
	if containerID == "" {
		return fmt.Errorf("use %s: %w: empty container ID", name, ErrInvalid)
	}
	return m.update(name, func(md *meta) bool {
		i, found := slices.BinarySearch(md.Users, containerID)
		if found {
			return false
		}
		md.Users = slices.Insert(md.Users, i, containerID)
		return true
	})
}

// Release drops container id from the volume's users; call it when the
// container is removed. Releasing a container that is not a user is a
// no-op; a missing volume is an ErrNotFound.
func (m *Manager) Release(name, containerID string) error {
	return m.update(name, func(md *meta) bool {
		i, found := slices.BinarySearch(md.Users, containerID)
		if !found {
			return false
		}
		md.Users = slices.Delete(md.Users, i, i+1)
		return true
	})
}

// ReleaseAll drops container id from every volume it uses and returns
// their names. It serves containers removed while their mounts were not
// known (for example, cleaned up after a crash).
func (m *Manager) ReleaseAll(containerID string) ([]string, error) {
	vols, err := m.List(Filter{})
	if err != nil {
		return nil, err
	}
	var released []string
	for _, v := range vols {
		if !slices.Contains(v.Users, containerID) {
			continue
		}
		if err := m.Release(v.Name, containerID); err != nil {
			return released, err
		}
		released = append(released, v.Name)
	}
	return released, nil
}

// Users returns the IDs of the containers using the volume, sorted.
func (m *Manager) Users(name string) ([]string, error) {
	md, err := m.load(name)
	if err != nil {
		return nil, err
	}
	return md.Users, nil
}

// update applies change to the volume's metadata under the lock and writes
// it back atomically if change reports a change.
func (m *Manager) update(name string, change func(*meta) bool) error {
	unlock, err := m.lock()
	if err != nil {
		return err
	}
	defer unlock()
	md, err := m.load(name)
	if err != nil {
		return err
	}
	if !change(md) {
		return nil
	}
	return writeMeta(m.metaPath(name), md)
}
