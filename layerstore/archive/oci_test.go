package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// tarDir tars a directory tree (as `tar -C dir -c .` would).
func tarDir(t *testing.T, dir string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, _ := d.Info()
		h, _ := tar.FileInfoHeader(fi, "")
		h.Name = rel
		tw.WriteHeader(h)
		if d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			tw.Write(b)
		}
		return nil
	})
	tw.Close()
	return buf.Bytes()
}

// An OCI layout written by another implementation (go-containerregistry)
// loads with its image ID, manifest digest and tag.
func TestLoadForeignOCILayout(t *testing.T) {
	s := openStore(t)
	img, err := random.Image(2048, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"io.containerd.image.name": "docker.io/library/rand:v1"})); err != nil {
		t.Fatal(err)
	}
	imgs, err := Load(context.Background(), s, bytes.NewReader(tarDir(t, dir)), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigName()
	md, _ := img.Digest()
	if len(imgs) != 1 || imgs[0].ID.String() != cfg.String() || imgs[0].ManifestDigest.String() != md.String() ||
		len(imgs[0].RepoTags) != 1 || imgs[0].RepoTags[0] != "rand:v1" || len(imgs[0].Layers) != 3 {
		t.Fatalf("loaded %+v; want ID %s manifest %s", imgs, cfg, md)
	}
}
