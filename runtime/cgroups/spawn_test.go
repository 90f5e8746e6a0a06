package cgroups

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/internal/testutil"
)

// startIn starts sleep born in g and checks where it and we are.
func startIn(t *testing.T, g *Group, want string) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := g.Start(cmd); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cgroup")
	if !strings.Contains(string(b), want) {
		t.Fatalf("child not born in %s:\n%s", want, b)
	}
	// None of our threads stayed behind: removing the group (which kills
	// what is left in it) must not touch us.
	pids, err := g.Pids()
	if err != nil || len(pids) != 1 || pids[0] != cmd.Process.Pid {
		t.Fatalf("group holds %v (%v), want only the child %d", pids, err, cmd.Process.Pid)
	}
}

func TestStartIsBornInTheGroupV1(t *testing.T) {
	testutil.NeedRoot(t, "cgroup directories")
	if IsV2() {
		t.Skip("v1 host needed")
	}
	id := testID()
	g, err := Create("reconciler-test", id, Resources{})
	if err != nil {
		t.Fatal(err)
	}
	defer removeWithParent(g)
	for i := 0; i < 20; i++ { // the goroutine lands on various threads
		startIn(t, g, ":/reconciler-test/"+id)
	}
	if err := g.Rename(id + "-renamed"); err != nil {
		t.Fatal(err)
	}
	for c, d := range g.Dirs {
		if filepath.Base(d) != id+"-renamed" {
			t.Errorf("%s: %s not renamed", c, d)
		}
	}
	startIn(t, g, ":/reconciler-test/"+id+"-renamed")
}

func TestStartIsBornInTheGroupV2(t *testing.T) {
	useV2(t)
	id := testID()
	g, err := Create("reconciler-test", id, Resources{})
	if err != nil {
		t.Fatal(err)
	}
	defer removeWithParent(g)
	startIn(t, g, "0::/reconciler-test/"+id)
	if err := g.Rename("other"); err == nil {
		t.Error("a v2 rename was claimed")
	}
}

// removeWithParent removes a test's group, then its parent in every
// hierarchy (one another test still uses stays: rmdir refuses it).
func removeWithParent(g *Group) {
	g.Remove()
	for _, d := range g.Dirs {
		os.Remove(filepath.Dir(d))
	}
}
