package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/reconciler/reconciler/internal/testutil"
	"github.com/reconciler/reconciler/layerstore"
)

func openStore(t testing.TB) *layerstore.Store {
	t.Helper()
	testutil.NeedRoot(t, "layers keep ownership, whiteouts are device nodes")
	s, err := layerstore.Open(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type tfile struct {
	name, body string
	mode       int64
}

func tarOf(t testing.TB, files ...tfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg, Size: int64(len(f.body))}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if strings.HasSuffix(f.name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// busyboxImage builds a two-layer image: busybox and files, then a layer
// deleting /etc/gone (an OCI whiteout) and adding /etc/new.
func busyboxImage(t testing.TB, s *layerstore.Store, tags ...string) *layerstore.Image {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("needs /bin/busybox (Debian package busybox-static)")
	}
	ctx := context.Background()
	l1, err := s.AddLayer(ctx, "", bytes.NewReader(gz(t, tarOf(t, tfile{"bin/", "", 0}, tfile{"bin/busybox", string(bb), 0o755},
		tfile{"etc/", "", 0}, tfile{"etc/hello", "hi", 0}, tfile{"etc/gone", "x", 0}))), "")
	if err != nil {
		t.Fatal(err)
	}
	l2, err := s.AddLayer(ctx, l1.ChainID, bytes.NewReader(tarOf(t, tfile{"etc/.wh.gone", "", 0}, tfile{"etc/new", "new", 0})), "")
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.CreateImage(ctx, ocispec.Image{Config: ocispec.ImageConfig{Cmd: []string{"/bin/busybox", "sh"}}}, []layerstore.Layer{l1, l2}, "", tags...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestSaveLoadRoundTrips(t *testing.T) {
	ctx := context.Background()
	src := openStore(t)
	img := busyboxImage(t, src, "app:1", "app:2")
	for _, f := range []Format{FormatDocker, FormatOCI} {
		var buf bytes.Buffer
		if err := Save(ctx, src, []string{"app:1"}, f, &buf); err != nil {
			t.Fatal(err)
		}
		dst := openStore(t)
		var progress bytes.Buffer
		imgs, err := Load(ctx, dst, &buf, &progress)
		if err != nil {
			t.Fatalf("format %d: %v", f, err)
		}
		if len(imgs) != 1 || imgs[0].ID != img.ID || !slices.Equal(imgs[0].RepoTags, []string{"app:1"}) {
			t.Fatalf("format %d: loaded %+v", f, imgs[0])
		}
		if !strings.Contains(progress.String(), "Loaded image: app:1") {
			t.Fatalf("progress = %q", progress.String())
		}
		if f == FormatOCI && imgs[0].ManifestDigest != img.ManifestDigest {
			t.Fatal("OCI round trip changed the manifest digest")
		}
		dirs, _ := dst.LowerDirs(imgs[0])
		if b, _ := os.ReadFile(filepath.Join(dirs[0], "etc/hello")); string(b) != "hi" {
			t.Fatalf("format %d: layer content %q", f, b)
		}
	}
}

func TestLoadRootfsAndRejects(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	imgs, err := Load(ctx, s, bytes.NewReader(gz(t, tarOf(t, tfile{"etc/", "", 0}, tfile{"etc/os-release", "ID=test", 0}))), nil)
	if err != nil || len(imgs) != 1 || len(imgs[0].Layers) != 1 {
		t.Fatalf("rootfs load = %v %v", imgs, err)
	}
	img, err := ImportRootfs(ctx, s, bytes.NewReader(tarOf(t, tfile{"a", "1", 0})), "imported:v1")
	if err != nil || !slices.Equal(img.RepoTags, []string{"imported:v1"}) {
		t.Fatalf("import = %+v %v", img, err)
	}
	if _, err := Load(ctx, s, bytes.NewReader(tarOf(t, tfile{"../evil", "x", 0})), nil); err == nil {
		t.Fatal("hostile rootfs accepted")
	}
	if _, err := Load(ctx, s, bytes.NewReader(nil), nil); err == nil {
		t.Fatal("empty input accepted")
	}

	// A docker archive whose layer does not match the config's diff ID.
	src := openStore(t)
	good := busyboxImage(t, src, "good")
	var buf bytes.Buffer
	if err := Save(ctx, src, []string{"good"}, FormatDocker, &buf); err != nil {
		t.Fatal(err)
	}
	tampered := retar(t, buf.Bytes(), func(h *tar.Header, body []byte) []byte {
		if h.Name == "blobs/sha256/"+good.Layers[1].DiffID.Encoded() {
			return tarOf(t, tfile{"etc/new", "evil", 0})
		}
		return body
	})
	before, _ := s.List()
	if _, err := Load(ctx, s, bytes.NewReader(tampered), nil); err == nil || !strings.Contains(err.Error(), "diff ID mismatch") {
		t.Fatalf("tampered layer: %v", err)
	}
	after, _ := s.List()
	if len(after) != len(before) {
		t.Fatal("a tampered archive left an image behind")
	}
	if _, err := s.Resolve("good"); !errors.Is(err, layerstore.ErrNotFound) {
		t.Fatalf("tampered image visible: %v", err)
	}
}

// retar rewrites an archive's members through fn.
func retar(t *testing.T, in []byte, fn func(*tar.Header, []byte) []byte) []byte {
	var out bytes.Buffer
	tr := tar.NewReader(bytes.NewReader(in))
	tw := tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		body := new(bytes.Buffer)
		body.ReadFrom(tr)
		b := fn(h, body.Bytes())
		h.Size = int64(len(b))
		tw.WriteHeader(h)
		tw.Write(b)
	}
	tw.Close()
	return out.Bytes()
}
