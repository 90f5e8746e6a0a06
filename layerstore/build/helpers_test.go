package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/layerstore"
)

// writeFiles creates files (and their parents) under dir; a value starting
// with "->" makes a symlink, a name ending in "/" a directory.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Remove(p)
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func openStore(t testing.TB) *layerstore.Store {
	t.Helper()
	s, err := layerstore.Open(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeRunner stands in for the container runtime: it records requests and
// lets a test write into the upper directory, as a real command would.
type fakeRunner struct {
	calls int
	reqs  []RunRequest
	fn    func(call int, r RunRequest) error
}

func (f *fakeRunner) Run(_ context.Context, r RunRequest) error {
	f.calls++
	f.reqs = append(f.reqs, r)
	if f.fn == nil {
		return nil
	}
	return f.fn(f.calls, r)
}

// exitError is what a runner returns for a non-zero exit.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit code %d", int(e)) }

type buildResult struct {
	img *layerstore.Image
	out string
	err error
}

func build(t testing.TB, s *layerstore.Store, ctxDir, dockerfile string, opts Options) buildResult {
	t.Helper()
	if dockerfile != "" {
		writeFiles(t, ctxDir, map[string]string{"Dockerfile": dockerfile})
	}
	var out bytes.Buffer
	opts.ContextDir = ctxDir
	opts.Progress = &out
	img, err := Build(context.Background(), s, opts)
	return buildResult{img: img, out: out.String(), err: err}
}

func mustBuild(t testing.TB, s *layerstore.Store, ctxDir, dockerfile string, opts Options) buildResult {
	t.Helper()
	r := build(t, s, ctxDir, dockerfile, opts)
	if r.err != nil {
		t.Fatalf("build: %v\noutput:\n%s", r.err, r.out)
	}
	return r
}

// imageTree is the merged filesystem of an image.
func imageTree(t testing.TB, s *layerstore.Store, img *layerstore.Image) tree {
	t.Helper()
	if len(img.Layers) == 0 {
		return emptyTree{}
	}
	dirs, err := s.LowerDirs(img)
	if err != nil {
		t.Fatal(err)
	}
	return newLayerTree(dirs)
}

// readImageFile returns the content of a file in an image ("" and false if absent).
func readImageFile(t testing.TB, s *layerstore.Store, img *layerstore.Image, p string) (string, bool) {
	t.Helper()
	n, err := imageTree(t, s, img).lookup(cleanRel(p))
	if err != nil {
		return "", false
	}
	b, err := os.ReadFile(n.host)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

func statImage(t testing.TB, s *layerstore.Store, img *layerstore.Image, p string) (node, bool) {
	t.Helper()
	n, err := imageTree(t, s, img).lookup(cleanRel(p))
	return n, err == nil
}

// snapshot lists every file of the store with a hash of its content, to
// prove that a build wrote nothing.
func snapshot(t testing.TB, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.Type().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			m[rel] = fmt.Sprintf("%x", h.Sum(nil))
		} else {
			m[rel] = d.Type().String()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func diffSnapshots(a, b map[string]string) []string {
	var d []string
	for k, v := range b {
		if a[k] != v {
			d = append(d, "changed or new: "+k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			d = append(d, "removed: "+k)
		}
	}
	sort.Strings(d)
	return d
}
