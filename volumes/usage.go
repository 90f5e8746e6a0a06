package volumes

import (
	"errors"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Usage returns the bytes the volume's data uses: the apparent sizes of
// everything in it, hard links counted once (as Docker's UsageData.Size).
// It walks the whole folder, so its cost grows with the number of files.
func (m *Manager) Usage(name string) (int64, error) {
	v, err := m.Get(name)
	if err != nil {
		return 0, err
	}
	return dirUsage(v.Mountpoint, 0)
}

// errTooManyEntries stops a bounded walk.
var errTooManyEntries = errors.New("too many entries to measure")

// dirUsage sums apparent sizes under dir, stopping with errTooManyEntries
// after maxEntries entries if maxEntries > 0. Entries that vanish during
// the walk (a container deleting files) are skipped.
func dirUsage(dir string, maxEntries int) (int64, error) {
	type inode struct{ dev, ino uint64 }
	seen := map[inode]bool{}
	var total int64
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != dir {
				return nil
			}
			return err
		}
		if n++; maxEntries > 0 && n > maxEntries {
			return errTooManyEntries
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			k := inode{uint64(st.Dev), st.Ino}
			if seen[k] {
				return nil
			}
			seen[k] = true
		}
		total += info.Size()
		return nil
	})
	return total, err
}

// sizeCache keeps recent measurements so that frequent scrapes do not walk
// every volume each time.
type sizeCache struct {
	mu      sync.Mutex
	entries map[string]sizeEntry
}

type sizeEntry struct {
	bytes int64
	ok    bool // false: the volume was too big to measure
	at    time.Time
}

// get measures dir unless a measurement younger than ttl exists.
func (c *sizeCache) get(name, dir string, ttl time.Duration, maxEntries int) (int64, bool) {
	c.mu.Lock()
	e, hit := c.entries[name]
	c.mu.Unlock()
	if hit && time.Since(e.at) < ttl {
		return e.bytes, e.ok
	}
	b, err := dirUsage(dir, maxEntries)
	e = sizeEntry{bytes: b, ok: err == nil, at: time.Now()}
	if err != nil && !errors.Is(err, errTooManyEntries) {
		return 0, false // transient (volume removed meanwhile): do not cache
	}
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[string]sizeEntry{}
	}
	c.entries[name] = e
	c.mu.Unlock()
	return e.bytes, e.ok
}

func (c *sizeCache) forget(name string) {
	c.mu.Lock()
	delete(c.entries, name)
	c.mu.Unlock()
}
