// Package layerstore keeps images as stacks of immutable layers, stored and
// unpacked once however many images, tags and containers share them.
//
// On disk (root = STATE/images):
//
//	oci-layout, index.json   an OCI image layout; index.json lists every
//	                         image manifest, once per tag (annotations carry
//	                         the tag, the image ID and the parent image)
//	blobs/sha256/HEX         manifests, configs and layer blobs as received
//	layers/CHAINHEX/diff     the unpacked layer (an overlay lowerdir, with
//	                         whiteouts in overlayfs form)
//	layers/CHAINHEX/layer.json  what the layer is (diff ID, parent, sizes)
//	cache.json               build cache: key -> image ID
//	tmp/                     writes in progress; emptied by Open
//
// Every write lands in tmp/ first and is renamed into place after fsync, so
// a crash leaves either nothing or a complete layer, blob or index.
package layerstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// Errors, testable with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrInUse    = errors.New("in use")
	// ErrConflict: the operation needs force or cannot be done as asked
	// (an ID with several tags, an image with child images).
	ErrConflict = errors.New("conflict")
)

// Store is a layer and image store rooted at one directory. It is safe for
// concurrent use, also by several processes (writes take a flock).
type Store struct {
	root string

	mu      sync.Mutex                                    // with the flock on root/lock: index, cache, layer and blob renames, GC
	inUseFn atomic.Pointer[func() map[digest.Digest]bool] // SetInUse; read without the lock
	pending map[digest.Digest]time.Time                   // layers added but not yet in an image: GC spares them

	cacheMu sync.Mutex
	images  map[digest.Digest]*imageCore // parsed manifest+config by image ID (immutable)
}

// pendingGrace is how long a layer no image references yet is protected
// from GC (a build adds layers before it creates the image).
const pendingGrace = time.Hour

// Open opens (creating if needed) the store at root and removes what
// crashed writes left in root/tmp.
func Open(root string) (*Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	s := &Store{root: abs, pending: map[digest.Digest]time.Time{}, images: map[digest.Digest]*imageCore{}}
	for _, d := range []string{"", "blobs/sha256", "layers", "tmp"} {
		if err := os.MkdirAll(s.path(d), 0o700); err != nil {
			return nil, fmt.Errorf("create image store %s: %w", abs, err)
		}
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.cleanTmp(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(s.path(ocispec.ImageLayoutFile)); os.IsNotExist(err) {
		if err := writeFileAtomic(s, ocispec.ImageLayoutFile, []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(s.path(ocispec.ImageIndexFile)); os.IsNotExist(err) {
		if err := s.writeIndex(nil); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

func (s *Store) path(rel ...string) string {
	return filepath.Join(append([]string{s.root}, rel...)...)
}

// lock serialises writers in this process and across processes.
func (s *Store) lock() (func(), error) {
	s.mu.Lock()
	f, err := os.OpenFile(s.path("lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		s.mu.Unlock()
		return nil, fmt.Errorf("lock image store %s: %w", s.root, err)
	}
	return func() {
		f.Close() // releases the flock
		s.mu.Unlock()
	}, nil
}

// cleanTmp removes leftovers of writes interrupted by a crash; callers
// hold the lock. Temp files are only written under the lock; temp folders
// live longer (an unpacking layer) and their writers hold a shared flock
// on them, which keeps them from being removed.
func (s *Store) cleanTmp() error {
	entries, err := os.ReadDir(s.path("tmp"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := s.path("tmp", e.Name())
		if busy(p) {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("clean up interrupted write %s: %w", p, err)
		}
	}
	return nil
}

// busy reports whether a live writer holds a lock on the temp entry p.
func busy(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return true
	}
	return false
}

// TempDir makes a directory under tmp/ (on the layers' file system) and
// holds a shared flock on it until release, so a concurrent Open never
// removes it (made under the lock, so no Open sees it before it is
// flocked), while the next Open after a crash does. Builds use it for
// their scratch folders; release removes the directory.
func (s *Store) TempDir(prefix string) (dir string, release func(), err error) {
	unlock, err := s.lock()
	if err != nil {
		return "", nil, err
	}
	defer unlock()
	dir, err = os.MkdirTemp(s.path("tmp"), prefix)
	if err != nil {
		return "", nil, fmt.Errorf("image store temp folder: %w", err)
	}
	f, err := os.Open(dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		f.Close()
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, func() {
		f.Close()
		os.RemoveAll(dir) // a no-op once renamed into place
	}, nil
}
