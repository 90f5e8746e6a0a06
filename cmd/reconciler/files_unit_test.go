package main

import "testing"

// TestCpTarget checks docker cp's destination rules.
func TestCpTarget(t *testing.T) {
	stat := map[string][2]bool{"/dir": {true, true}, "/file": {true, false}}
	lookup := func(p string) (bool, bool, error) { s := stat[p]; return s[0], s[1], nil }
	for _, c := range []struct {
		dst          string
		srcIsDir     bool
		into, rename string
		fails        bool
	}{
		{"/dir", false, "/dir", "", false},
		{"/dir", true, "/dir", "", false},
		{"/file", false, "/", "file", false},
		{"/file", true, "", "", true},
		{"/dir/new", true, "/dir", "new", false},
		{"/dir/missing/", false, "", "", true},
	} {
		into, rename, err := cpTarget(c.dst, c.srcIsDir, lookup)
		if (err != nil) != c.fails || into != c.into || rename != c.rename {
			t.Errorf("cpTarget(%q, dir=%v) = %q, %q, %v", c.dst, c.srcIsDir, into, rename, err)
		}
	}
	if got := renamePrefix("./a/b", ".", "new"); got != "new/a/b" {
		t.Errorf("renamePrefix: %q", got)
	}
	if got := renamePrefix("dirx/a", "dir", "new"); got != "dirx/a" {
		t.Errorf("renamePrefix renamed a sibling: %q", got)
	}
}
