package mountinfo

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/plain`: "/plain", `/tab\011x`: "/tab\tx", `/bad\09`: `/bad\09`} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// Mounts under a folder (one with a space in its name) are listed
// children first; the folder's siblings are not.
func TestUnderListsChildrenFirst(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts tmpfs")
	}
	base := t.TempDir()
	dir := filepath.Join(base, "with space")
	child := filepath.Join(dir, "child")
	sibling := filepath.Join(base, "with spacer")
	for _, d := range []string{dir, sibling} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mount := func(p string) {
		if err := unix.Mount("tmpfs", p, "tmpfs", 0, ""); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Unmount(p, unix.MNT_DETACH) })
	}
	mount(dir)
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Fatal(err)
	}
	mount(child)
	mount(sibling)
	got, err := Under(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{child, dir}; !slices.Equal(got, want) {
		t.Fatalf("Under(%q) = %q, want %q", dir, got, want)
	}
}

// Read returns the whole table with each entry's type: /proc is there,
// as a proc file system.
func TestReadHasProc(t *testing.T) {
	mounts, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mounts {
		if m.MountPoint == "/proc" && m.FSType == "proc" && m.Root == "/" {
			return
		}
	}
	t.Errorf("no proc mount at /proc among %d mounts: %+v", len(mounts), mounts)
}
