package volumes

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/testutil"
)

// twoLayers builds an unpacked base layer and a top layer that deletes a
// file (whiteout) and replaces a folder (opaque), in overlayfs' format.
func twoLayers(t *testing.T) []string {
	t.Helper()
	base, top := t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(base, "data", "sub"), 0o755))
	must(os.WriteFile(filepath.Join(base, "data", "a"), []byte("a"), 0o644))
	must(os.WriteFile(filepath.Join(base, "data", "b"), []byte("b"), 0o644))
	must(os.WriteFile(filepath.Join(base, "data", "sub", "x"), []byte("x"), 0o644))
	must(os.Symlink("/data", filepath.Join(base, "link")))
	must(os.MkdirAll(filepath.Join(top, "data", "sub"), 0o755))
	must(unix.Mknod(filepath.Join(top, "data", "b"), unix.S_IFCHR, 0)) // whiteout
	must(unix.Setxattr(filepath.Join(top, "data", "sub"), "trusted.overlay.opaque", []byte("y"), 0))
	must(os.WriteFile(filepath.Join(top, "data", "sub", "y"), []byte("y"), 0o644))
	must(os.WriteFile(filepath.Join(top, "data", "c"), []byte("c"), 0o644))
	return []string{base, top}
}

func listTree(t *testing.T, dir string) string {
	var got []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, rel)
		}
		return nil
	})
	sort.Strings(got)
	return strings.Join(got, ",")
}

func TestCopyUpFromImageMergesLayers(t *testing.T) {
	testutil.NeedRoot(t, "copy-up keeps file ownership")
	layers := twoLayers(t)
	m := openT(t, t.TempDir())
	v := mustCreate(t, m, "data", nil)
	// Through an absolute symlink of the image, resolved inside the image.
	copied, err := m.CopyUpFromImage("data", layers, "/link")
	if err != nil || !copied {
		t.Fatalf("CopyUpFromImage = %v, %v", copied, err)
	}
	if got := listTree(t, v.Mountpoint); got != "a,c,sub,sub/y" {
		t.Errorf("volume holds %s, want a,c,sub,sub/y (whiteout and opaque folder applied)", got)
	}
	if copied, err := m.CopyUpFromImage("data", layers, "/data"); err != nil || copied {
		t.Errorf("second CopyUpFromImage = %v, %v", copied, err)
	}
	assertNoTemp(t, m.Root())

	mustCreate(t, m, "other", nil)
	if copied, err := m.CopyUpFromImage("other", layers, "/not/in/image"); err != nil || copied {
		t.Errorf("CopyUpFromImage of a missing path = %v, %v", copied, err)
	}
	if v, _ := m.Get("other"); !v.CopiedUp {
		t.Error("first mount not recorded for a missing image path")
	}
	mustCreate(t, m, "third", nil)
	if _, err := m.CopyUpFromImage("third", layers, "/data/a"); err == nil || !strings.Contains(err.Error(), "has a file at /data/a") {
		t.Errorf("CopyUpFromImage of a file: %v", err)
	}
	if _, err := m.CopyUpFromImage("third", layers[:1], "/data"); err != nil {
		t.Errorf("single-layer image: %v", err)
	}
	if got := listTree(t, filepath.Join(m.Root(), "third", "_data")); got != "a,b,sub,sub/x" {
		t.Errorf("single-layer copy-up: %s", got)
	}
}
