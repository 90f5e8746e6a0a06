package runtime

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/logs"
)

// A removed container's folder comes back as the next container's, with
// nothing of the first in it: not its files, not the mode it gave its
// root directory, not its log.
func TestRemovedFolderIsReusedEmpty(t *testing.T) {
	r := newRuntime(t, false)
	ctx := context.Background()
	first := mustCreate(t, r, boxSpec(t, "first", "echo secret > /secret; mkdir /d; echo x > /d/f; chmod 700 /; echo first-line"))
	mustStart(t, r, first)
	if code := waitExit(t, r, first); code != 0 {
		t.Fatalf("first exited %d", code)
	}
	c, _ := r.Inspect(first)
	ino := inode(t, c.Dir)
	if err := r.Remove(ctx, first, false); err != nil {
		t.Fatal(err)
	}

	second := mustCreate(t, r, boxSpec(t, "second", "ls -a /d /secret; stat -c %a /"))
	c2, _ := r.Inspect(second)
	if got := inode(t, c2.Dir); got != ino {
		t.Errorf("the second container's folder is inode %d, want the first's (%d) reused", got, ino)
	}
	att, _ := r.Attach(ctx, second)
	mustStart(t, r, second)
	out := strings.Join(readAll(t, att), "|")
	waitExit(t, r, second)
	if !strings.Contains(out, "/d: No such file") || !strings.Contains(out, "/secret: No such file") {
		t.Errorf("the second container saw the first's files: %q", out)
	}
	if !strings.Contains(out, "stdout:755") {
		t.Errorf("the second container's / is not mode 755: %q", out)
	}
	all := strings.Join(readAll(t, must(r.Logs(ctx, second, LogOptions{Tail: logs.TailAll}))), "|")
	if strings.Contains(all, "first-line") {
		t.Errorf("the second container's log holds the first's: %q", all)
	}
}

// emptyToSkeleton keeps the folders every container has, empty, reuses
// them unless the container changed them, deletes the rest (without
// taking an open file's content from its reader), makes the empty log
// files anew, and never follows a symbolic link out.
func TestEmptyToSkeleton(t *testing.T) {
	outside := t.TempDir()
	sentinel := filepath.Join(outside, "keep-me")
	os.WriteFile(sentinel, []byte("host file"), 0o644)
	dir := filepath.Join(t.TempDir(), "c")
	for _, d := range []string{"upper/sub", "work/work", "log", "etc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{"upper/a": "a", "upper/sub/b": "b", "log/container.log": "line", "log/container.log.1": "old",
		"shim.log": "shim", "config.json": "{}", "state.json": "{}", "etc/hosts": "h"}
	for p, s := range files {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink(outside, filepath.Join(dir, "upper/link"))
	os.Symlink(outside, filepath.Join(dir, "shim.sock"))
	os.Chmod(filepath.Join(dir, "work/work"), 0)
	os.Chmod(filepath.Join(dir, "upper"), 0o700)
	// overlayfs's own attribute is dropped, the folder kept; a folder
	// with another attribute is made anew.
	overlayAttr := unix.Setxattr(filepath.Join(dir, "upper"), "trusted.overlay.uuid", []byte("0123456789abcdef"), 0) == nil
	userAttr := unix.Setxattr(filepath.Join(dir, "work"), "user.mark", []byte("x"), 0) == nil
	// So is a folder with an inode flag its parent lacks (synchronous
	// writes and no access times, as `chattr +SA` sets them).
	setInodeFlags(t, filepath.Join(dir, "log"), fsSyncFl|fsNoatimeFl)
	upperIno := inode(t, filepath.Join(dir, "upper"))
	// A client attached to the container may still be reading its log.
	logFile, err := os.Open(filepath.Join(dir, "log/container.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	readOpen := bufio.NewReader(logFile)

	if err := emptyToSkeleton(dir); err != nil {
		t.Fatal(err)
	}
	var got []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			entry := rel + " " + fi.Mode().String()
			if !fi.IsDir() {
				entry += fmt.Sprintf(" %d bytes", fi.Size())
			}
			got = append(got, entry)
		}
		return nil
	})
	want := []string{"log drwxr-xr-x", "log/container.log -rw-r----- 0 bytes", "shim.log -rw------- 0 bytes", "upper drwxr-xr-x", "work drwxr-xr-x"}
	if !slices.Equal(got, want) {
		t.Errorf("skeleton:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if b, err := os.ReadFile(sentinel); err != nil || string(b) != "host file" {
		t.Errorf("a file a symbolic link pointed at was touched: %q %v", b, err)
	}
	if b, err := readOpen.ReadString(0); b != "line" {
		t.Errorf("a reader of the log lost its content: %q %v", b, err)
	}
	if overlayAttr && inode(t, filepath.Join(dir, "upper")) != upperIno {
		t.Errorf("upper/ was made anew for overlayfs's uuid attribute")
	}
	if n, _ := unix.Listxattr(filepath.Join(dir, "upper"), nil); n != 0 {
		t.Errorf("upper/ kept %d bytes of attribute names", n)
	}
	// Made anew is checked by what the folder holds, not by its inode
	// number: the file system may give the new folder the number just
	// freed.
	if _, err := unix.Getxattr(filepath.Join(dir, "work"), "user.mark", nil); userAttr && !errors.Is(err, unix.ENODATA) {
		t.Errorf("work/ kept its user attribute (%v)", err)
	}
	dirFlags := mustInodeFlags(t, dir)
	for _, name := range skeletonFolders {
		if got := mustInodeFlags(t, filepath.Join(dir, name)); got != dirFlags {
			t.Errorf("%s has inode flags %#x, its parent %#x", name, got, dirFlags)
		}
	}
}

// Inode flags (include/uapi/linux/fs.h).
const (
	fsSyncFl    = 0x00000008
	fsNoatimeFl = 0x00000080
)

// setInodeFlags adds flags to the folder p's inode flags, where the file
// system has them.
func setInodeFlags(t *testing.T, p string, flags uint32) {
	t.Helper()
	old := mustInodeFlags(t, p)
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(old|flags)); err != nil {
		t.Logf("no inode flags here (%v): that part is not tested", err)
	}
}

func mustInodeFlags(t *testing.T, p string) uint32 {
	t.Helper()
	flags, err := inodeFlags(p)
	if err != nil {
		t.Fatal(err)
	}
	return flags
}

// Folders set aside by a process that ended before emptying them are
// emptied by the next one to open the root.
func TestDirtySkeletonsRecycledAtOpen(t *testing.T) {
	root := t.TempDir()
	dirty := filepath.Join(root, skeletonsDir, dirtyPrefix+"abc")
	if err := os.MkdirAll(filepath.Join(dirty, "upper/x"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dirty, "config.json"), []byte("{}"), 0o600)
	s, err := openSkeletons(root)
	if err != nil {
		t.Fatal(err)
	}
	s.wait()
	dst := filepath.Join(root, "new")
	if !s.take(dst) {
		t.Fatal("no skeleton to take after the dirty one was emptied")
	}
	ents, _ := os.ReadDir(dst)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "log shim.log upper work" {
		t.Errorf("taken skeleton holds %q", names)
	}
	if s.take(filepath.Join(root, "other")) {
		t.Error("took a second skeleton from one")
	}
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// At most maxSkeletons folders are kept; the others are deleted.
func TestSkeletonsBounded(t *testing.T) {
	root := t.TempDir()
	s, err := openSkeletons(root)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < maxSkeletons+2; i++ {
		dir := filepath.Join(root, fmt.Sprintf("c%d", i))
		if err := os.MkdirAll(filepath.Join(dir, "upper/etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		dirty, err := s.setAside(dir)
		if err != nil {
			t.Fatal(err)
		}
		s.recycle(dirty, nil)
	}
	ents, _ := os.ReadDir(filepath.Join(root, skeletonsDir))
	if len(ents) != maxSkeletons {
		t.Errorf("%d folders kept, want %d", len(ents), maxSkeletons)
	}
}
