package volumes

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestResolveSubPath(t *testing.T) {
	m := openT(t, t.TempDir())
	v := mustCreate(t, m, "data", nil)

	if p, err := m.Resolve("data", ""); err != nil || p != v.Mountpoint {
		t.Errorf(`Resolve("") = %s, %v; want %s`, p, err, v.Mountpoint)
	}
	p, err := m.Resolve("data", "./a//b/")
	if err != nil || p != filepath.Join(v.Mountpoint, "a", "b") {
		t.Fatalf("Resolve(a/b) = %s, %v", p, err)
	}
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		t.Errorf("missing subPath folder not created: %v", err)
	}
	// An existing file may be a subPath (a single config file).
	os.WriteFile(filepath.Join(v.Mountpoint, "a", "conf"), []byte("x"), 0o644)
	if p, err := m.Resolve("data", "a/conf"); err != nil || p != filepath.Join(v.Mountpoint, "a", "conf") {
		t.Errorf("Resolve(a/conf) = %s, %v", p, err)
	}
	// A symlink that stays inside is followed, to its real place.
	os.Symlink("a/b", filepath.Join(v.Mountpoint, "inside"))
	if p, err := m.Resolve("data", "inside/c"); err != nil || p != filepath.Join(v.Mountpoint, "a", "b", "c") {
		t.Errorf("Resolve(inside/c) = %s, %v", p, err)
	}
	if _, err := m.Resolve("nosuch", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Resolve on missing volume: %v", err)
	}
}

func TestResolveRefusesEscapes(t *testing.T) {
	m := openT(t, t.TempDir())
	v := mustCreate(t, m, "data", nil)
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(v.Mountpoint, "sub"), 0o755)
	os.Symlink(outside, filepath.Join(v.Mountpoint, "sub", "abs"))
	os.Symlink("../../../../../../../../"+outside, filepath.Join(v.Mountpoint, "rel"))
	os.Symlink("/nonexistent-target", filepath.Join(v.Mountpoint, "dangling"))

	cases := map[string]string{
		"../x":           `".."`,
		"a/../../x":      `".."`,
		"a/../b":         `".."`,
		"/etc":           "absolute",
		"sub/abs":        "leads out",
		"sub/abs/new":    "leads out",
		"rel/new/deeper": "leads out",
		"dangling/new":   "leads out",
	}
	for sub, want := range cases {
		_, err := m.Resolve("data", sub)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve(%q) = %v, want ErrInvalid mentioning %s", sub, err, want)
		}
	}
	// Nothing was created, inside or outside.
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("escape created %v outside the volume", entries)
	}
	entries, _ := os.ReadDir(v.Mountpoint)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, ","); got != "dangling,rel,sub" {
		t.Errorf("volume holds %s after refused subPaths", got)
	}
	if entries, _ := os.ReadDir(filepath.Join(v.Mountpoint, "sub")); len(entries) != 1 {
		t.Errorf("sub holds %d entries, want only the link", len(entries))
	}
}

func TestResolveRollsBackOnFailure(t *testing.T) {
	m := openT(t, t.TempDir())
	v := mustCreate(t, m, "data", nil)
	// A file where a folder is needed fails after nothing was created.
	os.WriteFile(filepath.Join(v.Mountpoint, "file"), nil, 0o644)
	if _, err := m.Resolve("data", "file/x/y"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Resolve(file/x/y) = %v", err)
	}
	// A name too long for the filesystem fails in the middle of creation:
	// the folders created before it are removed again.
	long := strings.Repeat("n", 300)
	if _, err := m.Resolve("data", "new1/new2/"+long); err == nil {
		t.Fatal("Resolve with an overlong name succeeded")
	}
	if _, err := os.Lstat(filepath.Join(v.Mountpoint, "new1")); !os.IsNotExist(err) {
		t.Errorf("half-created subPath left behind: %v", err)
	}
}

func TestOpenSubPathIsBeneath(t *testing.T) {
	m := openT(t, t.TempDir())
	v := mustCreate(t, m, "data", nil)
	f, err := m.OpenSubPath("data", "x/y")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	real, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil || real != filepath.Join(v.Mountpoint, "x", "y") {
		t.Errorf("fd points at %s, %v", real, err)
	}
}
