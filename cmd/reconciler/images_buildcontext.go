package main

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// buildContext is what build sends: the context folder as a tar stream,
// filtered by its .dockerignore as the docker CLI does (the engine then
// sees the same files the user meant to send, and no more), and the
// Dockerfile's name inside it.
type buildContext struct {
	dir        string
	dockerfile string // name inside the tar
	extra      []byte // a Dockerfile from stdin or outside dir, added under dockerfile
	excludes   *patternmatcher.PatternMatcher
}

// newBuildContext prepares the context dir for a build with the Dockerfile
// given by -f: "" (dir's Dockerfile), "-" (stdin's content, in dfStdin),
// or a path relative to the current directory, in dir or not.
func newBuildContext(dir, dockerfile string, dfStdin []byte) (*buildContext, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("unable to prepare context: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("unable to prepare context: %s is not a directory", dir)
	}
	bc := &buildContext{dir: abs, dockerfile: "Dockerfile"}
	switch dockerfile {
	case "":
	case "-":
		bc.dockerfile, bc.extra = randomDockerfileName(), dfStdin
	default:
		df, err := filepath.Abs(dockerfile)
		if err != nil {
			return nil, err
		}
		if rel, err := filepath.Rel(abs, df); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			bc.dockerfile = filepath.ToSlash(rel)
			break
		}
		content, err := os.ReadFile(df)
		if err != nil {
			return nil, fmt.Errorf("unable to read the Dockerfile: %w", err)
		}
		bc.dockerfile, bc.extra = randomDockerfileName(), content
	}
	if bc.excludes, err = readDockerignore(abs, bc.dockerfile, bc.extra != nil); err != nil {
		return nil, err
	}
	return bc, nil
}

// randomDockerfileName names a Dockerfile added to the context, as docker
// names it, so it cannot clash with the context's own files.
func randomDockerfileName() string {
	b := make([]byte, 10)
	rand.Read(b)
	return ".dockerfile." + hex.EncodeToString(b)
}

// readDockerignore reads dir/.dockerignore; the Dockerfile and the
// .dockerignore itself are always sent (the engine reads them), as with
// docker.
func readDockerignore(dir, dockerfile string, added bool) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	if m, _ := patternmatcher.MatchesOrParentMatches(".dockerignore", patterns); m {
		patterns = append(patterns, "!.dockerignore")
	}
	if m, _ := patternmatcher.MatchesOrParentMatches(dockerfile, patterns); m && !added {
		patterns = append(patterns, "!"+dockerfile)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return pm, nil
}

// Tar streams the context. Files are owned by root in the archive, as
// docker sends them; sockets and device nodes are left out.
func (bc *buildContext) Tar() io.ReadCloser {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(bc.write(pw)) }()
	return pr
}

func (bc *buildContext) write(w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(bc.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(bc.dir, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if bc.excludes != nil {
			skip, err := bc.excludes.MatchesOrParentMatches(rel)
			if err != nil {
				return err
			}
			if skip {
				if d.IsDir() && !bc.excludes.Exclusions() {
					return filepath.SkipDir
				}
				return nil // a later !pattern may take back a file inside
			}
		}
		return addToTar(tw, path, rel, d)
	})
	if err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	if bc.extra != nil {
		h := &tar.Header{Name: bc.dockerfile, Mode: 0o600, Size: int64(len(bc.extra)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, bytes.NewReader(bc.extra)); err != nil {
			return err
		}
	}
	return tw.Close()
}

func addToTar(tw *tar.Writer, path, rel string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	link := ""
	switch {
	case info.Mode()&os.ModeSymlink != 0:
		if link, err = os.Readlink(path); err != nil {
			return err
		}
	case info.Mode()&(os.ModeSocket|os.ModeDevice|os.ModeNamedPipe|os.ModeCharDevice|os.ModeIrregular) != 0:
		return nil
	}
	h, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	h.Name = rel
	if info.IsDir() {
		h.Name += "/"
	}
	h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
	h.AccessTime, h.ChangeTime = time.Time{}, time.Time{} // as docker: only the mtime travels
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyN(tw, f, h.Size)
	return err
}
