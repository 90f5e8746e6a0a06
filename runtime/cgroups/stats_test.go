package cgroups

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/reconciler/reconciler/internal/testutil"
)

// On this v1 host: a busy process in a limited group shows CPU time,
// memory use under the limit, the limit and its task count.
func TestStatsV1(t *testing.T) {
	testutil.NeedRoot(t, "cgroup directories")
	if IsV2() {
		t.Skip("host uses cgroup v2 (see TestStatsV2Tree)")
	}
	g, err := Create("", testID(), Resources{MemoryBytes: 64 << 20, PidsLimit: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Remove()
	// Born in the group (Start), so its memory is charged there too.
	busy := exec.Command("sh", "-c", "while :; do :; done")
	if err := g.Start(busy); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Process.Kill(); busy.Wait() })
	var s Stats
	testutil.Eventually(t, 10e9, "CPU time charged to the group", func() bool {
		s, err = g.Stats()
		if err != nil {
			t.Fatal(err)
		}
		return s.CPU.Total > 0 && s.CPU.User+s.CPU.System > 0
	})
	var perCPU uint64
	for _, n := range s.CPU.PerCPU {
		perCPU += n
	}
	if len(s.CPU.PerCPU) == 0 || perCPU == 0 {
		t.Errorf("per-CPU usage %v", s.CPU.PerCPU)
	}
	if m := s.Memory; m.Limit != 64<<20 || m.Usage == 0 || m.Usage > m.Limit || m.Stat["total_inactive_file"] > m.Usage+1 || len(m.Stat) == 0 {
		t.Errorf("memory %+v", m)
	}
	if s.Pids != (PidsStats{Current: 1, Limit: 20}) {
		t.Errorf("pids %+v, want 1 of 20", s.Pids)
	}

	// No limits: 0, not the kernel's huge "unlimited" value.
	if err := g.Set(Resources{}); err != nil {
		t.Fatal(err)
	}
	if s, err = g.Stats(); err != nil || s.Memory.Limit != 0 || s.Pids.Limit != 0 {
		t.Errorf("unlimited: memory limit %d, pids limit %d, %v", s.Memory.Limit, s.Pids.Limit, err)
	}
}

// The v2 reader, on a fake group directory as the kernel lays it out.
func TestStatsV2Tree(t *testing.T) {
	d := t.TempDir()
	for name, content := range map[string]string{
		"cpu.stat":       "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n",
		"memory.current": "1048576\n",
		"memory.peak":    "2097152\n",
		"memory.max":     "67108864\n",
		"memory.events":  "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
		"memory.stat":    "anon 4096\nfile 8192\ninactive_file 4096\n",
		"pids.current":   "3\n",
		"pids.max":       "max\n",
		"io.stat":        "8:0 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=5 wbytes=0\n",
	} {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g := &Group{ID: "x", Dirs: map[string]string{"": d}, v2: true}
	s, err := g.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{
		CPU:    CPUStats{Total: 2500000, User: 2000000, System: 500000, Periods: 10, ThrottledPeriods: 2, ThrottledTime: 300000},
		Memory: MemoryStats{Usage: 1 << 20, MaxUsage: 2 << 20, Limit: 64 << 20, Failcnt: 4, Stat: map[string]uint64{"anon": 4096, "file": 8192, "inactive_file": 4096}},
		Pids:   PidsStats{Current: 3},
		IO:     []IOStat{{Major: 8, Minor: 0, Read: 1024, Write: 2048}, {Major: 253, Minor: 1, Read: 5}},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}

	// Controllers the parent did not enable leave their parts zero.
	for _, f := range []string{"memory.current", "memory.peak", "memory.max", "memory.events", "memory.stat", "pids.current", "pids.max", "io.stat"} {
		os.Remove(filepath.Join(d, f))
	}
	if s, err = g.Stats(); err != nil || s.CPU.Total != 2500000 || s.Memory.Usage != 0 || s.Pids.Current != 0 {
		t.Errorf("cpu only: %+v, %v", s, err)
	}
	// A group that is gone is an error.
	os.RemoveAll(d)
	if _, err := g.Stats(); err == nil {
		t.Error("Stats of a removed group: no error")
	}
}

func TestReadHost(t *testing.T) {
	old := ProcStat
	t.Cleanup(func() { ProcStat = old })
	ProcStat = filepath.Join(t.TempDir(), "stat")
	os.WriteFile(ProcStat, []byte("cpu  100 1 50 1000 9 0 40 7 0 0\ncpu0 50 0 25 500 4 0 20 3 0 0\ncpu1 50 1 25 500 5 0 20 4 0 0\nintr 12345\nctxt 99\n"), 0o644)
	h, err := ReadHost()
	if err != nil {
		t.Fatal(err)
	}
	// user..softirq (steal left out, as dockerd does), in ns of USER_HZ ticks.
	if h.CPUTime != 1200*1e7 || h.OnlineCPUs != 2 || h.Memory == 0 {
		t.Errorf("host %+v", h)
	}
}
