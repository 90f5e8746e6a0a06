package layerstore

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

var noneInUse = func() map[digest.Digest]bool { return nil }

// SetInUse installs the engine's view of which image IDs containers use;
// such images, their parents and their layers are never removed. The
// callback is called without the store's lock held, so it may use the
// store itself.
func (s *Store) SetInUse(f func() map[digest.Digest]bool) {
	if f == nil {
		f = noneInUse
	}
	s.inUseFn.Store(&f)
}

func (s *Store) usedIDs() map[digest.Digest]bool {
	if f := s.inUseFn.Load(); f != nil {
		if m := (*f)(); m != nil {
			return m
		}
	}
	return map[digest.Digest]bool{}
}

func hasChildren(entries []*indexEntry, id digest.Digest) bool {
	for _, e := range entries {
		if e.Parent == id {
			return true
		}
	}
	return false
}

func untag(e *indexEntry, tag string) {
	e.Tags = slices.DeleteFunc(e.Tags, func(t string) bool { return t == tag })
}

// Remove is `docker rmi`: a tag is untagged, and the image goes once no tag
// is left, no container uses it and no image is built on it; its untagged
// parents without other children go with it. An ID with several tags needs
// force. An image in use is never deleted (ErrInUse); with force its last
// tag can still be removed, leaving it dangling as Docker does. Layers and
// blobs no image references any more are deleted afterwards.
func (s *Store) Remove(ref string, force bool) (untagged []string, deleted []digest.Digest, err error) {
	used := s.usedIDs()
	unlock, err := s.lock()
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	entries, err := s.readIndex()
	if err != nil {
		return nil, nil, err
	}
	e, err := resolveEntry(entries, ref)
	if err != nil {
		return nil, nil, err
	}
	byTag := ""
	if t, err := NormalizeTag(ref); err == nil && slices.Contains(e.Tags, t) {
		byTag = t
	}
	switch {
	case byTag != "" && len(e.Tags) > 1:
		untag(e, byTag)
		return []string{byTag}, nil, s.writeIndex(entries)
	case byTag != "" && used[e.ID]:
		if !force {
			return nil, nil, fmt.Errorf("unable to remove repository reference %q (must force): a container is using its image %s: %w", byTag, e.ID.Encoded()[:12], ErrInUse)
		}
		untag(e, byTag)
		return []string{byTag}, nil, s.writeIndex(entries)
	case byTag != "" && hasChildren(entries, e.ID):
		untag(e, byTag)
		return []string{byTag}, nil, s.writeIndex(entries)
	case byTag == "" && len(e.Tags) > 1 && !force:
		return nil, nil, fmt.Errorf("unable to delete %s (must be forced): image is referenced in multiple repositories (%v): %w", e.ID.Encoded()[:12], e.Tags, ErrConflict)
	case byTag == "" && used[e.ID]:
		return nil, nil, fmt.Errorf("unable to delete %s (cannot be forced): image is being used by a container: %w", e.ID.Encoded()[:12], ErrInUse)
	case byTag == "" && hasChildren(entries, e.ID):
		return nil, nil, fmt.Errorf("unable to delete %s (cannot be forced): image has dependent child images: %w", e.ID.Encoded()[:12], ErrConflict)
	}
	untagged = append(untagged, e.Tags...)
	e.Tags = nil
	for cur := e; cur != nil; {
		entries = slices.DeleteFunc(entries, func(o *indexEntry) bool { return o == cur })
		deleted = append(deleted, cur.ID)
		p := findEntry(entries, cur.Parent)
		if p == nil || len(p.Tags) > 0 || used[p.ID] || hasChildren(entries, p.ID) {
			break
		}
		cur = p
	}
	if err := s.writeIndex(entries); err != nil {
		return nil, nil, err
	}
	_, err = s.collect(entries)
	return untagged, deleted, err
}

// Prune is `docker image prune`: it deletes dangling images (no tag, no
// child image), or with all every image no container uses, then the
// layers and blobs nothing references. reclaimed counts bytes on disk.
func (s *Store) Prune(all bool) (deleted []digest.Digest, reclaimed int64, err error) {
	used := s.usedIDs()
	unlock, err := s.lock()
	if err != nil {
		return nil, 0, err
	}
	defer unlock()
	entries, err := s.readIndex()
	if err != nil {
		return nil, 0, err
	}
	for changed := true; changed; {
		changed = false
		for _, e := range slices.Clone(entries) {
			if used[e.ID] || hasChildren(entries, e.ID) || (!all && len(e.Tags) > 0) {
				continue
			}
			entries = slices.DeleteFunc(entries, func(o *indexEntry) bool { return o == e })
			deleted = append(deleted, e.ID)
			changed = true
		}
	}
	if len(deleted) > 0 {
		if err := s.writeIndex(entries); err != nil {
			return nil, 0, err
		}
	}
	reclaimed, err = s.collect(entries)
	return deleted, reclaimed, err
}

// collect deletes layer directories and blobs that no remaining image
// references (sparing layers added within pendingGrace by a build that
// has not created its image yet) and build-cache entries of deleted
// images. Callers hold the lock and have written the index already, so a
// crash here only leaves garbage for the next run.
func (s *Store) collect(entries []*indexEntry) (int64, error) {
	liveChains, liveBlobs := map[string]bool{}, map[string]bool{}
	ids := map[digest.Digest]bool{}
	for _, e := range entries {
		c, err := s.core(e)
		if err != nil {
			return 0, fmt.Errorf("garbage collection stopped, image %s unreadable: %w", e.ID, err)
		}
		ids[e.ID] = true
		liveBlobs[e.ID.Encoded()] = true
		liveBlobs[e.Manifest.Digest.Encoded()] = true
		for _, l := range c.layers {
			liveChains[l.ChainID.Encoded()] = true
			liveBlobs[l.Digest.Encoded()] = true
		}
	}
	for d, t := range s.pending {
		if time.Since(t) > pendingGrace {
			delete(s.pending, d)
			continue
		}
		liveChains[d.Encoded()] = true
		liveBlobs[d.Encoded()] = true
	}
	var reclaimed int64
	layers, err := os.ReadDir(s.path("layers"))
	if err != nil {
		return 0, err
	}
	for _, l := range layers {
		if liveChains[l.Name()] {
			continue
		}
		// Rename first: the layer disappears at once, whole.
		p := s.path("layers", l.Name())
		trash, err := os.MkdirTemp(s.path("tmp"), "gc-")
		if err != nil {
			return reclaimed, err
		}
		reclaimed += du(p)
		if err := os.Rename(p, filepath.Join(trash, "layer")); err != nil {
			return reclaimed, fmt.Errorf("remove layer %s: %w", l.Name(), err)
		}
		if err := os.RemoveAll(trash); err != nil {
			return reclaimed, fmt.Errorf("remove layer %s: %w", l.Name(), err)
		}
	}
	blobs, err := os.ReadDir(s.path("blobs", "sha256"))
	if err != nil {
		return reclaimed, err
	}
	for _, b := range blobs {
		if liveBlobs[b.Name()] {
			continue
		}
		p := s.path("blobs", "sha256", b.Name())
		reclaimed += du(p)
		if err := os.Remove(p); err != nil {
			return reclaimed, fmt.Errorf("remove blob %s: %w", b.Name(), err)
		}
	}
	s.cacheMu.Lock()
	for id := range s.images {
		if !ids[id] {
			delete(s.images, id)
		}
	}
	s.cacheMu.Unlock()
	cache, err := s.readCache()
	if err != nil {
		return reclaimed, err
	}
	n := len(cache)
	for k, id := range cache {
		if !ids[id] {
			delete(cache, k)
		}
	}
	if len(cache) != n {
		if err := s.writeCache(cache); err != nil {
			return reclaimed, err
		}
	}
	return reclaimed, nil
}

// du is the disk space below p (allocated blocks, hardlinks once).
func du(p string) int64 {
	seen := map[uint64]bool{}
	var total int64
	filepath.WalkDir(p, func(q string, _ fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		var st unix.Stat_t
		if unix.Lstat(q, &st) == nil && !seen[st.Ino] {
			seen[st.Ino] = true
			total += st.Blocks * 512
		}
		return nil
	})
	return total
}
