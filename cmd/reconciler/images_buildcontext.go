package main

import (
	"archive/tar"
	"bufio"
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
	"github.com/reconciler/reconciler/internal/dockerignore"
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

// readDockerignore reads the ignore file the build uses (see package
// internal/dockerignore); the Dockerfile and the ignore file itself are
// always sent (the engine reads them), as with docker.
func readDockerignore(dir, dockerfile string, added bool) (*patternmatcher.PatternMatcher, error) {
	patterns, file, err := dockerignore.Read(dir, dockerfile)
	if err != nil || len(patterns) == 0 {
		return nil, err
	}
	if rel, err := filepath.Rel(dir, file); err == nil {
		rel = filepath.ToSlash(rel)
		if m, _ := patternmatcher.MatchesOrParentMatches(rel, patterns); m {
			patterns = append(patterns, "!"+rel)
		}
	}
	if m, _ := patternmatcher.MatchesOrParentMatches(dockerfile, patterns); m && !added {
		patterns = append(patterns, "!"+dockerfile)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
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
	if bc.dir == "" { // a Dockerfile alone, from stdin
		return bc.writeExtra(tw)
	}
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
	return bc.writeExtra(tw)
}

// writeExtra adds the Dockerfile that is not a file of the context, if
// any, and ends the archive.
func (bc *buildContext) writeExtra(tw *tar.Writer) error {
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

// stdinBuildContext is `build -`: stdin is either the context as an
// archive (tar, gzip or bzip2: sent as it is, the Dockerfile named by -f
// inside it) or a Dockerfile alone, built with an empty context.
func stdinBuildContext(in io.Reader, dockerfile string) (io.ReadCloser, string, error) {
	br := bufio.NewReaderSize(in, 1024)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, "", fmt.Errorf("reading the build context from stdin: %w", err)
	}
	isArchive := bytes.HasPrefix(head, []byte{0x1f, 0x8b}) || bytes.HasPrefix(head, []byte("BZh")) ||
		len(head) >= 262 && string(head[257:262]) == "ustar"
	if isArchive {
		if dockerfile == "" {
			dockerfile = "Dockerfile"
		}
		return io.NopCloser(br), dockerfile, nil
	}
	if dockerfile != "" {
		return nil, "", fmt.Errorf("-f %s: a Dockerfile read from stdin (build -) cannot be given a name; send a tar of the context to name a Dockerfile in it", dockerfile)
	}
	content, err := io.ReadAll(br)
	if err != nil {
		return nil, "", fmt.Errorf("reading the Dockerfile from stdin: %w", err)
	}
	bc := &buildContext{dockerfile: "Dockerfile", extra: content}
	return bc.Tar(), bc.dockerfile, nil
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
