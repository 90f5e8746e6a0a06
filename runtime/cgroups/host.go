package cgroups

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Host is what a group's counters are measured against: docker stats
// shows a container's CPU time as a share of the host's, and its memory
// against the host's when the group has no limit.
type Host struct {
	// CPUTime is the CPU time, in nanoseconds, all CPUs spent since boot
	// (user, nice, system, idle, iowait, irq, softirq: dockerd's sum).
	CPUTime    uint64
	OnlineCPUs int
	Memory     uint64 // bytes of RAM
}

// ProcStat is the kernel's file of CPU times; a variable so tests can
// point it elsewhere.
var ProcStat = "/proc/stat"

// ReadHost reads the host's CPU time, CPU count and memory.
func ReadHost() (Host, error) {
	var h Host
	f, err := os.Open(ProcStat)
	if err != nil {
		return h, fmt.Errorf("cgroups: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 8 && fields[0] == "cpu":
			for _, v := range fields[1:8] {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return h, fmt.Errorf("cgroups: %s: cpu line: %w", ProcStat, err)
				}
				h.CPUTime += n
			}
			h.CPUTime *= 1e9 / clockTicks
		case len(fields) > 0 && strings.HasPrefix(fields[0], "cpu"):
			h.OnlineCPUs++
		}
	}
	if err := sc.Err(); err != nil {
		return h, fmt.Errorf("cgroups: %s: %w", ProcStat, err)
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return h, fmt.Errorf("cgroups: sysinfo: %w", err)
	}
	h.Memory = uint64(si.Totalram) * uint64(si.Unit) // MemTotal
	return h, nil
}
