package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBuildCLI(t *testing.T) {
	root, ctx := t.TempDir(), t.TempDir()
	files := map[string]string{
		"Dockerfile":     "FROM scratch\nARG GREETING\nCOPY hello.txt /\nENV GREETING=$GREETING\n",
		"alt/Dockerfile": "FROM scratch\nRUN true\n",
		"hello.txt":      "hi",
	}
	for name, content := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(ctx, name)), 0o755)
		if err := os.WriteFile(filepath.Join(ctx, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errs, code := runOnRoot(root, "", "build", "-t", "hello:1", "--build-arg", "GREETING=hey", "--build-arg", "UNUSED=1", ctx)
	if code != 0 {
		t.Fatalf("build: exit %d: %s%s", code, out, errs)
	}
	for _, want := range []string{"Step 1/4 : FROM scratch\n", "Step 3/4 : COPY hello.txt /\n", "Successfully tagged hello:1\n", "[Warning] One or more build-args [UNUSED] were not consumed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runOnRoot(root, "", "build", "-t", "hello:1", "--build-arg", "GREETING=hey", ctx)
	if code != 0 || strings.Count(out, "Using cache") != 3 {
		t.Errorf("rebuild: exit %d, want 3 cache hits:\n%s", code, out)
	}
	// RUN runs in a container: a missing program fails naming the line; -f is relative to the current directory.
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(ctx)
	_, errs, code = runOnRoot(root, "", "build", "-f", "alt/Dockerfile", ".")
	if code != 1 || !strings.Contains(errs, "alt/Dockerfile:2: RUN true") {
		t.Errorf("RUN of a program the image lacks: exit %d: %s", code, errs)
	}
	out, errs, code = runOnRoot(root, "FROM hello:1\nENV B=2\n", "build", "-q", "-f", "-", ".")
	if code != 0 || !strings.HasPrefix(out, "sha256:") || strings.Count(out, "\n") != 1 {
		t.Errorf("-q -f -: exit %d: %q %s", code, out, errs)
	}
	// build -: a Dockerfile alone or a tar of the context on stdin.
	out, errs, code = runOnRoot(root, "FROM hello:1\nENV C=3\n", "build", "-q", "-")
	if code != 0 || !strings.HasPrefix(out, "sha256:") || strings.Count(out, "\n") != 1 {
		t.Errorf("build - with a Dockerfile: exit %d: %q %s", code, out, errs)
	}
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	for name, content := range map[string]string{"Dockerfile": "FROM scratch\nCOPY hello.txt /\n", "hello.txt": "hi"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content))})
		tw.Write([]byte(content))
	}
	tw.Close()
	out, errs, code = runOnRoot(root, ctxTar.String(), "build", "-t", "fromtar:1", "-")
	if code != 0 || !strings.Contains(out, "Step 2/2 : COPY hello.txt /") || !strings.Contains(out, "Successfully tagged fromtar:1") {
		t.Errorf("build - with a tar context: exit %d: %q %s", code, out, errs)
	}
	if _, errs, code = runOnRoot(root, "", "build", "-f", "-", "-"); code != 2 || !strings.Contains(errs, "stdin for both") {
		t.Errorf("stdin for both context and Dockerfile: exit %d: %s", code, errs)
	}
	if _, errs, code = runOnRoot(root, "", "build"); code != 2 || !strings.Contains(errs, "requires exactly 1 argument") {
		t.Errorf("no context: exit %d: %s", code, errs)
	}
}

// TestBuildContextTar: the context is sent filtered by .dockerignore, as
// docker sends it (the Dockerfile and .dockerignore always go, files are
// root's), and a Dockerfile from outside the context is added to it.
func TestBuildContextTar(t *testing.T) {
	ctx := t.TempDir()
	files := map[string]string{
		"Dockerfile": "FROM scratch\n", ".dockerignore": "*.log\nsecret/\n!secret/public.txt\nDockerfile\n.dockerignore\n",
		"a.log": "x", "keep.txt": "k", "secret/key": "s", "secret/public.txt": "p", "sub/deep/b.log": "x",
	}
	for name, content := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(ctx, name)), 0o755)
		if err := os.WriteFile(filepath.Join(ctx, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("../keep.txt", filepath.Join(ctx, "sub", "link"))
	os.Chown(filepath.Join(ctx, "keep.txt"), 1234, 1234)

	bc, err := newBuildContext(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := tarEntries(t, bc)
	want := map[string]string{"Dockerfile": "FROM scratch\n", ".dockerignore": files[".dockerignore"], "keep.txt": "k",
		"secret/public.txt": "p", "sub/": "", "sub/deep/": "", "sub/link": "-> ../keep.txt",
		"sub/deep/b.log": "x"} // "*.log" is of the context's top folder only, as with docker
	if !reflect.DeepEqual(got, want) || bc.dockerfile != "Dockerfile" {
		t.Errorf("context %q sent:\n%v\nwant:\n%v", bc.dockerfile, got, want)
	}

	outside := filepath.Join(t.TempDir(), "Other.Dockerfile")
	os.WriteFile(outside, []byte("FROM scratch\nENV A=1\n"), 0o644)
	bc, err = newBuildContext(ctx, outside, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := tarEntries(t, bc); !strings.HasPrefix(bc.dockerfile, ".dockerfile.") || got[bc.dockerfile] != "FROM scratch\nENV A=1\n" {
		t.Errorf("outside Dockerfile sent as %q: %v", bc.dockerfile, got)
	}
	// A Dockerfile's own ignore file wins over the context's, as the
	// builder reads it: what only .dockerignore excludes is sent, and the
	// ignore file itself goes too.
	os.WriteFile(filepath.Join(ctx, "app.Dockerfile"), []byte("FROM scratch\n"), 0o644)
	os.WriteFile(filepath.Join(ctx, "app.Dockerfile.dockerignore"), []byte("keep.txt\napp.Dockerfile.dockerignore\n"), 0o644)
	bc, err = newBuildContext(ctx, filepath.Join(ctx, "app.Dockerfile"), nil)
	if err != nil {
		t.Fatal(err)
	}
	got = tarEntries(t, bc)
	for name, sent := range map[string]bool{"a.log": true, "secret/key": true, "keep.txt": false, "app.Dockerfile.dockerignore": true} {
		if _, ok := got[name]; ok != sent {
			t.Errorf("with app.Dockerfile.dockerignore, %s sent: %v, want %v", name, ok, sent)
		}
	}
	if _, err := newBuildContext(filepath.Join(ctx, "keep.txt"), "", nil); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as context: %v", err)
	}
}

// tarEntries reads the context's tar: name to content ("-> target" for
// symlinks), failing on entries not owned by root.
func tarEntries(t *testing.T, bc *buildContext) map[string]string {
	t.Helper()
	r := bc.Tar()
	defer r.Close()
	tr := tar.NewReader(r)
	got := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s owned by %d:%d, want root", h.Name, h.Uid, h.Gid)
		}
		b, _ := io.ReadAll(tr)
		got[h.Name] = string(b)
		if h.Typeflag == tar.TypeSymlink {
			got[h.Name] = "-> " + h.Linkname
		}
	}
}
