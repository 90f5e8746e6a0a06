// Package atomicfile replaces files so that a reader, or a crash, sees the
// old content or the new, never a mix: the new content goes to a temporary
// file, which is synced and renamed over the target, and the folder is
// synced so the rename itself survives a crash. Every state file of the
// state root is written this way.
package atomicfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/reconciler/reconciler/internal/plainfile"
)

// TempPrefix starts the name of every temporary file this package
// creates, so an owner of a folder can recognise (and remove) the leftovers
// of a crash.
const TempPrefix = ".tmp-"

// File is the pending new content of a file: write it, then Commit to put
// it in place, or Abort to drop it. Abort after Commit does nothing, so
// `defer f.Abort()` right after Create covers every error path.
type File struct {
	*os.File
	path   string
	done   bool
	synced bool // by Sync, after the last write
}

// Create starts replacing path with a file of mode perm; its temporary file
// sits beside path.
func Create(path string, perm os.FileMode) (*File, error) {
	return CreateIn(filepath.Dir(path), path, perm)
}

// CreateIn is Create with the temporary file in tmpDir, which must be on
// path's file system (a store keeping its temporary files in one folder).
func CreateIn(tmpDir, path string, perm os.FileMode) (*File, error) {
	f, err := plainfile.CreateTemp(tmpDir, TempPrefix+filepath.Base(path)+"-")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	// The mode is set before any content is written: a key is never
	// readable by others, not even for a moment.
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &File{File: f, path: path}, nil
}

// Commit syncs the content, renames it over the target and syncs the
// target's folder.
func (f *File) Commit() error {
	if err := f.put(); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(f.path))
}

// CommitVolatile is Commit without the folder's sync: the content is
// synced before the rename, so the target never holds a mix, but after a
// crash the rename may be undone and the previous content back. For state
// that a crash makes stale anyway, rewritten often (a running container's
// state, like Docker's and runc's), it spares a second sync per write.
func (f *File) CommitVolatile() error {
	return f.put()
}

// CommitVolatileKeepingOld is CommitVolatile that does not delete the
// previous content on the way: a link keeps it aside (under TempPrefix)
// through the rename, and deleting it is left to the returned func, to
// run off the caller's path. Deleting a file frees its blocks, which on a
// file system mounted with discard waits for the disk: 0.1 ms measured
// here, idle, and more behind other writes. A crash before the func runs
// leaves the old content aside.
func (f *File) CommitVolatileKeepingOld() (deleteOld func(), err error) {
	aside := f.Name() + "-old"
	if f.done || os.Link(f.path, aside) != nil {
		aside = ""
	}
	err = f.put()
	if aside == "" {
		return func() {}, err
	}
	if err != nil {
		os.Remove(aside)
		return func() {}, err
	}
	return func() { os.Remove(aside) }, nil
}

// Sync writes the content to disk ahead of the commit (while the caller
// waits for something else, say), which then only renames. It must come
// after the last write.
func (f *File) Sync() error {
	if err := f.File.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", f.path, err)
	}
	f.synced = true
	return nil
}

// put syncs the content (unless Sync did) and renames it over the target.
func (f *File) put() error {
	if f.done {
		return fmt.Errorf("write %s: already committed or aborted", f.path)
	}
	f.done = true
	tmp := f.Name()
	var err error
	if !f.synced {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", f.path, cerr)
	}
	if err == nil {
		if rerr := os.Rename(tmp, f.path); rerr != nil {
			err = fmt.Errorf("write %s: %w", f.path, rerr)
		}
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Abort drops the pending content and leaves the target as it was.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// WriteFile replaces path with data, like os.WriteFile but atomically and
// durably.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return WriteFrom(path, bytes.NewReader(data), perm)
}

// WriteFrom replaces path with all of r (an archive being streamed, say);
// if r fails, path is left as it was.
func WriteFrom(path string, r io.Reader, perm os.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := io.Copy(f, r); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// SyncDir makes a creation, removal or rename inside dir durable.
func SyncDir(dir string) error {
	d, err := plainfile.Open(dir, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
