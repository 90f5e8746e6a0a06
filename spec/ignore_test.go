package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A folder's .reconcilerignore keeps files and subfolders out of a
// recursive read, with .dockerignore's syntax.
func TestIgnoreFile(t *testing.T) {
	dir := t.TempDir()
	vol := func(name string) string {
		return "apiVersion: reconciler/v1\nkind: Volume\nmetadata: {name: " + name + "}\n"
	}
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", vol("a"))
	write("sub/b.yaml", vol("b"))
	write("invalid/broken.yaml", "kind: [")
	write("drafts/c.yaml", vol("c"))
	write("drafts/keep.yaml", vol("keep"))
	write(IgnoreFile, "# not manifests\ninvalid/\ndrafts/*\n!drafts/keep.yaml\n")

	objs, err := Load([]string{dir}, true, nil)
	if err != nil {
		t.Fatalf("load with ignored broken file: %v", err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	if got := strings.Join(names, ","); got != "a,keep,b" && got != "a,b,keep" {
		t.Fatalf("objects %s, want a, b and keep (invalid/ and drafts/c ignored)", got)
	}

	ig, err := LoadIgnore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{"invalid": true, "invalid/broken.yaml": true, "drafts/c.yaml": true, "drafts/keep.yaml": false, "a.yaml": false} {
		if got := ig.Ignored(filepath.Join(dir, path)); got != want {
			t.Errorf("Ignored(%s) = %v, want %v", path, got, want)
		}
	}
	if none, _ := LoadIgnore(t.TempDir()); none.Ignored(filepath.Join(dir, "x.yaml")) {
		t.Error("a folder without the file ignores something")
	}
}
