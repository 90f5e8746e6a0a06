package build

import (
	"archive/tar"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
)

// copySpec is one COPY or ADD after variable expansion.
type copySpec struct {
	instr    string   // "COPY" or "ADD", for messages
	srcs     []string // as written, relative to the source tree
	inline   []inlineFile
	dest     string // absolute in the image (WORKDIR applied); a trailing "/" means a directory
	from     tree   // build context, or the filesystem of a stage or image
	fromCtx  bool   // sources are the build context: owned by root unless --chown
	fromName string // "build context" or "stage x", for messages
	chown    *owner // nil: keep the owner (root for the context)
	chmod    *fs.FileMode
	add      bool // ADD: local archives are extracted into dest
}

// inlineFile is a heredoc source (COPY <<EOF /dest).
type inlineFile struct {
	name string
	data string
}

type owner struct{ uid, gid int }

// entry is one member of the layer tar a COPY produces.
type entry struct {
	hdr     tar.Header
	host    string // regular file: read the content from here
	data    []byte // inline content
	archive string // ADD: extract this host archive under hdr.Name
}

// plan is the ordered, de-duplicated content of a COPY layer: parents before
// children, a later source replacing an earlier one at the same path.
type plan struct {
	entries []*entry
	index   map[string]int
}

func (p *plan) put(e *entry) {
	key := strings.TrimSuffix(e.hdr.Name, "/")
	if e.archive != "" {
		key = "\x00archive:" + key + fmt.Sprint(len(p.entries))
	}
	if i, ok := p.index[key]; ok {
		p.entries[i] = e
		return
	}
	p.index[key] = len(p.entries)
	p.entries = append(p.entries, e)
}

// epoch is the modification time of directories a COPY creates, so the
// same inputs always give the same layer bytes (and the same diff ID).
var epoch = time.Unix(0, 0).UTC()

func hasGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

func isURL(s string) bool {
	for _, p := range []string{"http://", "https://", "git@", "git://", "ssh://"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// planCopy works out the layer content of a COPY/ADD with Docker's rules:
// a directory source copies its contents; a destination ending in "/" or
// naming an existing directory receives sources by their base name; several
// sources need a directory destination; parents are created as needed.
// dst is the filesystem the layer goes on top of.
func planCopy(spec copySpec, dst tree) (*plan, error) {
	p := &plan{index: map[string]int{}}
	var srcs []string
	for _, s := range spec.srcs {
		if isURL(s) {
			return nil, fmt.Errorf("%s %s: remote sources are not supported: this builder has no network access; download the file into the build context and COPY it", spec.instr, s)
		}
		rel := cleanRel(s)
		if !hasGlob(rel) {
			srcs = append(srcs, rel)
			continue
		}
		m, err := glob(spec.from, rel)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", spec.instr, s, err)
		}
		srcs = append(srcs, m...)
	}
	if len(srcs) == 0 && len(spec.inline) == 0 {
		return nil, fmt.Errorf("%s: no source files were specified (the patterns %q match nothing in the %s)", spec.instr, spec.srcs, spec.fromName)
	}
	destDir := strings.HasSuffix(spec.dest, "/") || strings.HasSuffix(spec.dest, "/.") || spec.dest == "."
	if len(srcs)+len(spec.inline) > 1 && !destDir {
		return nil, fmt.Errorf("%s with more than one source file: the destination %q must be a directory and end with a /", spec.instr, spec.dest)
	}
	dest, dn, err := resolve(dst, spec.dest, true)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: destination %s: %w", spec.instr, spec.dest, err)
	}
	if err == nil && dn.fi.IsDir() {
		destDir = true
	}

	for _, src := range srcs {
		real, n, err := resolve(spec.from, src, true)
		if err != nil {
			return nil, fmt.Errorf("%s %s: file not found in the %s (or excluded by .dockerignore)", spec.instr, "/"+src, spec.fromName)
		}
		switch {
		case n.fi.IsDir():
			if err := addParents(p, spec, dst, dest); err != nil {
				return nil, err
			}
			if err := addDirRoot(p, spec, dst, dest, n); err != nil {
				return nil, err
			}
			// Walk the resolved path: a symlinked source directory is read
			// where it points inside the tree, never on the host.
			if err := copyTree(p, spec, real, dest); err != nil {
				return nil, err
			}
		case spec.add && isArchive(n.host):
			if err := addParents(p, spec, dst, dest); err != nil {
				return nil, err
			}
			if err := addDirRoot(p, spec, dst, dest, node{}); err != nil {
				return nil, err
			}
			p.put(&entry{hdr: tar.Header{Name: dest}, archive: n.host})
		default:
			target := dest
			if destDir {
				target = path.Join(dest, path.Base(src))
			}
			if err := addParents(p, spec, dst, path.Dir(target)); err != nil {
				return nil, err
			}
			if e := spec.entryFor(target, n); e != nil {
				p.put(e)
			}
		}
	}
	for _, f := range spec.inline {
		target := dest
		if destDir {
			target = path.Join(dest, f.name)
		}
		if err := addParents(p, spec, dst, path.Dir(target)); err != nil {
			return nil, err
		}
		hdr := tar.Header{Typeflag: tar.TypeReg, Name: target, Mode: 0o644, Size: int64(len(f.data)), ModTime: epoch}
		spec.own(&hdr, nil, true)
		p.put(&entry{hdr: hdr, data: []byte(f.data)})
	}
	return p, nil
}

// addParents adds every directory from the root down to dir (inclusive).
// Existing ones keep the metadata they have in the image: the new layer
// must carry them (as overlayfs copy-up does), and it must not change them.
func addParents(p *plan, spec copySpec, dst tree, dir string) error {
	dir = cleanRel(dir)
	if dir == "" {
		return nil
	}
	elems := strings.Split(dir, "/")
	for i := range elems {
		name := strings.Join(elems[:i+1], "/")
		if _, ok := p.index[name]; ok {
			continue
		}
		n, err := dst.lookup(name)
		switch {
		case err == nil && n.fi.IsDir():
			p.put(existingDir(name, n))
		case err == nil || errors.Is(err, fs.ErrNotExist):
			// A missing directory (or a file in the way, which the
			// directory replaces, as Docker does) is created.
			hdr := tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: epoch}
			spec.own(&hdr, nil, false)
			p.put(&entry{hdr: hdr})
		default:
			return fmt.Errorf("%s: destination /%s: %w", spec.instr, name, err)
		}
	}
	return nil
}

func existingDir(name string, n node) *entry {
	uid, gid := n.owner()
	return &entry{hdr: tar.Header{
		Typeflag: tar.TypeDir, Name: name + "/", Mode: tarMode(n.fi.Mode()),
		Uid: uid, Gid: gid, ModTime: n.fi.ModTime().Truncate(time.Second),
	}}
}

// addDirRoot sets the metadata of the destination directory a directory
// source is copied into: kept if it exists, else taken from the source
// directory (src zero: 0755) and owned by --chown or root.
func addDirRoot(p *plan, spec copySpec, dst tree, dest string, src node) error {
	if dest == "" {
		return nil
	}
	if n, err := dst.lookup(dest); err == nil && n.fi.IsDir() {
		p.put(existingDir(dest, n))
		return nil
	}
	hdr := tar.Header{Typeflag: tar.TypeDir, Name: dest + "/", Mode: 0o755, ModTime: epoch}
	if src.fi != nil {
		hdr.Mode = tarMode(src.fi.Mode())
		hdr.ModTime = src.fi.ModTime().Truncate(time.Second)
	}
	spec.own(&hdr, nil, true)
	p.put(&entry{hdr: hdr})
	return nil
}

// copyTree adds the contents of directory src (in spec.from) under dest.
func copyTree(p *plan, spec copySpec, src, dest string) error {
	names, err := spec.from.list(src)
	if err != nil {
		return fmt.Errorf("%s %s: %w", spec.instr, "/"+src, err)
	}
	for _, name := range names {
		s := path.Join(src, name)
		n, err := spec.from.lookup(s)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", spec.instr, "/"+s, err)
		}
		d := path.Join(dest, name)
		if e := spec.entryFor(d, n); e != nil {
			p.put(e)
		}
		if n.fi.IsDir() {
			if err := copyTree(p, spec, s, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// entryFor describes source n copied to target. Sockets and device nodes are
// skipped, as Docker's copier does.
func (spec copySpec) entryFor(target string, n node) *entry {
	mode := n.fi.Mode()
	hdr := tar.Header{Name: target, Mode: tarMode(mode), ModTime: n.fi.ModTime().Truncate(time.Second)}
	e := &entry{}
	switch {
	case mode.IsRegular():
		hdr.Typeflag, hdr.Size, e.host = tar.TypeReg, n.fi.Size(), n.host
	case mode.IsDir():
		hdr.Typeflag, hdr.Name = tar.TypeDir, target+"/"
	case mode&fs.ModeSymlink != 0:
		link, err := os.Readlink(n.host)
		if err != nil {
			return nil
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, link
	case mode&fs.ModeNamedPipe != 0:
		hdr.Typeflag = tar.TypeFifo
	default:
		return nil
	}
	spec.own(&hdr, &n, true)
	e.hdr = hdr
	return e
}

// own applies --chown (else root for the context, else the source's owner)
// and, if chmod, --chmod (never to symlinks) to hdr. Parent directories a
// COPY creates get the owner but not the mode.
func (spec copySpec) own(hdr *tar.Header, src *node, chmod bool) {
	switch {
	case spec.chown != nil:
		hdr.Uid, hdr.Gid = spec.chown.uid, spec.chown.gid
	case src != nil && !spec.fromCtx:
		hdr.Uid, hdr.Gid = src.owner()
	default:
		hdr.Uid, hdr.Gid = 0, 0
	}
	if chmod && spec.chmod != nil && hdr.Typeflag != tar.TypeSymlink {
		hdr.Mode = int64(*spec.chmod)
	}
}

// tarMode converts Go file mode bits to the tar (Unix) permission bits.
func tarMode(m fs.FileMode) int64 {
	v := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}

// glob expands a pattern element by element (path.Match rules: "*" does not
// cross "/"), returning matches in sorted order.
func glob(t tree, pattern string) ([]string, error) {
	matches := []string{""}
	for _, elem := range strings.Split(pattern, "/") {
		var next []string
		for _, dir := range matches {
			if !hasGlob(elem) {
				p := path.Join(dir, elem)
				if _, err := t.lookup(p); err == nil {
					next = append(next, p)
				}
				continue
			}
			if _, err := path.Match(elem, ""); err != nil {
				return nil, err
			}
			real, _, err := resolve(t, dir, true) // list a symlinked dir inside t
			if err != nil {
				continue
			}
			names, err := t.list(real)
			if err != nil {
				continue
			}
			for _, name := range names {
				if ok, _ := path.Match(elem, name); ok {
					next = append(next, path.Join(dir, name))
				}
			}
		}
		matches = next
	}
	return matches, nil
}
