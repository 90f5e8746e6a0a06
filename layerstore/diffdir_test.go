package layerstore

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// mountOverlay mounts lower (base first) with optional upper at a new
// directory and unmounts it when the test ends.
func mountOverlay(t *testing.T, lower []string, upper, work string) string {
	t.Helper()
	merged := t.TempDir()
	l := slices.Clone(lower)
	slices.Reverse(l) // overlayfs wants the top layer first
	opts := "lowerdir=" + strings.Join(l, ":")
	if upper != "" {
		opts += ",upperdir=" + upper + ",workdir=" + work + ",redirect_dir=off,metacopy=off"
	} else if len(l) == 1 {
		opts += ":" + l[0] // a read-only overlay needs two lowerdirs
	}
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		t.Skipf("overlayfs unavailable here: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(merged, unix.MNT_DETACH) })
	return merged
}

func readTarNames(t *testing.T, b []byte) []string {
	var names []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}

// Commit round trip on a real overlay: change files in a container-like
// mount, turn the upperdir into a layer, and check the new image's view.
func TestDiffDirOverlayRoundTrip(t *testing.T) {
	s := openStore(t)
	base := addLayer(t, s, "", tarOf(t,
		[2]string{"a", "1"}, [2]string{"del", "x"}, [2]string{"d/", ""}, [2]string{"d/x", "x"}, [2]string{"d/y", "y"},
		[2]string{"keep/", ""}, [2]string{"keep/k", "k"}, [2]string{"link", "->a"}))
	baseImg := mkImage(t, s, []Layer{base}, "", "base")
	lower, _ := s.LowerDirs(baseImg)

	upper, work := t.TempDir(), t.TempDir()
	merged := mountOverlay(t, lower, upper, work)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(merged, "a"), []byte("2"), 0o644))
	must(os.Remove(filepath.Join(merged, "del")))
	must(os.RemoveAll(filepath.Join(merged, "d")))
	must(os.Mkdir(filepath.Join(merged, "d"), 0o750))
	must(os.WriteFile(filepath.Join(merged, "d/z"), []byte("z"), 0o755))
	must(os.Chmod(filepath.Join(merged, "d/z"), os.ModeSetuid|0o755))
	must(os.WriteFile(filepath.Join(merged, "new"), []byte("n"), 0o600))
	must(os.Link(filepath.Join(merged, "new"), filepath.Join(merged, "new2")))
	must(unix.Lsetxattr(filepath.Join(merged, "new"), "user.k", []byte("v"), 0))
	must(unix.Unmount(merged, 0))

	var buf bytes.Buffer
	must(s.DiffDir(context.Background(), upper, &buf))
	names := readTarNames(t, buf.Bytes())
	for _, want := range []string{".wh.del", "d/", "d/.wh..wh..opq", "d/z", "a", "new", "new2"} {
		if !slices.Contains(names, want) {
			t.Fatalf("diff tar lacks %q: %v", want, names)
		}
	}
	// Deterministic: the same upperdir gives the same bytes.
	var again bytes.Buffer
	must(s.DiffDir(context.Background(), upper, &again))
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("DiffDir is not deterministic")
	}

	top := addLayer(t, s, base.ChainID, buf.Bytes())
	img := mkImage(t, s, []Layer{base, top}, baseImg.ID, "committed")
	lowers, err := s.LowerDirs(img)
	must(err)
	view := mountOverlay(t, lowers, "", "")
	check := map[string]string{"a": "2", "d/z": "z", "new": "n", "new2": "n", "keep/k": "k"}
	for p, want := range check {
		if b, err := os.ReadFile(filepath.Join(view, p)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", p, b, err, want)
		}
	}
	for _, gone := range []string{"del", "d/x", "d/y"} {
		if _, err := os.Lstat(filepath.Join(view, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still visible in the committed image: %v", gone, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(view, "d/z")); err != nil || fi.Mode()&os.ModeSetuid == 0 {
		t.Errorf("setuid bit lost: %v", fi)
	}
	var s1, s2 unix.Stat_t
	unix.Stat(filepath.Join(lowers[1], "new"), &s1)
	unix.Stat(filepath.Join(lowers[1], "new2"), &s2)
	if s1.Ino != s2.Ino {
		t.Error("hardlink not preserved")
	}
	v := make([]byte, 4)
	if n, err := unix.Lgetxattr(filepath.Join(view, "new"), "user.k", v); err != nil || string(v[:n]) != "v" {
		t.Errorf("xattr lost: %q %v", v[:n], err)
	}
	if l, _ := os.Readlink(filepath.Join(view, "link")); l != "a" {
		t.Errorf("symlink = %q", l)
	}
}
