package tarsafe

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestArchiveRoundTripAndDirNonDir archives a tree (a file, a hardlink, a
// symlink to "/") by descriptor, extracts it elsewhere with an owner, and
// checks that NoOverwriteDirNonDir refuses to turn a directory into a file.
func TestArchiveRoundTripAndDirNonDir(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(src, "top", "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "top", "sub", "f"), []byte("data"), 0o640)
	os.Link(filepath.Join(src, "top", "sub", "f"), filepath.Join(src, "top", "hard"))
	os.Symlink("/", filepath.Join(src, "top", "root"))
	fd, err := unix.Open(src, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var buf bytes.Buffer
	a := NewArchiver(&buf)
	if err := a.Add(context.Background(), fd, "top", "renamed"); err != nil {
		t.Fatal(err)
	}
	a.Close()
	kinds := map[string]byte{}
	for tr := tar.NewReader(bytes.NewReader(buf.Bytes())); ; {
		h, err := tr.Next()
		if err != nil {
			break
		}
		kinds[h.Name] = h.Typeflag
	}
	if kinds["renamed/"] != tar.TypeDir || kinds["renamed/root"] != tar.TypeSymlink || kinds["renamed/hard"] != tar.TypeReg || kinds["renamed/sub/f"] != tar.TypeLink {
		t.Fatalf("entries: %v", kinds)
	}
	owner := &Owner{UID: 1234, GID: 5678}
	if _, err := Extract(context.Background(), dst, bytes.NewReader(buf.Bytes()), Options{Owner: owner}); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(dst, "renamed", "sub", "f"), &st); err != nil || st.Uid != 1234 || st.Gid != 5678 {
		t.Fatalf("extracted file: %v, owner %d:%d", err, st.Uid, st.Gid)
	}

	var file bytes.Buffer
	tw := tar.NewWriter(&file)
	tw.WriteHeader(&tar.Header{Name: "renamed", Typeflag: tar.TypeReg, Mode: 0o644})
	tw.Close()
	_, err = Extract(context.Background(), dst, bytes.NewReader(file.Bytes()), Options{NoOverwriteDirNonDir: true})
	if !errors.Is(err, ErrDirNonDir) {
		t.Fatalf("file over a directory with NoOverwriteDirNonDir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "renamed", "sub", "f")); err != nil {
		t.Fatal("the refused entry removed the directory's contents")
	}
}

// TestArchiveFileSwappedForFIFO: a running container can replace a file
// with a FIFO between the walk's stat and its open; the archiver must fail
// (the file changed), not block forever in open, which would leak its
// goroutine and the container view it holds.
func TestArchiveFileSwappedForFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, "f"), &st); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "f"))
	if err := unix.Mkfifo(filepath.Join(dir, "f"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	done := make(chan error, 1)
	go func() { done <- NewArchiver(&bytes.Buffer{}).header(fd, "f", "f", &st) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a file swapped for a FIFO was archived without error")
		}
	case <-time.After(5 * time.Second):
		// Release the blocked open so the test binary can end.
		if w, err := os.OpenFile(filepath.Join(dir, "f"), os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		t.Fatal("archiving blocked in open of a FIFO that replaced a file")
	}
}
