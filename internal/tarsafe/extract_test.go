package tarsafe

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/testutil"
)

// entry is one tar header with optional content.
type entry struct {
	hdr  tar.Header
	body string
}

func file(name, body string) entry {
	return entry{tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(1700000000, 0)}, body}
}
func dir(name string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: time.Unix(1600000000, 0)}}
}
func symlink(name, target string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, ModTime: time.Unix(1600000000, 0)}}
}
func hardlink(name, target string) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target}}
}

func mkTar(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// sandbox is a temp dir with root/ (the target) and outside/ (a sentinel
// that must never change).
func sandbox(t *testing.T) (base, root string) {
	base = t.TempDir()
	root = filepath.Join(base, "root")
	if err := os.MkdirAll(filepath.Join(base, "outside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "outside", "sentinel"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return base, root
}

// assertNothingOutside fails if anything but root/ and the sentinel exists.
func assertNothingOutside(t *testing.T, base string) {
	t.Helper()
	var found []string
	filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(base, p)
		switch rel {
		case ".", "outside", "outside/sentinel":
			return nil
		case "root":
			return filepath.SkipDir
		}
		found = append(found, rel)
		return nil
	})
	if len(found) > 0 {
		t.Fatalf("written outside the target: %v", found)
	}
	if b, _ := os.ReadFile(filepath.Join(base, "outside", "sentinel")); string(b) != "keep" {
		t.Fatalf("sentinel outside the target changed: %q", b)
	}
}

func TestExtractPreservesMetadata(t *testing.T) {
	testutil.NeedRoot(t, "chown, mknod and trusted.* xattrs")
	base, root := sandbox(t)
	suid := file("bin/su", "#!")
	suid.hdr.Mode = 0o4755
	suid.hdr.Uid, suid.hdr.Gid = 0, 0
	owned := file("home/u/f", "data")
	owned.hdr.Uid, owned.hdr.Gid = 1234, 5678
	owned.hdr.PAXRecords = map[string]string{"SCHILY.xattr.user.note": "hi", "SCHILY.xattr.trusted.overlay.opaque": "y"}
	dev := entry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "dev/sda", Devmajor: 8, Mode: 0o600}}
	fifo := entry{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "run/fifo", Mode: 0o640}}
	st, err := Extract(context.Background(), root, mkTar(t, dir("bin/"), suid, owned, symlink("bin/sh", "/bin/su"),
		hardlink("bin/su2", "bin/su"), dev, fifo), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.SkippedDevices) != 1 || st.SkippedDevices[0] != "dev/sda" {
		t.Fatalf("skipped devices = %v", st.SkippedDevices)
	}
	if _, err := os.Lstat(filepath.Join(root, "dev/sda")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("device node created: %v", err)
	}
	fi, err := os.Stat(filepath.Join(root, "bin/su"))
	if err != nil || fi.Mode()&fs.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Fatalf("setuid file: %v %v", fi.Mode(), err)
	}
	if !fi.ModTime().Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("mtime = %v", fi.ModTime())
	}
	var s1, s2 unix.Stat_t
	unix.Stat(filepath.Join(root, "bin/su"), &s1)
	unix.Stat(filepath.Join(root, "bin/su2"), &s2)
	if s1.Ino != s2.Ino {
		t.Fatal("hardlink is not the same inode")
	}
	var so unix.Stat_t
	unix.Stat(filepath.Join(root, "home/u/f"), &so)
	if so.Uid != 1234 || so.Gid != 5678 {
		t.Fatalf("owner = %d:%d", so.Uid, so.Gid)
	}
	buf := make([]byte, 16)
	n, err := unix.Lgetxattr(filepath.Join(root, "home/u/f"), "user.note", buf)
	if err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("xattr user.note = %q %v", buf[:n], err)
	}
	if _, err := unix.Lgetxattr(filepath.Join(root, "home/u/f"), "trusted.overlay.opaque", buf); err == nil {
		t.Fatal("trusted.overlay xattr from the archive was applied")
	}
	if l, _ := os.Readlink(filepath.Join(root, "bin/sh")); l != "/bin/su" {
		t.Fatalf("symlink = %q", l)
	}
	if fi, _ := os.Lstat(filepath.Join(root, "run/fifo")); fi == nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatal("fifo missing")
	}
	if fi, _ := os.Stat(filepath.Join(root, "bin")); !fi.ModTime().Equal(time.Unix(1600000000, 0)) {
		t.Fatalf("directory mtime = %v", fi.ModTime())
	}
	assertNothingOutside(t, base)
}

func TestExtractHostileArchives(t *testing.T) {
	testutil.NeedRoot(t, "chown, mknod and trusted.* xattrs")
	cases := []struct {
		name    string
		entries func(base string) []entry
		refuse  bool
		inside  string // a path that must exist under root afterwards ($BASE: the sandbox)
	}{
		{"dotdot", func(string) []entry { return []entry{file("../outside/evil", "x")} }, true, ""},
		{"dotdot deep", func(string) []entry { return []entry{file("a/../../outside/evil", "x")} }, true, ""},
		{"absolute name", func(string) []entry { return []entry{file("/outside/evil", "x")} }, false, "outside/evil"},
		{"absolute dotdot", func(string) []entry { return []entry{file("/../outside/evil", "x")} }, false, "outside/evil"},
		{"relative symlink escape", func(string) []entry { return []entry{symlink("up", "../outside")} }, true, ""},
		{"absolute symlink to a missing dir", func(base string) []entry {
			return []entry{symlink("abs", filepath.Join(base, "outside")), file("abs/evil", "x")}
		}, true, ""},
		{"absolute symlink then write through it", func(base string) []entry {
			return []entry{dir(filepath.Join(base, "outside") + "/"), symlink("abs", filepath.Join(base, "outside")), file("abs/evil", "x")}
		}, false, "$BASE/outside/evil"},
		{"symlink to / then write through it", func(string) []entry {
			return []entry{symlink("r", "/"), file("r/evil", "x")}
		}, false, "evil"},
		{"absolute symlink climbing", func(string) []entry {
			return []entry{symlink("x", "/../../.."), file("x/evil", "x")}
		}, false, "evil"},
		{"symlink chain climbing", func(string) []entry {
			return []entry{dir("a/"), symlink("a/b", "/"), symlink("c", "a/b/../../..")}
		}, true, ""},
		{"hardlink escape", func(string) []entry { return []entry{hardlink("hl", "../outside/sentinel")} }, true, ""},
		{"hardlink through symlink", func(base string) []entry {
			return []entry{symlink("o", filepath.Join(base, "outside")), hardlink("hl", "o/sentinel")}
		}, true, ""},
		{"file replacing symlink", func(base string) []entry {
			return []entry{symlink("f", filepath.Join(base, "outside/sentinel")), file("f", "x")}
		}, false, "f"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base, root := sandbox(t)
			_, err := Extract(context.Background(), root, mkTar(t, tc.entries(base)...), Options{})
			if tc.refuse {
				if err == nil {
					t.Fatal("hostile archive accepted")
				}
			} else if err != nil {
				t.Fatalf("extract: %v", err)
			}
			if tc.inside != "" {
				if _, err := os.Lstat(filepath.Join(root, strings.ReplaceAll(tc.inside, "$BASE", base))); err != nil {
					t.Fatalf("expected %s inside the target: %v", tc.inside, err)
				}
			}
			assertNothingOutside(t, base)
		})
	}
}

func TestExtractOverlayWhiteouts(t *testing.T) {
	testutil.NeedRoot(t, "chown, mknod and trusted.* xattrs")
	_, root := sandbox(t)
	_, err := Extract(context.Background(), root, mkTar(t,
		dir("etc/"), file("etc/.wh.passwd", ""), dir("var/cache/"), file("var/cache/.wh..wh..opq", ""),
		file("var/cache/new", "n"), file(".wh..wh.plnk", ""), file(".wh.gone", "")), Options{OverlayWhiteouts: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"etc/passwd", "gone"} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, p), &st); err != nil {
			t.Fatalf("whiteout %s: %v", p, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
			t.Fatalf("whiteout %s is not a 0/0 char device: mode %o rdev %d", p, st.Mode, st.Rdev)
		}
	}
	buf := make([]byte, 4)
	n, err := unix.Lgetxattr(filepath.Join(root, "var/cache"), OverlayOpaqueXattr, buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Fatalf("opaque xattr = %q %v", buf[:n], err)
	}
	for _, p := range []string{"etc/.wh.passwd", "var/cache/.wh..wh..opq", ".wh..wh.plnk"} {
		if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
			t.Fatalf("whiteout marker %s unpacked as a file", p)
		}
	}
	for _, bad := range []string{"a/b/.wh..", ".wh..", "a/.wh."} {
		if _, err := Extract(context.Background(), root, mkTar(t, file(bad, "")), Options{OverlayWhiteouts: true}); err == nil {
			t.Errorf("whiteout %q accepted", bad)
		}
	}
}

func TestExtractReplacesEntries(t *testing.T) {
	testutil.NeedRoot(t, "chown, mknod and trusted.* xattrs")
	_, root := sandbox(t)
	_, err := Extract(context.Background(), root, mkTar(t,
		file("a", "1"), dir("a/"), file("a/x", "2"), file("a", "3"), file("b", "old"), file("b", "new")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "a")); string(b) != "3" {
		t.Fatalf("a = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "b")); string(b) != "new" {
		t.Fatalf("b = %q", b)
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{"./a/b/": "a/b", "/etc/x": "etc/x", "/../x": "x", ".": "", "/": "", "a/../b": "b"} {
		got, err := CleanName(in)
		if err != nil || got != want {
			t.Errorf("CleanName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"..", "../a", "a/../../b"} {
		var be *BreakoutError
		if _, err := CleanName(in); !errors.As(err, &be) {
			t.Errorf("CleanName(%q) = %v, want a BreakoutError", in, err)
		}
	}
}
