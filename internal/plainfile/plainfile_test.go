package plainfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 511, 512, 513, 4096, 100000} {
		want := bytes.Repeat([]byte{'x'}, size)
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("size %d: read %d bytes, %v", size, len(got), err)
		}
	}
	// /proc files say size 0 and hold more than the first buffer.
	got, err := ReadFile("/proc/self/maps")
	if err != nil || !strings.Contains(string(got), "[stack]") {
		t.Fatalf("/proc/self/maps: %d bytes, %v", len(got), err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !os.IsNotExist(err) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing file: %v, want a not-exist error naming it", err)
	}
}

func TestWriteFileAndOpen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := WriteFile(p, []byte("long content"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("short"), 0o640); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "short" {
		t.Fatalf("content %q after a shorter write, want it truncated", b)
	}
	f, err := Open(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("+more"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "short+more" {
		t.Fatalf("content %q, want the append", b)
	}
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
	if err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Fatalf("descriptor flags %#x, %v: want close-on-exec", flags, err)
	}
}

func TestCreateTemp(t *testing.T) {
	dir := t.TempDir()
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	random.Store(0) // unseeded, as in a new process
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		f, err := CreateTemp(dir, ".tmp-x-")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		name := filepath.Base(f.Name())
		if !strings.HasPrefix(name, ".tmp-x-") || seen[name] || filepath.Dir(f.Name()) != dir {
			t.Fatalf("name %s (seen before: %v)", f.Name(), seen[name])
		}
		seen[name] = true
		st, err := os.Stat(f.Name())
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, %v: want 0600", st.Mode(), err)
		}
	}
	// A name taken is skipped, not reused.
	seed := uint32(12345)
	random.Store(seed)
	taken := filepath.Join(dir, ".tmp-y-"+strconv.FormatUint(uint64(seed*1664525+1013904223), 10))
	if err := os.WriteFile(taken, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	random.Store(seed)
	f, err := CreateTemp(dir, ".tmp-y-")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if f.Name() == taken {
		t.Fatal("CreateTemp returned a name that existed")
	}
	if b, _ := os.ReadFile(taken); string(b) != "keep" {
		t.Fatalf("the existing file was changed: %q", b)
	}
}

func TestPipes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		make        func() (r, w *os.File, err error)
		ours, yours int // 0 read end, 1 write end
	}{
		{"PipeFrom", PipeFrom, 0, 1},
		{"PipeTo", PipeTo, 1, 0},
	} {
		r, w, err := tc.make()
		if err != nil {
			t.Fatal(err)
		}
		ends := [2]*os.File{r, w}
		// Only ours is on the poller: a deadline works on it alone.
		if err := ends[tc.ours].SetDeadline(time.Now().Add(time.Hour)); err != nil {
			t.Errorf("%s: our end takes no deadline (%v): not on the poller", tc.name, err)
		}
		if err := ends[tc.yours].SetDeadline(time.Now()); err == nil {
			t.Errorf("%s: the end to give away is on the poller", tc.name)
		}
		for i, f := range ends {
			fl, _ := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
			if fl&unix.FD_CLOEXEC == 0 {
				t.Errorf("%s: end %d is not close-on-exec", tc.name, i)
			}
		}
		if _, err := w.WriteString("hello"); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if b, err := io.ReadAll(r); err != nil || string(b) != "hello" {
			t.Errorf("%s: read %q, %v", tc.name, b, err)
		}
		r.Close()
	}
}
