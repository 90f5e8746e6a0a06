package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/reconciler/reconciler/internal/testpeer"
	"github.com/reconciler/reconciler/layerstore"
)

// Registry interop with real Docker: what we push, docker pulls with the
// same image ID; what docker pushes (schema2 manifest, gzip layers), we
// pull with docker's image ID.
func TestDockerRegistryInterop(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	host := startRegistry(t)
	_, d := testpeer.StartDockerd(t)

	l1, err := s.AddLayer(ctx, "", bytes.NewReader(layerTar(t, true, map[string]string{"etc/hello": "hi"})), "")
	if err != nil {
		t.Fatal(err)
	}
	l2, err := s.AddLayer(ctx, l1.ChainID, bytes.NewReader(layerTar(t, false, map[string]string{"etc/.wh.hello": "", "app/run": "go"})), "")
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.CreateImage(ctx, ocispec.Image{Config: ocispec.ImageConfig{Cmd: []string{"/app/run"}}}, []layerstore.Layer{l1, l2}, "", "app:v1")
	if err != nil {
		t.Fatal(err)
	}
	ours := host + "/ours/app:v1"
	if err := Push(ctx, s, "app:v1", ours, Options{}); err != nil {
		t.Fatal(err)
	}
	if out, err := d.Docker(ctx, "pull", ours); err != nil {
		t.Fatalf("docker pull of our push: %s", out)
	}
	if id, err := d.Docker(ctx, "image", "inspect", "--format", "{{.Id}}", ours); err != nil || strings.TrimSpace(id) != img.ID.String() {
		t.Fatalf("docker sees %q (%v), we pushed %s", id, err, img.ID)
	}

	// Docker -> registry -> here.
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("needs /bin/busybox (Debian package busybox-static)")
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb))})
	tw.Write(bb)
	tw.Close()
	rootfs := filepath.Join(t.TempDir(), "rootfs.tar")
	os.WriteFile(rootfs, buf.Bytes(), 0o644)
	theirs := host + "/theirs/busy:1"
	if out, err := d.Docker(ctx, "import", rootfs, theirs); err != nil {
		t.Fatalf("docker import: %s", out)
	}
	if out, err := d.Docker(ctx, "push", theirs); err != nil {
		t.Fatalf("docker push: %s", out)
	}
	dockerID, _ := d.Docker(ctx, "image", "inspect", "--format", "{{.Id}}", theirs)
	other := openStore(t)
	got, err := Pull(ctx, other, theirs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID.String() != strings.TrimSpace(dockerID) {
		t.Fatalf("pulled ID %s, docker's %s", got.ID, dockerID)
	}
	if got.Layers[0].MediaType != "application/vnd.docker.image.rootfs.diff.tar.gzip" {
		t.Fatalf("layer media type %s", got.Layers[0].MediaType)
	}
	dirs, _ := other.LowerDirs(got)
	if fi, err := os.Stat(filepath.Join(dirs[0], "bin/busybox")); err != nil || fi.Size() != int64(len(bb)) {
		t.Fatalf("pulled content: %v %v", fi, err)
	}
}
