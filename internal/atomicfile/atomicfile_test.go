package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFileReplacesWithMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "new" {
		t.Fatalf("content %q, %v; want new", b, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	assertNoLeftovers(t, dir)
}

// A stream that fails half way leaves the old content and no temporary file.
func TestWriteFromFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "archive.tar")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := io.MultiReader(strings.NewReader("half"), errReader{})
	if err := WriteFrom(p, broken, 0o644); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want one naming %s", err, p)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("content %q, want old", b)
	}
	assertNoLeftovers(t, dir)
}

func TestCreateInAbortAndCommit(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "index.json")
	f, err := CreateIn(tmp, p, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("dropped")
	f.Abort()
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("aborted file exists: %v", err)
	}
	assertNoLeftovers(t, tmp)
	f, err = CreateIn(tmp, p, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort() // a no-op after Commit
	f.WriteString("kept")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "kept" {
		t.Fatalf("content %q, want kept", b)
	}
	if err := f.Commit(); err == nil {
		t.Fatal("second Commit succeeded")
	}
	assertNoLeftovers(t, tmp)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func assertNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, TempPrefix+"*"))
	if len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
}

func TestCommitVolatileReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	for _, content := range []string{"created", "running"} {
		f, err := Create(p, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(content)
		if err := f.CommitVolatile(); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Fatalf("content %q, want %q", b, content)
		}
		if err := f.CommitVolatile(); err == nil {
			t.Fatal("second commit succeeded")
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("folder holds %d entries, want the file alone", len(entries))
	}
}

// A file synced ahead (Sync) is only renamed at the commit; until then
// the target keeps its old content.
func TestSyncAheadOfCommit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	os.WriteFile(p, []byte("old"), 0o600)
	f, err := Create(p, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new"))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("target %q before the commit, want old", b)
	}
	if err := f.CommitVolatile(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("target %q after the commit, want new", b)
	}
	assertNoLeftovers(t, dir)
}

// CommitVolatileKeepingOld replaces the target at once and leaves the old
// content aside, under TempPrefix, until deleteOld; nothing is left after.
func TestCommitVolatileKeepingOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	commit := func(content string) func() {
		t.Helper()
		f, err := Create(path, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(content)
		deleteOld, err := f.CommitVolatileKeepingOld()
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Fatalf("after the commit %s holds %q, want %q", path, b, content)
		}
		return deleteOld
	}
	commit("first")() // nothing to keep
	deleteOld := commit("second")
	entries, _ := os.ReadDir(dir)
	var aside []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), TempPrefix) {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			aside = append(aside, string(b))
		}
	}
	if len(aside) != 1 || aside[0] != "first" {
		t.Errorf("kept aside before deleteOld: %q, want [first]", aside)
	}
	deleteOld()
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left in the folder after deleteOld: %v", entries)
	}
}
