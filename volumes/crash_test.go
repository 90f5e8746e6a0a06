package volumes

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestTwoManagersNoLostUpdates is a daemon and a CLI on the same folder:
// the flock keeps concurrent read-modify-writes of metadata from losing
// each other's changes.
func TestTwoManagersNoLostUpdates(t *testing.T) {
	root := t.TempDir()
	a, b := openT(t, root), openT(t, root)
	mustCreate(t, a, "data", nil)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := a
			if i%2 == 1 {
				m = b
			}
			if err := m.Use("data", fmt.Sprintf("c%02d", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if users, err := b.Users("data"); err != nil || len(users) != 40 {
		t.Errorf("%d users recorded, want 40 (%v)", len(users), err)
	}
	assertNoTemp(t, root)
}

// crashChildEnv makes the test binary a child that writes volume state in
// a loop until it is killed.
const crashChildEnv = "VOLUMES_TEST_CRASH_ROOT"

func TestCrashChild(t *testing.T) {
	root := os.Getenv(crashChildEnv)
	if root == "" {
		t.Skip("helper process for TestKilledMidWriteLeavesConsistentState")
	}
	m, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "ready"), nil, 0o644)
	for i := 0; ; i++ {
		name := fmt.Sprintf("v%d", i%5)
		m.Create(CreateOptions{Name: name, Labels: map[string]string{"n": name}})
		m.Use(name, fmt.Sprintf("c%d", i))
		m.Release(name, fmt.Sprintf("c%d", i-1))
		if i%7 == 0 {
			m.Release(name, fmt.Sprintf("c%d", i))
			m.Remove(name, false)
		}
	}
}

// TestKilledMidWriteLeavesConsistentState SIGKILLs a process in the middle
// of creating, using and removing volumes, then checks that a restart finds
// only complete volumes with readable metadata and no temporary files.
func TestKilledMidWriteLeavesConsistentState(t *testing.T) {
	root := t.TempDir()
	for round := range 3 {
		os.Remove(filepath.Join(root, "ready"))
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+root)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(root, "ready")); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(50+round*50) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		m, err := Open(root)
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		vols, err := m.List(Filter{})
		if err != nil {
			t.Fatalf("round %d: list after SIGKILL: %v", round, err)
		}
		for _, v := range vols {
			if v.Labels["n"] != v.Name {
				t.Errorf("round %d: volume %s has labels %v", round, v.Name, v.Labels)
			}
			if fi, err := os.Stat(v.Mountpoint); err != nil || !fi.IsDir() {
				t.Errorf("round %d: volume %s without data folder: %v", round, v.Name, err)
			}
		}
		t.Logf("round %d: %d volumes after SIGKILL", round, len(vols))
		m.Close()
		os.Remove(filepath.Join(root, "ready"))
		assertNoTemp(t, root)
	}
}
