package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadErrors runs Load in dir and returns its errors with dir cut off.
func loadErrors(t *testing.T, dir string, paths ...string) []string {
	t.Helper()
	t.Chdir(dir)
	_, err := Load(paths, true, strings.NewReader(""))
	if err == nil {
		return nil
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %v is not an ErrorList", err)
	}
	return strings.Split(list.Error(), "\n")
}

const hdr = "apiVersion: reconciler/v1\n"

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"duplicate across files names both", map[string]string{
			"a.yaml": hdr + "kind: Volume\nmetadata: {name: data}\n",
			"b.yaml": hdr + "kind: Volume\nmetadata: {name: x}\n---\n" + hdr + "kind: Volume\nmetadata:\n  name: data\n",
		}, []string{"b.yaml: document 2 (line 8): metadata.name: volume/data on local is already declared at a.yaml: document 1 (line 1)"}},
		{"same name on another host is fine", map[string]string{
			"a.yaml": hdr + "kind: Volume\nmetadata: {name: data}\n---\n" + hdr + "kind: Volume\nmetadata: {name: data}\nspec: {host: edge}\n---\n" +
				hdr + "kind: Host\nmetadata: {name: edge}\nspec: {address: 'tcp://10.0.0.1:2375'}\n",
		}, nil},
		{"undeclared host, volume and image", map[string]string{
			"a.yaml": hdr + "kind: Image\nmetadata: {name: web}\nspec: {tag: 'web:1', pull: {ref: 'docker.io/library/web:1'}}\n---\n" +
				hdr + "kind: Container\nmetadata: {name: c}\nspec:\n  host: edge\n  image: web:2\n  volumes: [{name: data, mountPath: /d}]\n---\n" +
				hdr + "kind: Container\nmetadata: {name: d}\nspec:\n  image: wbe:1\n",
		}, []string{
			`a.yaml: document 2 (line 10): spec.host: host "edge" is not declared: add a Host object named edge, or use local`,
			`a.yaml: document 2 (line 11): spec.image: "web:2" is not the tag of an Image on host edge: declare an Image with that tag, or write the full registry reference, like docker.io/library/web:2`,
			`a.yaml: document 2 (line 12): spec.volumes[0].name: volume "data" is not declared on host edge: add a Volume named data with host edge`,
			`a.yaml: document 3 (line 18): spec.image: "wbe:1" is not the tag of an Image on host local (did you mean web:1?): declare an Image with that tag, or write the full registry reference, like docker.io/library/wbe:1`,
		}},
		{"explicit references need no Image", map[string]string{
			"a.yaml": hdr + "kind: Container\nmetadata: {name: a}\nspec: {image: 'docker.io/library/busybox:1.36'}\n---\n" +
				hdr + "kind: Container\nmetadata: {name: b}\nspec: {image: 'localhost:5000/app'}\n---\n" +
				hdr + "kind: Container\nmetadata: {name: c}\nspec: {image: 'app@sha256:" + strings.Repeat("a", 64) + "'}\n",
		}, nil},
		{"image tag matches without :latest", map[string]string{
			"a.yaml": hdr + "kind: Image\nmetadata: {name: web}\nspec: {tag: web, import: {path: web.tar}}\n---\n" +
				hdr + "kind: Container\nmetadata: {name: a}\nspec: {image: 'web:latest'}\n",
		}, nil},
		{"one tag, two Images", map[string]string{
			"a.yaml": hdr + "kind: Image\nmetadata: {name: a}\nspec: {tag: 'web:1', import: {path: a.tar}}\n",
			"b.yaml": hdr + "kind: Image\nmetadata: {name: b}\nspec: {tag: 'web:1', import: {path: b.tar}}\n",
		}, []string{"b.yaml: document 1 (line 4): spec.tag: web:1 is already the tag of image/a on local, declared at a.yaml: document 1 (line 1)"}},
		{"an invalid declaration is not also reported missing", map[string]string{
			"a.yaml": hdr + "kind: Volume\nmetadata: {name: data}\nspec: {reclaimPolicy: Keep}\n",
			"b.yaml": hdr + "kind: Container\nmetadata: {name: c}\nspec:\n  image: docker.io/library/x:1\n  volumes: [{name: data, mountPath: /d}]\n",
		}, []string{`a.yaml: document 1 (line 4): spec.reclaimPolicy: "Keep" is not one of Retain, Delete`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			got := loadErrors(t, dir, ".")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorListFor(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.yaml": hdr + "kind: Volume\nmetadata: {name: A}\n",
		"b.yaml": hdr + "kind: Container\nmetadata: {name: c}\nspec: {image: 'x:1'}\n",
		"c.yaml": hdr + "kind: Volume\nmetadata: {name: c}\n",
	})
	t.Chdir(dir)
	objs, err := Load([]string{"."}, false, nil)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("err = %v", err)
	}
	if diff := cmp.Diff([]string{"a.yaml", "b.yaml"}, list.Files()); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	if got := list.For("b.yaml"); len(got) != 1 || got[0].Field != "spec.image" {
		t.Errorf("For(b.yaml) = %v", got)
	}
	if len(list.For("c.yaml")) != 0 || len(objs) != 2 {
		t.Errorf("c.yaml is fine; objects %d, want the 2 valid ones", len(objs))
	}
}

func TestExpandPaths(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"b.yaml": "", "a.yml": "", "c.json": "", "README.md": "", ".hidden.yaml": "",
		"sub/d.yaml": "", ".git/e.yaml": "", "empty/x.txt": "",
	})
	t.Chdir(dir)
	files, errs := ExpandPaths([]string{"."}, false)
	if diff := cmp.Diff([]string{"a.yml", "b.yaml", "c.json"}, files); diff != "" || errs != nil {
		t.Errorf("flat (-want +got):\n%s %v", diff, errs)
	}
	files, _ = ExpandPaths([]string{".", "-", "README.md"}, true)
	if diff := cmp.Diff([]string{"a.yml", "b.yaml", "c.json", "sub/d.yaml", "-", "README.md"}, files); diff != "" {
		t.Errorf("recursive (-want +got):\n%s", diff)
	}
	_, errs = ExpandPaths([]string{"missing.yaml", "empty", "-", "-"}, false)
	want := []string{
		"missing.yaml: no such file or folder",
		"empty: no .yaml, .yml or .json files in this folder (add -R to include subfolders)",
		"<stdin>: stdin can be read only once",
	}
	if diff := cmp.Diff(want, strings.Split(errs.Error(), "\n")); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestLoadStdinResolvesAgainstWorkingDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	objs, err := Load([]string{"-"}, false, strings.NewReader(hdr+"kind: Image\nmetadata: {name: i}\nspec: {tag: 'i:1', import: {path: img.tar}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if got, want := objs[0].Image.Spec.Import.Path, filepath.Join(wd, "img.tar"); got != want {
		t.Errorf("import path %q, want %q", got, want)
	}
	if objs[0].Source.File != "-" {
		t.Errorf("source %q", objs[0].Source.File)
	}
}
