package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/internal/testpeer"
)

// catFromImage reads one file of an image through real Docker: create a
// container (never started) and `docker cp` the file out as a tar.
func catFromImage(t *testing.T, d *testpeer.Dockerd, image, path string) (string, error) {
	ctx := context.Background()
	name := "cat" + strings.NewReplacer("/", "", ":", "", ".", "").Replace(image+path)
	if _, err := d.Docker(ctx, "create", "--name", name, image, "/bin/busybox", "true"); err != nil {
		t.Fatal(err)
	}
	defer d.Docker(ctx, "rm", name)
	out, err := d.Docker(ctx, "cp", name+":"+path, "-")
	if err != nil {
		return "", err
	}
	tr := tar.NewReader(strings.NewReader(out))
	if _, err := tr.Next(); err != nil {
		return "", err
	}
	b, err := io.ReadAll(tr)
	return string(b), err
}

// An image made here loads in real Docker with the same ID, tags and files
// (the whiteout deletes what it should); an image Docker saves loads here
// with Docker's ID.
func TestDockerRoundTrips(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	_, d := testpeer.StartDockerd(t)
	img := busyboxImage(t, s, "rt/app:v1")

	// Here -> Docker.
	archive := filepath.Join(t.TempDir(), "app.tar")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(ctx, s, []string{"rt/app:v1"}, FormatDocker, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, err := d.Docker(ctx, "load", "-i", archive); err != nil || !strings.Contains(out, "rt/app:v1") {
		t.Fatalf("docker load: %s %v", out, err)
	}
	id, err := d.Docker(ctx, "image", "inspect", "--format", "{{.Id}}", "rt/app:v1")
	if err != nil || strings.TrimSpace(id) != img.ID.String() {
		t.Fatalf("docker sees ID %q (%v), we have %s", id, err, img.ID)
	}
	for path, want := range map[string]string{"/etc/hello": "hi", "/etc/new": "new"} {
		if got, err := catFromImage(t, d, "rt/app:v1", path); err != nil || got != want {
			t.Fatalf("%s in docker = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := catFromImage(t, d, "rt/app:v1", "/etc/gone"); err == nil {
		t.Fatal("/etc/gone (whited out) is visible in docker")
	}

	// Docker -> here: docker import of a busybox rootfs, docker save.
	bb, _ := os.ReadFile("/bin/busybox")
	rootfs := filepath.Join(t.TempDir(), "rootfs.tar")
	os.WriteFile(rootfs, tarOf(t, tfile{"bin/", "", 0}, tfile{"bin/busybox", string(bb), 0o755}, tfile{"etc/", "", 0}, tfile{"etc/motd", "from docker", 0}), 0o644)
	if out, err := d.Docker(ctx, "import", "--change", "CMD [\"/bin/busybox\",\"sh\"]", rootfs, "dk/busy:imported"); err != nil {
		t.Fatalf("docker import: %s", out)
	}
	dockerID, err := d.Docker(ctx, "image", "inspect", "--format", "{{.Id}}", "dk/busy:imported")
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(t.TempDir(), "saved.tar")
	if out, err := d.Docker(ctx, "save", "-o", saved, "dk/busy:imported", "rt/app:v1"); err != nil {
		t.Fatalf("docker save: %s", out)
	}
	in, err := os.Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	other := openStore(t)
	var progress bytes.Buffer
	imgs, err := Load(ctx, other, in, &progress)
	if err != nil {
		t.Fatalf("load docker save: %v\n%s", err, progress.String())
	}
	if len(imgs) != 2 {
		t.Fatalf("loaded %d images, want 2", len(imgs))
	}
	got, err := other.Resolve("dk/busy:imported")
	if err != nil || got.ID.String() != strings.TrimSpace(dockerID) {
		t.Fatalf("loaded ID %v (%v), docker's %s", got, err, dockerID)
	}
	if !slices.Equal(got.Config.Config.Cmd, []string{"/bin/busybox", "sh"}) {
		t.Fatalf("config lost: Cmd = %v", got.Config.Config.Cmd)
	}
	dirs, _ := other.LowerDirs(got)
	if b, _ := os.ReadFile(filepath.Join(dirs[0], "etc/motd")); string(b) != "from docker" {
		t.Fatalf("content = %q", b)
	}
	back, err := other.Resolve("rt/app:v1")
	if err != nil || back.ID != img.ID {
		t.Fatalf("our image after a trip through docker: %v %v", back, err)
	}
}
