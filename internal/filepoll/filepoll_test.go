package filepoll

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The interval doubles after every step quiet polls, stops at slowest and
// drops back to fastest on activity.
func TestPace(t *testing.T) {
	p := pace{fastest: time.Millisecond, slowest: 8 * time.Millisecond, step: 2}
	var got []time.Duration
	for i := 0; i < 40; i++ {
		got = append(got, p.next(i == 30)/time.Millisecond)
	}
	want := []time.Duration{1, 2, 2, 4, 4, 8}
	for len(want) < 30 {
		want = append(want, 8)
	}
	want = append(want, 1, 1, 2, 2, 4, 4, 8, 8, 8, 8)
	if !slices.Equal(got, want) {
		t.Errorf("intervals (ms) %v, want %v", got, want)
	}
}

// A file's creation, replacement (rename over it, as atomic writes do),
// growth and removal are each reported under its key, once; an unchanged
// or removed key is not.
func TestChanges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	w := New(64 * time.Millisecond)
	defer w.Close()
	w.Add("a", path)
	w.Add("other", filepath.Join(dir, "other"))
	expect := func(what string) {
		t.Helper()
		select {
		case k := <-w.Changes():
			if k != "a" {
				t.Fatalf("%s: change of %q, want a", what, k)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no change reported", what)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(path, "1")
	expect("create")
	time.Sleep(100 * time.Millisecond) // the poll slows down meanwhile
	write(path+".tmp", "2")
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
	expect("replace")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("more")
	f.Close()
	expect("append")
	os.Remove(path)
	expect("remove")
	w.Remove("a")
	write(path, "again")
	select {
	case k := <-w.Changes():
		t.Fatalf("change of %q reported after Remove", k)
	case <-time.After(200 * time.Millisecond):
	}
}
