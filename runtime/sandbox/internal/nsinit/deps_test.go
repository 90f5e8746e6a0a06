package nsinit

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoHeavyDependencies guards the reason this package exists: it runs
// from a package init before the binary's other packages initialize, which
// only holds while it depends on none of os, fmt and what builds on them
// (see the package comment).
func TestNoHeavyDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "os", "fmt", "encoding/json", "log", "net", "regexp", "path/filepath":
			t.Errorf("nsinit depends on %s: it would no longer run before the heavy package inits", dep)
		}
	}
}
