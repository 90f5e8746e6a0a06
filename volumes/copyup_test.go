package volumes

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/testutil"
)

// imageTree builds what an image holds at a mount path: a file owned by
// another user with a user.* xattr, a setgid folder, a symlink, a hard link
// and a fifo, with old mtimes.
func imageTree(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "app-data")
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(src, "sub", "db.conf"), []byte("config"), 0o640))
	must(os.Chown(filepath.Join(src, "sub", "db.conf"), 1234, 5678))
	must(unix.Lsetxattr(filepath.Join(src, "sub", "db.conf"), "user.origin", []byte("image"), 0))
	must(os.Link(filepath.Join(src, "sub", "db.conf"), filepath.Join(src, "hard")))
	must(os.Symlink("sub/db.conf", filepath.Join(src, "link")))
	must(unix.Mkfifo(filepath.Join(src, "fifo"), 0o600))
	must(os.Chtimes(filepath.Join(src, "sub", "db.conf"), old, old))
	must(os.Chmod(filepath.Join(src, "sub"), 0o750|os.ModeSetgid))
	must(os.Chown(filepath.Join(src, "sub"), 1234, 5678))
	must(os.Chtimes(filepath.Join(src, "sub"), old, old))
	must(os.Chown(src, 999, 999))
	must(os.Chmod(src, 0o770))
	must(os.Chtimes(src, old, old))
	return src
}

func TestCopyUpOnceKeepsMetadata(t *testing.T) {
	testutil.NeedRoot(t, "copy-up keeps file ownership")
	m := openT(t, t.TempDir())
	v := mustCreate(t, m, "data", nil)
	src := imageTree(t)

	copied, err := m.CopyUp("data", src)
	if err != nil || !copied {
		t.Fatalf("first CopyUp = %v, %v", copied, err)
	}
	dst := v.Mountpoint
	conf := filepath.Join(dst, "sub", "db.conf")
	fi, err := os.Lstat(conf)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 1234 || st.Gid != 5678 || fi.Mode().Perm() != 0o640 {
		t.Errorf("db.conf: uid %d gid %d mode %v", st.Uid, st.Gid, fi.Mode())
	}
	if want := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC); !fi.ModTime().Equal(want) {
		t.Errorf("db.conf mtime %v, want %v", fi.ModTime(), want)
	}
	if b, _ := os.ReadFile(conf); string(b) != "config" {
		t.Errorf("db.conf content %q", b)
	}
	buf := make([]byte, 64)
	if n, err := unix.Lgetxattr(conf, "user.origin", buf); err != nil || string(buf[:n]) != "image" {
		t.Errorf("user.origin xattr: %q, %v", buf[:n], err)
	}
	if target, err := os.Readlink(filepath.Join(dst, "link")); err != nil || target != "sub/db.conf" {
		t.Errorf("symlink: %q, %v", target, err)
	}
	if hfi, err := os.Lstat(filepath.Join(dst, "hard")); err != nil || !os.SameFile(hfi, fi) {
		t.Errorf("hard link not preserved: %v", err)
	}
	if ffi, err := os.Lstat(filepath.Join(dst, "fifo")); err != nil || ffi.Mode().Type() != os.ModeNamedPipe {
		t.Errorf("fifo: %v, %v", ffi, err)
	}
	if sfi, err := os.Lstat(filepath.Join(dst, "sub")); err != nil || sfi.Mode()&(os.ModeSetgid|os.ModePerm) != os.ModeSetgid|0o750 {
		t.Errorf("sub folder mode %v, %v", sfi.Mode(), err)
	}
	// The volume folder itself takes the image folder's owner and mode.
	rfi, _ := os.Lstat(dst)
	if rst := rfi.Sys().(*syscall.Stat_t); rst.Uid != 999 || rfi.Mode().Perm() != 0o770 {
		t.Errorf("volume folder uid %d mode %v", rst.Uid, rfi.Mode())
	}
	assertNoTemp(t, m.Root())

	// Never again: not on a second mount, nor after the volume is emptied,
	// nor after a restart.
	os.WriteFile(filepath.Join(src, "new-in-image"), nil, 0o644)
	if copied, err := m.CopyUp("data", src); err != nil || copied {
		t.Errorf("second CopyUp = %v, %v", copied, err)
	}
	entries, _ := os.ReadDir(dst)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dst, e.Name()))
	}
	m.Close()
	m2 := openT(t, m.Root())
	if copied, err := m2.CopyUp("data", src); err != nil || copied {
		t.Errorf("CopyUp of emptied volume after restart = %v, %v", copied, err)
	}
	if entries, _ := os.ReadDir(dst); len(entries) != 0 {
		t.Errorf("emptied volume was filled again: %v", entries)
	}
	if v, _ := m2.Get("data"); !v.CopiedUp {
		t.Error("CopiedUp not reported")
	}
}

func TestCopyUpSkipsNonEmptyOrMissing(t *testing.T) {
	m := openT(t, t.TempDir())
	v := mustCreate(t, m, "full", nil)
	os.WriteFile(filepath.Join(v.Mountpoint, "mine"), []byte("user data"), 0o600)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "mine"), []byte("image data"), 0o644)
	if copied, err := m.CopyUp("full", src); err != nil || copied {
		t.Errorf("CopyUp into non-empty volume = %v, %v", copied, err)
	}
	if b, _ := os.ReadFile(filepath.Join(v.Mountpoint, "mine")); string(b) != "user data" {
		t.Errorf("user data overwritten: %q", b)
	}

	mustCreate(t, m, "empty", nil)
	if copied, err := m.CopyUp("empty", filepath.Join(src, "missing")); err != nil || copied {
		t.Errorf("CopyUp from a missing path = %v, %v", copied, err)
	}
	if copied, _ := m.CopyUp("empty", src); copied {
		t.Error("copy-up happened after the first mount")
	}
	mustCreate(t, m, "third", nil)
	if _, err := m.CopyUp("third", filepath.Join(src, "mine")); err == nil {
		t.Error("CopyUp from a file succeeded")
	}
}

func TestCopyUpCrashRecovery(t *testing.T) {
	root := t.TempDir()
	m := openT(t, root)
	v := mustCreate(t, m, "data", nil)
	mustCreate(t, m, "half", nil)
	m.Close()

	// Crash after the staged copy was complete and the move recorded, with
	// one entry already moved: Open finishes the move.
	staging := filepath.Join(root, "data", stagingDir)
	os.MkdirAll(filepath.Join(staging, "b"), 0o755)
	os.WriteFile(filepath.Join(staging, "b", "f"), []byte("b"), 0o644)
	os.WriteFile(filepath.Join(v.Mountpoint, "a"), []byte("a"), 0o644)
	md, _ := readMeta(filepath.Join(root, "data", metaFile))
	md.CopyUp = copyUpMoving
	writeMeta(filepath.Join(root, "data", metaFile), md)
	// Crash in the middle of staging: Open drops the staging copy, and
	// copy-up is still to do.
	os.MkdirAll(filepath.Join(root, "half", stagingDir, "partial"), 0o755)

	m2 := openT(t, root)
	if b, err := os.ReadFile(filepath.Join(v.Mountpoint, "b", "f")); err != nil || string(b) != "b" {
		t.Errorf("interrupted move not finished: %q, %v", b, err)
	}
	if v, _ := m2.Get("data"); !v.CopiedUp {
		t.Error("finished copy-up not recorded")
	}
	if v, _ := m2.Get("half"); v.CopiedUp {
		t.Error("partial copy-up recorded as done")
	}
	assertNoTemp(t, root)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "x"), []byte("x"), 0o644)
	if copied, err := m2.CopyUp("half", src); err != nil || !copied {
		t.Errorf("CopyUp after an interrupted one = %v, %v", copied, err)
	}
}

// A move left unfinished by a failed call (not by a crash, so Open did not
// run) is finished by the next CopyUp, not mistaken for user data.
func TestCopyUpResumesUnfinishedMove(t *testing.T) {
	root := t.TempDir()
	m := openT(t, root)
	v := mustCreate(t, m, "data", nil)
	os.MkdirAll(filepath.Join(root, "data", stagingDir, "late"), 0o755)
	os.WriteFile(filepath.Join(v.Mountpoint, "early"), []byte("e"), 0o644)
	md, _ := readMeta(filepath.Join(root, "data", metaFile))
	md.CopyUp = copyUpMoving
	writeMeta(filepath.Join(root, "data", metaFile), md)

	if _, err := m.CopyUp("data", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if got := listTree(t, v.Mountpoint); got != "early,late" {
		t.Errorf("volume holds %s, want early,late", got)
	}
	if v, _ := m.Get("data"); !v.CopiedUp {
		t.Error("resumed copy-up not recorded")
	}
	assertNoTemp(t, root)
}
