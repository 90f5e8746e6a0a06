package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/reconciler/reconciler/internal/dockerignore"
)

// LabelContext records, on a built image, the digest of its build
// context's files, so an edit of a source file (a git pull, say) rebuilds
// the image even though its manifest did not change.
const LabelContext = "io.reconciler.context-digest"

// contextHasher digests build contexts by file content, re-reading only
// files whose size, mtime or inode changed since it last looked.
type contextHasher struct {
	mu    sync.Mutex
	files map[string]fileSum           // absolute path -> last sum
	built map[string]map[string]string // context -> rel path -> sum, as last built
}

type fileSum struct {
	size  int64
	mtime time.Time
	ino   uint64
	sum   string
}

func newContextHasher() *contextHasher {
	return &contextHasher{files: map[string]fileSum{}, built: map[string]map[string]string{}}
}

// digest returns the digest of dir's files (names, symlink targets,
// executable bits and contents) and the sums it is made of. Files the
// build does not see are left out: those .dockerignore excludes (or
// DOCKERFILE.dockerignore next to the Dockerfile, which wins), and .git.
func (h *contextHasher) digest(dir, dockerfile string) (string, map[string]string, error) {
	ignore, err := readIgnore(dir, dockerfile)
	if err != nil {
		return "", nil, fmt.Errorf("build context %s: %w", dir, err)
	}
	sums := map[string]string{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel != "." && ignore != nil {
			if skip, _ := ignore.MatchesOrParentMatches(filepath.ToSlash(rel)); skip {
				if d.IsDir() && !ignore.Exclusions() {
					return filepath.SkipDir
				}
				if !d.IsDir() {
					return nil
				}
			}
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != dir {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			sums[rel] = "link:" + target
		case info.Mode().IsRegular():
			sum, err := h.fileSum(p, info)
			if err != nil {
				return err
			}
			sums[rel] = fmt.Sprintf("%s:%o", sum, info.Mode().Perm()&0o111)
		}
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("build context %s: %w", dir, err)
	}
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	hash := sha256.New()
	for _, n := range names {
		fmt.Fprintf(hash, "%s\x00%s\n", n, sums[n])
	}
	return "sha256:" + hex.EncodeToString(hash.Sum(nil)), sums, nil
}

// changed lists the files of dir that differ from its last build by this
// process (nil when unknown, as after a restart).
func (h *contextHasher) changed(dir string, sums map[string]string) []string {
	h.mu.Lock()
	prev, known := h.built[dir]
	h.mu.Unlock()
	if !known {
		return nil
	}
	var changed []string
	for n, s := range sums {
		if prev[n] != s {
			changed = append(changed, n)
		}
	}
	for n := range prev {
		if _, ok := sums[n]; !ok {
			changed = append(changed, n)
		}
	}
	sort.Strings(changed)
	return changed
}

// record remembers the sums dir was built from.
func (h *contextHasher) record(dir string, sums map[string]string) {
	h.mu.Lock()
	h.built[dir] = sums
	h.mu.Unlock()
}

func (h *contextHasher) fileSum(p string, info fs.FileInfo) (string, error) {
	var ino uint64
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	h.mu.Lock()
	c, ok := h.files[p]
	h.mu.Unlock()
	if ok && c.size == info.Size() && c.mtime.Equal(info.ModTime()) && c.ino == ino {
		return c.sum, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	hash := sha256.New()
	if _, err := io.Copy(hash, f); err != nil {
		return "", err
	}
	sum := hex.EncodeToString(hash.Sum(nil))
	h.mu.Lock()
	h.files[p] = fileSum{size: info.Size(), mtime: info.ModTime(), ino: ino, sum: sum}
	h.mu.Unlock()
	return sum, nil
}

// readIgnore reads the ignore file a build of dockerfile in dir uses, as
// Docker does; nil when there is none.
func readIgnore(dir, dockerfile string) (*patternmatcher.PatternMatcher, error) {
	patterns, file, err := dockerignore.Read(dir, dockerfile)
	if err != nil || file == "" {
		return nil, err
	}
	return patternmatcher.New(patterns)
}

// contextReason words a build context change.
func contextReason(changed []string) string {
	if len(changed) == 0 {
		return "build context changed"
	}
	if len(changed) > 5 {
		changed = append(changed[:5:5], fmt.Sprintf("and %d more", len(changed)-5))
	}
	return "build context changed: " + strings.Join(changed, ", ")
}
