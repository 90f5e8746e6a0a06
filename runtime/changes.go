package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/overlaydiff"
)

// Change kinds, numbered as the Docker API numbers them.
const (
	ChangeModify = 0
	ChangeAdd    = 1
	ChangeDelete = 2
)

// Change is one path a container changed against its image (docker diff).
type Change struct {
	Path string // absolute, inside the container
	Kind int    // ChangeModify, ChangeAdd or ChangeDelete
}

// Changes lists what the container's layer changed against its image, in
// lexical order, parents first: each entry of the layer is added (no
// layer below has it), changed (one has) or deleted (a whiteout). An
// opaque directory (removed and made anew) also reports the deletion of
// what the image held directly in it. Nil means nothing changed.
func (r *Runtime) Changes(ctx context.Context, ref string) ([]Change, error) {
	c, err := r.Inspect(ref)
	if err != nil {
		return nil, err
	}
	lower, closeLower, err := openLowers(c.Spec.LowerDirs)
	if err != nil {
		return nil, fmt.Errorf("changes of container %s: %w", c.Name, err)
	}
	defer closeLower()
	upper := upperOf(c)
	var out []Change
	err = overlaydiff.Walk(ctx, upper, func(e overlaydiff.Entry) error {
		p := "/" + e.Name
		switch {
		case e.Whiteout:
			out = append(out, Change{Path: p, Kind: ChangeDelete})
			return nil
		case !existsBeneath(lower, e.Name):
			out = append(out, Change{Path: p, Kind: ChangeAdd})
			return nil
		}
		out = append(out, Change{Path: p, Kind: ChangeModify})
		if e.Opaque {
			gone, err := hiddenEntries(lower, e)
			if err != nil {
				return err
			}
			for _, name := range gone {
				out = append(out, Change{Path: path.Join(p, name), Kind: ChangeDelete})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("changes of container %s: %w", c.Name, err)
	}
	return out, nil
}

// openLowers opens the image's root file system (the layers merged, read
// only): the one layer itself, or a detached overlay of several.
func openLowers(lowerDirs []string) (int, func(), error) {
	var fd int
	var err error
	if len(lowerDirs) == 1 {
		fd, err = unix.Open(lowerDirs[0], unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	} else {
		fd, err = mountDetached(topFirst(lowerDirs), "", "", false)
	}
	if err != nil {
		return -1, nil, err
	}
	return fd, func() { unix.Close(fd) }, nil
}

// existsBeneath says whether name (relative, slash-separated) exists
// below root, without following any symlink on the way.
func existsBeneath(root int, name string) bool {
	dir, base := path.Split(name)
	if dir == "" {
		dir = "."
	}
	pfd, err := unix.Openat2(root, dir, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return false
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	return unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
}

// hiddenEntries lists what the image held directly in the opaque
// directory e that the container's layer no longer has.
func hiddenEntries(lower int, e overlaydiff.Entry) ([]string, error) {
	fd, err := unix.Openat2(lower, e.Name, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
		return nil, nil // a file or link became a directory: nothing below it
	}
	if err != nil {
		return nil, fmt.Errorf("%s in the image: %w", e.Name, err)
	}
	f := os.NewFile(uintptr(fd), e.Name)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("%s in the image: %w", e.Name, err)
	}
	var gone []string
	for _, n := range names {
		var st unix.Stat_t
		if unix.Lstat(filepath.Join(e.Path, n), &st) != nil {
			gone = append(gone, n)
		}
	}
	sort.Strings(gone)
	return gone, nil
}
