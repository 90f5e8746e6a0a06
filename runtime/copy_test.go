package runtime

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tarOf(t *testing.T, name, content string) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(content))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b
}

// docker cp into a --read-only container is refused unless the path is on
// one of its mounts (dockerd: "container rootfs is marked read-only"); a
// stopped container's layer must not be written behind --read-only.
func TestExtractToDirReadOnlyRootfs(t *testing.T) {
	r := newRuntime(t, false)
	data := t.TempDir()
	s := boxSpec(t, "ro", "true")
	s.ReadonlyRootfs = true
	s.Mounts = []Mount{{Type: MountBind, Source: data, Target: "/data"}}
	id := mustCreate(t, r, s)
	ctx := context.Background()

	err := r.ExtractToDir(ctx, id, "/tmp", tarOf(t, "f", "x"), ExtractOptions{})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "container rootfs is marked read-only") {
		t.Fatalf("cp into the root of a read-only container: %v", err)
	}
	c, _ := r.Inspect(id)
	if _, err := os.Lstat(filepath.Join(upperOf(c), "tmp", "f")); !os.IsNotExist(err) {
		t.Fatalf("the read-only container's layer was written: %v", err)
	}
	if err := r.ExtractToDir(ctx, id, "/data", tarOf(t, "f", "x"), ExtractOptions{}); err != nil {
		t.Fatalf("cp into a mount of a read-only container: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(data, "f")); err != nil || string(b) != "x" {
		t.Fatalf("file in the mount: %q, %v", b, err)
	}
}
