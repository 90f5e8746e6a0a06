// Package source feeds the controller from manifest files: a one-shot
// load of files and folders, and a Watcher that follows a folder tree so
// that a file dropped in is applied, an edit is rolled out and a removed
// file's objects are pruned (kubelet static pods, GitOps checkouts).
//
// Each manifest file is one source: its objects replace, as a whole, what
// it declared before. A file that fails to parse is reported and its last
// good objects are kept, so a typo never deletes anything.
package source

import (
	"io"
	"os"
	"path/filepath"

	"github.com/reconciler/reconciler/spec"
)

// Sink receives the objects of one source file; an empty list withdraws
// the file. reconcile.Controller is a Sink.
type Sink interface {
	SetObjects(source string, objs []spec.Object)
}

// Files expands paths (files, folders — with recursive, their subfolders
// — and "-" for stdin) into absolute manifest file paths, so that the
// io.reconciler.source labels name the same file whichever folder the
// command ran from, and loads them. It returns the objects, the files
// read (each one a source, including files that declare nothing) and
// every error found.
func Files(paths []string, recursive bool, stdin io.Reader) ([]spec.Object, []string, error) {
	abs := make([]string, len(paths))
	for i, p := range paths {
		abs[i] = Abs(p)
	}
	files, errs := spec.ExpandPaths(abs, recursive)
	if len(errs) > 0 {
		return nil, files, errs
	}
	if stdin == nil {
		stdin = os.Stdin
	}
	objs, err := spec.Load(files, false, stdin)
	return objs, files, err
}

// Abs makes a path absolute, leaving "-" (stdin) alone.
func Abs(p string) string {
	if p == "-" {
		return p
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// Under reports whether file lies inside dir (both absolute and clean):
// the pruning scope of a watched or applied folder.
func Under(dir, file string) bool {
	rel, err := filepath.Rel(dir, file)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (len(rel) < 3 || rel[:3] != "../")
}
