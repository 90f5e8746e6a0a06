package beneath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOpenStaysBeneath: links inside the folder are followed, links and
// ".." leading out of it fail, and the folder itself may not be a link.
func TestOpenStaysBeneath(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "real", "sub"), 0o755)
	os.Symlink("real", filepath.Join(root, "inner"))
	os.Symlink("/", filepath.Join(root, "out"))
	os.Symlink("../..", filepath.Join(root, "real", "up"))
	for _, sub := range []string{"", ".", "real/sub", "inner/sub"} {
		fd, err := Open(root, sub)
		if err != nil {
			t.Errorf("Open(%q): %v", sub, err)
			continue
		}
		unix.Close(fd)
	}
	for _, sub := range []string{"out", "out/etc", "real/up/etc", "../x", "/etc"} {
		if fd, err := Open(root, sub); err == nil {
			unix.Close(fd)
			t.Errorf("Open(%q) left the folder", sub)
		} else if !errors.Is(err, unix.EXDEV) && !errors.Is(err, unix.ELOOP) {
			t.Errorf("Open(%q): %v, want EXDEV or ELOOP", sub, err)
		}
	}
	if fd, err := Open(filepath.Join(root, "inner"), "sub"); err == nil {
		unix.Close(fd)
		t.Error("Open followed a root that is a symlink")
	}
}
