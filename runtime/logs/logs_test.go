package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func collect(t *testing.T, s *Stream) []string {
	t.Helper()
	var out []string
	for {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Stream+":"+string(e.Line))
	}
}

func TestWriteRotateTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := OpenWriter(path, 200, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		stream := Stdout
		if i%2 == 1 {
			stream = Stderr
		}
		if err := w.Write(Entry{Stream: stream, Time: time.Now(), Line: []byte(fmt.Sprintf("line %d\n", i))}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	for _, name := range []string{"c.log", "c.log.1", "c.log.2"} {
		st, err := os.Stat(filepath.Join(filepath.Dir(path), name))
		if err != nil {
			t.Fatalf("rotation: %v", err)
		}
		if st.Size() > 200 {
			t.Errorf("%s is %d bytes, over the 200 limit", name, st.Size())
		}
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Errorf("more than 3 files kept")
	}
	got := collect(t, Read(context.Background(), path, ReadOptions{Tail: 3}))
	want := []string{"stderr:line 17\n", "stdout:line 18\n", "stderr:line 19\n"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tail 3 = %q, want %q", got, want)
	}
	got = collect(t, Read(context.Background(), path, ReadOptions{Tail: TailAll, Stderr: true}))
	if len(got) == 0 || got[len(got)-1] != "stderr:line 19\n" {
		t.Errorf("stderr only = %q", got)
	}
	for _, l := range got {
		if !strings.HasPrefix(l, "stderr:") {
			t.Errorf("stdout entry in stderr-only read: %q", l)
		}
	}
}

func TestCopySplitsLongLinesAndPartials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, _ := OpenWriter(path, 0, 0)
	long := strings.Repeat("x", MaxLine+10) + "\n"
	if err := w.Copy(Stdout, strings.NewReader("a\n"+long+"tail")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got := collect(t, Read(context.Background(), path, ReadOptions{Tail: TailAll}))
	if len(got) != 4 || got[0] != "stdout:a\n" || got[3] != "stdout:tail" || len(got[1]) != len("stdout:")+MaxLine {
		t.Errorf("entries: %d, first %q last %q", len(got), got[0], got[len(got)-1])
	}
}

// Copy rotates between entries: every file holds whole entries within
// the limit, and all lines are there, in order.
func TestCopyRotatesBetweenEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, _ := OpenWriter(path, 1000, 100)
	var in strings.Builder
	for i := range 500 {
		fmt.Fprintf(&in, "line %d\n", i)
	}
	if err := w.Copy(Stdout, strings.NewReader(in.String())); err != nil {
		t.Fatal(err)
	}
	w.Close()
	files, _ := filepath.Glob(path + ".[0-9]*")
	files = append(files, path)
	if len(files) < 20 {
		t.Fatalf("%d files: the log did not rotate", len(files))
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if len(b) > 1000 || len(b) == 0 || b[len(b)-1] != '\n' {
			t.Errorf("%s: %d bytes, ending %q: not whole entries within the limit", f, len(b), b[max(0, len(b)-3):])
		}
	}
	got := collect(t, Read(context.Background(), path, ReadOptions{Tail: TailAll}))
	if len(got) != 500 {
		t.Fatalf("%d entries, want 500", len(got))
	}
	for i, l := range got {
		if want := fmt.Sprintf("stdout:line %d\n", i); l != want {
			t.Fatalf("entry %d = %q, want %q", i, l, want)
		}
	}
}

func TestFollowAcrossRotationAndStop(t *testing.T) {
	eachWakeUp(t, followAcrossRotationAndStop)
}

func followAcrossRotationAndStop(t *testing.T, poll bool) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, _ := OpenWriter(path, 300, 4)
	w.Write(Entry{Stream: Stdout, Time: time.Now(), Line: []byte("before\n")})
	stop := make(chan struct{})
	s := Read(context.Background(), path, ReadOptions{Tail: 0, Follow: true, Stop: stop, Poll: poll})
	const n = 50
	go func() {
		for i := 0; i < n; i++ {
			w.Write(Entry{Stream: Stdout, Time: time.Now(), Line: []byte(fmt.Sprintf("after %d\n", i))})
			// A reader more than 3 rotations behind loses files, as with
			// Docker's json-file; keep the writer at a human pace.
			time.Sleep(time.Millisecond)
		}
		close(stop)
	}()
	got := collect(t, s)
	if len(got) != n || got[0] != "stdout:after 0\n" || got[n-1] != fmt.Sprintf("stdout:after %d\n", n-1) {
		t.Fatalf("followed %d entries (want %d): first %q", len(got), n, got)
	}
}

func TestSinceAndTimestamps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, _ := OpenWriter(path, 0, 0)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		w.Write(Entry{Stream: Stdout, Time: t0.Add(time.Duration(i) * time.Second), Line: []byte("x\n")})
	}
	w.Close()
	s := Read(context.Background(), path, ReadOptions{Tail: TailAll, Since: t0.Add(time.Second)})
	e, err := s.Next()
	if err != nil || !e.Time.Equal(t0.Add(time.Second)) {
		t.Fatalf("since: %v %v", e, err)
	}
	if got := string(e.Format(true)); got != "2026-01-01T00:00:01Z x\n" {
		t.Errorf("Format = %q", got)
	}
	s.Close()
}

// The writer batches only while nobody follows: a follower is seen from
// the moment Read returns until it is closed.
func TestWriterSeesFollowers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := OpenWriter(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	history := Read(context.Background(), path, ReadOptions{Tail: TailAll})
	if w.followed() {
		t.Fatal("a reader of the history alone is taken for a follower")
	}
	collect(t, history)
	s := Read(context.Background(), path, ReadOptions{Follow: true})
	if !w.followed() {
		t.Fatal("a follower is not seen")
	}
	s.Close()
	eventually(t, "the follower to be gone", func() bool { return !w.followed() })
}
