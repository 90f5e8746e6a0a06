package layerstore

import (
	"fmt"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
)

// writeFileAtomic replaces root/rel with data: temp file in tmp/, fsync,
// rename, fsync of the directory.
func writeFileAtomic(s *Store, rel string, data []byte) error {
	dst := s.path(rel)
	f, err := os.CreateTemp(s.path("tmp"), "file-")
	if err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", dst, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", dst, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	return syncDir(filepath.Dir(dst))
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

func (s *Store) blobPath(d digest.Digest) string {
	return s.path("blobs", d.Algorithm().String(), d.Encoded())
}

// BlobPath is the file holding a blob (manifest, config or layer), for
// readers such as archive and registry. ErrNotFound if absent.
func (s *Store) BlobPath(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("blob %q: %w", d, err)
	}
	p := s.blobPath(d)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	return p, nil
}

// ReadBlob returns a small blob's content (manifests, configs).
func (s *Store) ReadBlob(d digest.Digest) ([]byte, error) {
	p, err := s.BlobPath(d)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// putBlob stores data as a blob unless present; callers hold the lock so
// GC cannot remove it before it is referenced.
func (s *Store) putBlob(data []byte) (digest.Digest, error) {
	d := digest.FromBytes(data)
	if _, err := os.Stat(s.blobPath(d)); err == nil {
		return d, nil
	}
	return d, writeFileAtomic(s, filepath.Join("blobs", d.Algorithm().String(), d.Encoded()), data)
}
