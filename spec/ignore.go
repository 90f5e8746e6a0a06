package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// IgnoreFile names the file, at the top of a folder of manifests, whose
// patterns (.dockerignore syntax, relative to that folder) say which files
// and subfolders are not manifests: examples of errors, drafts, a vendored
// chart. Folder reads (-f DIR -R) and the watcher both honour it.
const IgnoreFile = ".reconcilerignore"

// Ignore matches paths under one folder against its IgnoreFile.
type Ignore struct {
	dir string
	pm  *patternmatcher.PatternMatcher
}

// LoadIgnore reads dir's IgnoreFile; a folder without one ignores nothing.
func LoadIgnore(dir string) (*Ignore, error) {
	f, err := os.Open(filepath.Join(dir, IgnoreFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &Ignore{dir: dir}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, IgnoreFile), err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, IgnoreFile), err)
	}
	return &Ignore{dir: dir, pm: pm}, nil
}

// Ignored reports whether path (under the folder) is excluded.
func (ig *Ignore) Ignored(path string) bool {
	if ig == nil || ig.pm == nil {
		return false
	}
	rel, err := filepath.Rel(ig.dir, path)
	if err != nil || rel == "." {
		return false
	}
	ok, _ := ig.pm.MatchesOrParentMatches(filepath.ToSlash(rel))
	return ok
}
