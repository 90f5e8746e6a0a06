package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/moby/patternmatcher"
	"golang.org/x/sys/unix"
)

// tree is a read-only view of a directory tree addressed by clean slash
// paths relative to its root ("" is the root). The build context and the
// stacked layers of an image are both trees, so COPY, COPY --from and the
// destination lookups share one code path.
type tree interface {
	// lookup finds p without following a symlink in its last element.
	// It returns an error satisfying errors.Is(err, fs.ErrNotExist) when p is
	// absent (or hidden by .dockerignore or a whiteout).
	lookup(p string) (node, error)
	// list returns the sorted names of the visible children of directory p.
	list(p string) ([]string, error)
}

// node is one entry of a tree: where its bytes live on the host and what it is.
type node struct {
	host string
	fi   fs.FileInfo
}

func notExist(p string) error {
	return &fs.PathError{Op: "lookup", Path: "/" + p, Err: fs.ErrNotExist}
}

// owner returns the numeric owner of an entry as stored on the host.
func (n node) owner() (uid, gid int) {
	if st, ok := n.fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return 0, 0
}

// cleanRel turns a user-given path into the tree form: slash separated,
// relative to the root, never escaping it ("../x" at the root is "x", as in
// Docker, where the context root is the top).
func cleanRel(p string) string {
	p = path.Clean("/" + filepath.ToSlash(p))
	return strings.TrimPrefix(p, "/")
}

// dirTree is the build context: a host directory filtered by .dockerignore.
type dirTree struct {
	root   string
	ignore *patternmatcher.PatternMatcher // nil: nothing ignored
}

func newDirTree(root string, patterns []string) (*dirTree, error) {
	t := &dirTree{root: root}
	if len(patterns) > 0 {
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			return nil, fmt.Errorf(".dockerignore: %w", err)
		}
		t.ignore = pm
	}
	return t, nil
}

func (t *dirTree) ignored(p string) bool {
	if t.ignore == nil || p == "" {
		return false
	}
	m, err := t.ignore.MatchesOrParentMatches(p)
	return err == nil && m
}

func (t *dirTree) lookup(p string) (node, error) {
	host := filepath.Join(t.root, filepath.FromSlash(p))
	fi, err := os.Lstat(host)
	if err != nil {
		return node{}, err
	}
	if t.ignored(p) && !(fi.IsDir() && t.hasIncluded(p)) {
		return node{}, notExist(p)
	}
	return node{host: host, fi: fi}, nil
}

// hasIncluded reports whether an ignored directory holds something that an
// exclusion pattern ("!keep/this") brings back, so it must still be walked.
func (t *dirTree) hasIncluded(dir string) bool {
	if !t.ignore.Exclusions() {
		return false
	}
	ents, err := os.ReadDir(filepath.Join(t.root, filepath.FromSlash(dir)))
	if err != nil {
		return false
	}
	for _, e := range ents {
		p := path.Join(dir, e.Name())
		if !t.ignored(p) || (e.IsDir() && t.hasIncluded(p)) {
			return true
		}
	}
	return false
}

func (t *dirTree) list(p string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(t.root, filepath.FromSlash(p)))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		c := path.Join(p, e.Name())
		if t.ignored(c) && !(e.IsDir() && t.hasIncluded(c)) {
			continue
		}
		names = append(names, e.Name())
	}
	return names, nil // os.ReadDir sorts by name
}

// layerTree is the merged view of an image's unpacked layer directories,
// with overlayfs semantics: upper layers hide lower ones, a whiteout (char
// device 0/0) removes a name, an opaque directory (trusted.overlay.opaque=y)
// hides everything below it. It lets COPY --from and destination lookups read
// an image without mounting it.
type layerTree struct {
	dirs []string // top layer first
}

// newLayerTree takes the layer directories base first, as Store.LowerDirs
// returns them.
func newLayerTree(baseFirst []string) *layerTree {
	dirs := make([]string, len(baseFirst))
	for i, d := range baseFirst {
		dirs[len(baseFirst)-1-i] = d
	}
	return &layerTree{dirs: dirs}
}

func isWhiteout(fi fs.FileInfo) bool {
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Rdev == 0
}

func isOpaque(host string) bool {
	buf := make([]byte, 1)
	n, err := unix.Lgetxattr(host, "trusted.overlay.opaque", buf)
	return err == nil && n == 1 && buf[0] == 'y'
}

// stack returns the host paths that make up p, top first: one entry for a
// non-directory, every contributing layer for a directory.
func (t *layerTree) stack(p string) ([]string, fs.FileInfo, error) {
	active := t.dirs
	if len(active) == 0 {
		return nil, nil, notExist(p)
	}
	var top fs.FileInfo
	if p == "" {
		fi, err := os.Lstat(active[0])
		return active, fi, err
	}
	elems := strings.Split(p, "/")
	for i, name := range elems {
		var next []string
		top = nil
		for _, d := range active {
			host := filepath.Join(d, name)
			fi, err := os.Lstat(host)
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if isWhiteout(fi) {
				break
			}
			if top == nil {
				top = fi
			}
			if !fi.IsDir() {
				if len(next) == 0 {
					next = append(next, host)
				}
				break
			}
			next = append(next, host)
			if isOpaque(host) {
				break
			}
		}
		if len(next) == 0 || (!top.IsDir() && i < len(elems)-1) {
			return nil, nil, notExist(p)
		}
		active = next
	}
	return active, top, nil
}

func (t *layerTree) lookup(p string) (node, error) {
	hosts, fi, err := t.stack(p)
	if err != nil {
		return node{}, err
	}
	return node{host: hosts[0], fi: fi}, nil
}

func (t *layerTree) list(p string) ([]string, error) {
	hosts, fi, err := t.stack(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: "/" + p, Err: syscall.ENOTDIR}
	}
	seen := map[string]bool{} // name -> visible
	for _, h := range hosts {
		ents, err := os.ReadDir(h)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if _, ok := seen[e.Name()]; ok {
				continue
			}
			visible := true
			if e.Type()&fs.ModeCharDevice != 0 {
				if info, err := e.Info(); err == nil && isWhiteout(info) {
					visible = false
				}
			}
			seen[e.Name()] = visible
		}
	}
	names := make([]string, 0, len(seen))
	for n, ok := range seen {
		if ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// emptyTree is the filesystem of FROM scratch.
type emptyTree struct{}

func (emptyTree) lookup(p string) (node, error)   { return node{}, notExist(p) }
func (emptyTree) list(p string) ([]string, error) { return nil, notExist(p) }

// maxLinkHops bounds symlink resolution, like the kernel's ELOOP limit.
const maxLinkHops = 40

// resolve follows symlinks in p inside t, as if t were the root directory
// (an absolute or ".." link cannot leave it). With followLast false a
// symlink in the last element is returned as is. On a missing element it
// returns the resolved path so far joined with the rest, and an error
// satisfying errors.Is(err, fs.ErrNotExist), so callers can create it.
func resolve(t tree, p string, followLast bool) (string, node, error) {
	todo := strings.Split(cleanRel(p), "/")
	if p = cleanRel(p); p == "" {
		n, err := t.lookup("")
		return "", n, err
	}
	cur := ""
	hops := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = cleanRel(path.Dir("/" + cur))
			continue
		}
		cand := path.Join(cur, name)
		n, err := t.lookup(cand)
		if err != nil {
			return path.Join(append([]string{cand}, todo...)...), node{}, err
		}
		if n.fi.Mode()&fs.ModeSymlink == 0 || (len(todo) == 0 && !followLast) {
			cur = cand
			if len(todo) == 0 {
				return cur, n, nil
			}
			continue
		}
		if hops++; hops > maxLinkHops {
			return "", node{}, &fs.PathError{Op: "resolve", Path: "/" + p, Err: syscall.ELOOP}
		}
		target, err := os.Readlink(n.host)
		if err != nil {
			return "", node{}, err
		}
		if strings.HasPrefix(target, "/") {
			cur = ""
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	n, err := t.lookup(cur)
	return cur, n, err
}
