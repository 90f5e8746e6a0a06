package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// line is the n-th test line; all have the same length, so a file holds a
// known number of them.
func line(n int) Entry {
	return Entry{Stream: Stdout, Time: time.Now(), Line: []byte(fmt.Sprintf("%07d\n", n))}
}

// perFile is how many test lines fit in one file of maxSize bytes.
func perFile(t *testing.T, maxSize int) int {
	b, err := encode(line(0))
	if err != nil {
		t.Fatal(err)
	}
	return maxSize / len(b)
}

func lineNo(t *testing.T, e Entry) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSuffix(string(e.Line), "\n"))
	if err != nil {
		t.Fatalf("entry %q is not a test line", e.Line)
	}
	return n
}

// A slow follower lags the writer by up to three rotations, hundreds of
// times over: every line arrives exactly once, in order. The writer waits
// for the reader so that no file it has not reached yet is deleted; the
// lag itself (where the reader is when files are renamed) varies.
func TestFollowSlowReaderAcrossManyRotations(t *testing.T) {
	eachWakeUp(t, followSlowReader)
}

// eachWakeUp runs test once for each way a follower wakes up: inotify,
// and polling (ReadOptions.Poll).
func eachWakeUp(t *testing.T, test func(t *testing.T, poll bool)) {
	for _, poll := range []bool{false, true} {
		name := "inotify"
		if poll {
			name = "poll"
		}
		t.Run(name, func(t *testing.T) { test(t, poll) })
	}
}

func followSlowReader(t *testing.T, poll bool) {
	const maxSize, n = 4096, 20000
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := OpenWriter(path, maxSize, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ahead := int64(2 * perFile(t, maxSize))
	stop := make(chan struct{})
	// Before the log exists, as an attach before the container starts.
	s := Read(context.Background(), path, ReadOptions{Tail: 0, Follow: true, Stop: stop, Poll: poll})
	defer s.Close()
	var consumed atomic.Int64
	werr := make(chan error, 1)
	go func() {
		defer close(stop)
		for i := 0; i < n; i++ {
			for int64(i)-consumed.Load() > ahead {
				time.Sleep(20 * time.Microsecond)
			}
			if err := w.Write(line(i)); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	for i := 0; ; i++ {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			if i != n {
				t.Fatalf("stream ended after %d lines, want %d", i, n)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := lineNo(t, e); got != i {
			t.Fatalf("entry %d is line %d: lost or repeated across a rotation", i, got)
		}
		consumed.Store(int64(i + 1))
		if i%89 == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".3"); err == nil {
		t.Errorf("more than 3 files kept")
	}
}

// Files a follower holds stay readable when they are deleted (docker run
// --rm removes the container, logs included, right after it exits).
func TestFollowHeldFilesSurviveRemoval(t *testing.T) {
	const maxSize = 4096
	dir := filepath.Join(t.TempDir(), "c")
	os.Mkdir(dir, 0o755)
	path := filepath.Join(dir, "c.log")
	w, _ := OpenWriter(path, maxSize, 3)
	n := 5 * perFile(t, maxSize) / 2 // three files, none deleted yet
	for i := 0; i < n; i++ {
		w.Write(line(i))
	}
	w.Close()
	stop := make(chan struct{})
	s := Read(context.Background(), path, ReadOptions{Tail: TailAll, Follow: true, Stop: stop})
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	close(stop)
	for i := 0; ; i++ {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			if i != n {
				t.Fatalf("read %d lines after removal, want %d", i, n)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := lineNo(t, e); got != i {
			t.Fatalf("entry %d is line %d", i, got)
		}
	}
}

// A stalled follower falls behind by far more than the writer keeps: it
// holds at most one file more than the writer, and then delivers what it
// still has, each line once, in order, up to the last.
func TestFollowStalledReaderBeyondRetention(t *testing.T) {
	const maxSize = 4096
	path := filepath.Join(t.TempDir(), "c.log")
	w, _ := OpenWriter(path, maxSize, 3)
	defer w.Close()
	w.Write(line(0))
	stop := make(chan struct{})
	s := Read(context.Background(), path, ReadOptions{Tail: TailAll, Follow: true, Stop: stop})
	defer s.Close()
	n := 40 * perFile(t, maxSize)
	for i := 1; i < n; i++ {
		w.Write(line(i))
	}
	eventually(t, "the follower to let go of files the writer deleted", func() bool {
		return heldFiles(t, filepath.Dir(path)) <= 4+1 // and the writer's
	})
	close(stop)
	last, count := -1, 0
	for {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got := lineNo(t, e)
		if got <= last {
			t.Fatalf("line %d after line %d: repeated or out of order", got, last)
		}
		last = got
		count++
	}
	if last != n-1 || count >= n {
		t.Errorf("delivered %d lines ending with %d; want fewer than %d ending with %d", count, last, n, n-1)
	}
}

// heldFiles counts this process's open log files in dir, deleted ones
// included (not the followers lock).
func heldFiles(t *testing.T, dir string) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	held := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir+"/") && !strings.HasSuffix(target, followersSuffix) {
			held++
		}
	}
	return held
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Removal deletes the files in any order: a follower that has read
// everything and then sees only rotated files (the current one deleted
// first) does not take them for new ones.
func TestFollowRemovalCurrentFirstNoRepeat(t *testing.T) {
	const maxSize = 4096
	path := filepath.Join(t.TempDir(), "c.log")
	w, _ := OpenWriter(path, maxSize, 3)
	n := 5 * perFile(t, maxSize) / 2
	for i := 0; i < n; i++ {
		w.Write(line(i))
	}
	w.Close()
	stop := make(chan struct{})
	s := Read(context.Background(), path, ReadOptions{Tail: TailAll, Follow: true, Stop: stop})
	defer s.Close()
	for i := 0; i < n; i++ {
		e, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		if got := lineNo(t, e); got != i {
			t.Fatalf("entry %d is line %d", i, got)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	close(stop)
	if e, err := s.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the current file was removed: %q, %v; want the end", e.Line, err)
	}
}
