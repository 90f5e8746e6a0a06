package build

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"sync"
	"syscall"
)

// sums remembers file content hashes by inode and change time, so a file
// COPYed twice in one build, or again by the next build in the same process
// (the daemon), is read and hashed once. A write to the file changes its
// ctime (which, unlike mtime, cannot be set back), so a stale hash is never
// used.
var sums = &sumCache{m: map[fileKey]string{}}

// maxSums bounds the memory of the hash cache (about 150 bytes an entry).
const maxSums = 1 << 16

type fileKey struct {
	dev, ino, size             uint64
	mtimeSec, mtimeNs, ctimeNs int64
	ctimeSec                   int64
}

type sumCache struct {
	mu sync.Mutex
	m  map[fileKey]string
}

func keyOf(fi os.FileInfo) (fileKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	return fileKey{dev: st.Dev, ino: st.Ino, size: uint64(st.Size),
		mtimeSec: st.Mtim.Sec, mtimeNs: st.Mtim.Nsec, ctimeSec: st.Ctim.Sec, ctimeNs: st.Ctim.Nsec}, true
}

// fileSHA256 returns the hex sha256 of the content of file name.
func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return "", err
	}
	key, cacheable := keyOf(before)
	if cacheable {
		sums.mu.Lock()
		sum, ok := sums.m[key]
		sums.mu.Unlock()
		if ok {
			return sum, nil
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if after, err := f.Stat(); err == nil && cacheable {
		if k2, _ := keyOf(after); k2 == key { // not written while being read
			sums.mu.Lock()
			if len(sums.m) >= maxSums {
				clear(sums.m)
			}
			sums.m[key] = sum
			sums.mu.Unlock()
		}
	}
	return sum, nil
}
