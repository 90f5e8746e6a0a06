// Package overlaydiff walks an overlayfs upper directory (a container
// layer) and says what each entry means: a whiteout (a 0/0 character
// device: the path was deleted), an opaque directory
// (trusted.overlay.opaque=y: it hides what the layers below held there)
// or a plain entry (added or changed). Commit's layer tar
// (layerstore.DiffDir) and `docker diff` (runtime.Changes) both read a
// container layer through this one walk, so they can never disagree on
// what a container changed.
package overlaydiff

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// OpaqueXattr marks an overlayfs directory that hides the lower layers'
// contents.
const OpaqueXattr = "trusted.overlay.opaque"

// Entry is one entry of an upper directory.
type Entry struct {
	Name string // slash-separated, relative to the upper dir ("etc/hosts")
	Path string // host path of the entry
	Stat unix.Stat_t
	// Whiteout: Name was deleted from the layers below.
	Whiteout bool
	// Opaque: a directory made anew; nothing of the lower layers shows
	// through it.
	Opaque bool
}

// IsDir says whether the entry is a directory.
func (e *Entry) IsDir() bool { return e.Stat.Mode&unix.S_IFMT == unix.S_IFDIR }

// Walk calls fn for every entry below upperDir (not upperDir itself), in
// lexical order, parents before children. Symlinks are not followed.
func Walk(ctx context.Context, upperDir string, fn func(Entry) error) error {
	return filepath.WalkDir(upperDir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(upperDir, p)
		if err != nil || rel == "." {
			return err
		}
		e := Entry{Name: filepath.ToSlash(rel), Path: p}
		if err := unix.Lstat(p, &e.Stat); err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		switch e.Stat.Mode & unix.S_IFMT {
		case unix.S_IFCHR:
			e.Whiteout = e.Stat.Rdev == 0
		case unix.S_IFDIR:
			if e.Opaque, err = isOpaque(p); err != nil {
				return fmt.Errorf("%s: %w", e.Name, err)
			}
		}
		return fn(e)
	})
}

func isOpaque(dir string) (bool, error) {
	var v [1]byte
	n, err := unix.Lgetxattr(dir, OpaqueXattr, v[:])
	if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.ERANGE) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", OpaqueXattr, err)
	}
	return n == 1 && v[0] == 'y', nil
}
