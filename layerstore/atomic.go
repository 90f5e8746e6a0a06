package layerstore

import (
	"fmt"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

// writeFileAtomic replaces root/rel with data; its temporary file is in
// tmp/, which Open clears of what a crash left.
func writeFileAtomic(s *Store, rel string, data []byte) error {
	f, err := atomicfile.CreateIn(s.path("tmp"), s.path(rel), 0o600)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", s.path(rel), err)
	}
	return f.Commit()
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
