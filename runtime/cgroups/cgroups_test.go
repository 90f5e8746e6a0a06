package cgroups

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/testutil"
)

func testID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "cgtest-" + hex.EncodeToString(b)
}

// sleeper starts a process to put into groups; it is killed at cleanup.
func sleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestOpenRejectsBadIDs(t *testing.T) {
	for _, id := range []string{"", ".", "..", "a/b", "x\x00"} {
		if _, err := Open("", id); err == nil {
			t.Errorf("Open(%q) accepted", id)
		}
	}
}

func TestV1LimitsMembershipAndRemoval(t *testing.T) {
	testutil.NeedRoot(t, "cgroup directories")
	if IsV2() {
		t.Skip("host uses cgroup v2 (covered by TestV2)")
	}
	id := testID()
	g, err := Create("", id, Resources{MemoryBytes: 64 << 20, NanoCPUs: 1_500_000_000, PidsLimit: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Remove()
	for file, want := range map[string]string{
		filepath.Join(Root, "memory", DefaultParent, id, "memory.limit_in_bytes"):       "67108864",
		filepath.Join(Root, "memory", DefaultParent, id, "memory.memsw.limit_in_bytes"): "67108864",
		filepath.Join(Root, "cpu", DefaultParent, id, "cpu.cfs_quota_us"):               "150000",
		filepath.Join(Root, "pids", DefaultParent, id, "pids.max"):                      "20",
	} {
		if _, err := os.Stat(file); os.IsNotExist(err) && strings.Contains(file, "memsw") {
			continue // kernel without swap accounting
		}
		if got := readTrim(t, file); got != want {
			t.Errorf("%s = %s, want %s", file, got, want)
		}
	}
	// Lifting the limits again works in either order of memsw/limit.
	if err := g.Set(Resources{}); err != nil {
		t.Fatal(err)
	}
	if got := readTrim(t, filepath.Join(Root, "pids", DefaultParent, id, "pids.max")); got != "max" {
		t.Errorf("pids.max after reset = %s", got)
	}
	cmd := sleeper(t)
	if err := g.Add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	pids, err := g.Pids()
	if err != nil || len(pids) != 1 || pids[0] != cmd.Process.Pid {
		t.Fatalf("Pids = %v, %v", pids, err)
	}
	of, err := OfPid(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if of.ID != id || of.Dirs["memory"] != g.Dirs["memory"] || of.Dirs["pids"] != g.Dirs["pids"] {
		t.Fatalf("OfPid = %+v, want %+v", of, g)
	}
	if n, found, err := g.OOMKills(); err != nil || n != 0 || !found {
		t.Fatalf("OOMKills = %d, %v, %v", n, found, err)
	}
	if g.OOMKilled(true) {
		t.Fatal("OOMKilled without any OOM")
	}
	if _, err := g.MemoryUsage(); err != nil {
		t.Fatal(err)
	}
	// Remove kills what is left and deletes every directory; twice is fine.
	if err := g.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("process in the removed group was not killed")
	}
	for _, d := range g.Dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists", d)
		}
	}
	if err := g.Remove(); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
}

// TestV2 runs the v2 code path on the host's unified mount (the whole
// tree on a v2 host, the controller-less /sys/fs/cgroup/unified on a
// hybrid one, where only membership can be checked).
func TestV2(t *testing.T) {
	useV2(t)
	controllers, _ := os.ReadFile(filepath.Join(Root, "cgroup.controllers"))
	hasPids := strings.Contains(string(controllers), "pids")
	r := Resources{}
	if hasPids {
		r.PidsLimit = 7
	}
	id := testID()
	g, err := Create("reconciler-test", id, r)
	if err != nil {
		t.Fatal(err)
	}
	defer removeWithParent(g)
	if !g.v2 || g.Dirs[""] != filepath.Join(Root, "reconciler-test", id) {
		t.Fatalf("group %+v", g)
	}
	if hasPids {
		if got := readTrim(t, filepath.Join(g.Dirs[""], "pids.max")); got != "7" {
			t.Errorf("pids.max = %s", got)
		}
	} else if _, err := Create("reconciler-test", id, Resources{PidsLimit: 5}); err == nil {
		t.Error("a pids limit without the pids controller was silently ignored")
	}
	cmd := sleeper(t)
	if err := g.Add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cgroup")
		if strings.Contains(string(b), "0::/reconciler-test/"+id) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process not in the v2 group: %s", b)
		}
	}
	if err := g.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g.Dirs[""]); !os.IsNotExist(err) {
		t.Fatal("v2 group not removed")
	}
}

func TestIsV2(t *testing.T) {
	var st unix.Statfs_t
	if err := unix.Statfs(Root, &st); err != nil {
		t.Skip(err)
	}
	if IsV2() != (st.Type == unix.CGROUP2_SUPER_MAGIC) {
		t.Fatal("IsV2 disagrees with statfs")
	}
}

// useV2 points Root at a cgroup2 mount for the test: the host's, or the
// unified one of a hybrid host; it skips without one.
func useV2(t *testing.T) {
	t.Helper()
	testutil.NeedRoot(t, "cgroup directories")
	old := Root
	t.Cleanup(func() { Root = old })
	if !IsV2() {
		Root = filepath.Join(old, "unified")
		if !IsV2() {
			t.Skip("no cgroup2 mount")
		}
	}
}
