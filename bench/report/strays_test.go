package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStray: only a shim adopted by init whose container is in a test's
// temporary folder is a stray of an interrupted run.
func TestStray(t *testing.T) {
	tmp := os.TempDir()
	for _, c := range []struct {
		s    shimProc
		want bool
	}{
		{shimProc{ppid: 1, dir: filepath.Join(tmp, "BenchmarkConverge123/002/containers/abc")}, true},
		{shimProc{ppid: 1, dir: filepath.Join(tmp, "TestVolumes456/001/abc")}, true},
		{shimProc{ppid: 4321, dir: filepath.Join(tmp, "BenchmarkConverge123/002/containers/abc")}, false}, // its test still runs
		{shimProc{ppid: 1, dir: "/var/lib/reconciler/containers/abc"}, false},                             // a user's container
		{shimProc{ppid: 1, dir: filepath.Join(tmp, "mine/containers/abc")}, false},
		{shimProc{ppid: 1}, false}, // a spare
	} {
		if got := c.s.stray(); got != c.want {
			t.Errorf("%+v: stray = %v, want %v", c.s, got, c.want)
		}
	}
}
