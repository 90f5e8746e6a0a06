package dockerignore

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReadPrefersTheDockerfilesOwn(t *testing.T) {
	dir := t.TempDir()
	if p, f, err := Read(dir, ""); p != nil || f != "" || err != nil {
		t.Fatalf("no ignore file: %v %q %v", p, f, err)
	}
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("# comment\ndata\n"), 0o644)
	if p, f, err := Read(dir, ""); !slices.Equal(p, []string{"data"}) || f != filepath.Join(dir, ".dockerignore") || err != nil {
		t.Fatalf("context's: %v %q %v", p, f, err)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	own := filepath.Join(dir, "sub", "app.Dockerfile.dockerignore")
	os.WriteFile(own, []byte("*.log\n"), 0o644)
	if p, f, err := Read(dir, "sub/app.Dockerfile"); !slices.Equal(p, []string{"*.log"}) || f != own || err != nil {
		t.Fatalf("the Dockerfile's own: %v %q %v", p, f, err)
	}
	if p, _, _ := Read(dir, ""); !slices.Equal(p, []string{"data"}) {
		t.Fatalf("another Dockerfile's ignore file was taken: %v", p)
	}
}
