package layerstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	digest "github.com/opencontainers/go-digest"
)

const cacheFile = "cache.json"

// readCache loads the build cache (key -> image ID).
func (s *Store) readCache() (map[string]digest.Digest, error) {
	m := map[string]digest.Digest{}
	b, err := os.ReadFile(s.path(cacheFile))
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("build cache %s is corrupt (delete it to start afresh): %w", s.path(cacheFile), err)
	}
	return m, nil
}

func (s *Store) writeCache(m map[string]digest.Digest) error {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s, cacheFile, b)
}

// CacheGet returns the image a build step with this key produced, if that
// image still exists.
func (s *Store) CacheGet(key string) (digest.Digest, bool) {
	m, err := s.readCache()
	if err != nil {
		return "", false
	}
	id, ok := m[key]
	if !ok {
		return "", false
	}
	entries, err := s.readIndex()
	if err != nil || findEntry(entries, id) == nil {
		return "", false
	}
	return id, true
}

// CachePut records that the build step key produced image id. The entry
// is dropped when the image is removed.
func (s *Store) CachePut(key string, id digest.Digest) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	entries, err := s.readIndex()
	if err != nil {
		return err
	}
	if findEntry(entries, id) == nil {
		return fmt.Errorf("build cache: image %s: %w", id, ErrNotFound)
	}
	m, err := s.readCache()
	if err != nil {
		return err
	}
	m[key] = id
	return s.writeCache(m)
}
