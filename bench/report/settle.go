package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// settle waits, before a group of benchmarks, for the machine to be quiet:
// the previous group's files written out (sync) and the CPUs idle for half
// a second (at least 90 %), for 30 s at most. Without it a group measures
// the previous one's writeback and teardown as much as itself (seen here:
// runc run at 40 ms right after the build group, 22 ms on a quiet machine);
// ours and the peers' benchmarks in a group share the same conditions
// either way.
func settle() {
	begin := time.Now()
	syscall.Sync()
	for time.Since(begin) < 30*time.Second {
		a, errA := cpuTimes()
		time.Sleep(500 * time.Millisecond)
		b, errB := cpuTimes()
		if errA != nil || errB != nil {
			return
		}
		if total := b.total - a.total; total > 0 && float64(b.idle-a.idle)/float64(total) >= 0.9 {
			break
		}
	}
	fmt.Fprintf(os.Stderr, "== settled in %.1f s\n", time.Since(begin).Seconds())
}

type cpuTime struct{ idle, total uint64 }

// cpuTimes reads the machine's CPU time (all CPUs) from /proc/stat; idle
// counts iowait too.
func cpuTimes() (cpuTime, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTime{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return cpuTime{}, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var t cpuTime
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return cpuTime{}, err
		}
		t.total += v
		if i == 3 || i == 4 { // idle, iowait
			t.idle += v
		}
	}
	return t, nil
}
