package layerstore

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/testutil"
)

func openStore(t testing.TB) *Store {
	t.Helper()
	testutil.NeedRoot(t, "layers keep ownership, whiteouts are device nodes")
	s, err := Open(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tarOf builds a tar from name -> content; a name ending in "/" is a
// directory, content "->X" makes a symlink to X.
func tarOf(t testing.TB, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f[0], Mode: 0o644, ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg, Size: int64(len(f[1]))}
		switch {
		case f[0][len(f[0])-1] == '/':
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case len(f[1]) > 2 && f[1][:2] == "->":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, f[1][2:], 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(f[1]))
		}
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
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func addLayer(t testing.TB, s *Store, parent digest.Digest, b []byte) Layer {
	t.Helper()
	l, err := s.AddLayer(context.Background(), parent, bytes.NewReader(b), "")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func mkImage(t testing.TB, s *Store, layers []Layer, parent digest.Digest, tags ...string) *Image {
	t.Helper()
	img, err := s.CreateImage(context.Background(), ocispec.Image{Config: ocispec.ImageConfig{Cmd: []string{"/bin/sh"}}}, layers, parent, tags...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// diskUsage is what du reports: allocated blocks, each inode once.
func diskUsage(t testing.TB, root string) int64 {
	t.Helper()
	seen := map[uint64]bool{}
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		if !seen[st.Ino] {
			seen[st.Ino] = true
			total += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

func countDir(t testing.TB, dir string) int {
	t.Helper()
	e, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(e)
}
