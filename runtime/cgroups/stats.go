package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/reconciler/reconciler/internal/plainfile"
)

// Stats are a group's resource counters at one moment (docker stats):
// cumulative CPU time, memory use and the group's own limits.
type Stats struct {
	CPU    CPUStats
	Memory MemoryStats
	Pids   PidsStats
	// IO is bytes read and written per device (v2's io.stat; v1 groups
	// do not join the blkio hierarchy, so it stays empty there).
	IO []IOStat
}

// CPUStats are cumulative CPU times in nanoseconds.
type CPUStats struct {
	Total, User, System uint64
	// PerCPU is the total per CPU (v1's cpuacct.usage_percpu; v2 has none).
	PerCPU []uint64
	// Periods, ThrottledPeriods and ThrottledTime (ns) count CFS quota
	// periods, and how many of them the group was throttled in.
	Periods, ThrottledPeriods, ThrottledTime uint64
}

// MemoryStats are in bytes; Limit is 0 when the group is unlimited.
type MemoryStats struct {
	Usage, MaxUsage, Limit, Failcnt uint64
	// Stat is memory.stat as it is (its keys differ between v1 and v2).
	Stat map[string]uint64
}

// PidsStats count the group's tasks; Limit is 0 when unlimited.
type PidsStats struct{ Current, Limit uint64 }

// IOStat is one device's bytes read and written.
type IOStat struct {
	Major, Minor uint64
	Read, Write  uint64
}

// clockTicks is USER_HZ, the unit of cpuacct.stat and /proc/stat: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// unlimitedV1 is the smallest value a v1 limit file shows when no limit
// is set (the kernel rounds LLONG_MAX down to a page).
const unlimitedV1 = 1 << 62

// Stats reads the group's counters. A controller the group is not in
// leaves its part zero; a missing group is an error (the container is
// gone).
func (g *Group) Stats() (Stats, error) {
	if g.v2 {
		return readStatsV2(g.Dirs[""])
	}
	var s Stats
	var errs []error
	if d, ok := g.Dirs["cpuacct"]; ok {
		errs = append(errs, readCPUAcctV1(d, &s.CPU))
	}
	if d, ok := g.Dirs["cpu"]; ok {
		st, err := readFlat(filepath.Join(d, "cpu.stat"))
		s.CPU.Periods, s.CPU.ThrottledPeriods, s.CPU.ThrottledTime = st["nr_periods"], st["nr_throttled"], st["throttled_time"]
		errs = append(errs, err)
	}
	if d, ok := g.Dirs["memory"]; ok {
		errs = append(errs, readMemoryV1(d, &s.Memory))
	}
	if d, ok := g.Dirs["pids"]; ok {
		errs = append(errs, readPids(d, &s.Pids))
	}
	return s, firstErr(errs...)
}

func readCPUAcctV1(d string, c *CPUStats) error {
	total, err := readUint(filepath.Join(d, "cpuacct.usage"))
	if err != nil {
		return err
	}
	c.Total = total
	st, err := readFlat(filepath.Join(d, "cpuacct.stat"))
	if err != nil {
		return err
	}
	c.User, c.System = st["user"]*(1e9/clockTicks), st["system"]*(1e9/clockTicks)
	b, err := plainfile.ReadFile(filepath.Join(d, "cpuacct.usage_percpu"))
	if err != nil {
		return fmt.Errorf("cgroups: %w", err)
	}
	for _, f := range strings.Fields(string(b)) {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return fmt.Errorf("cgroups: cpuacct.usage_percpu: %w", err)
		}
		c.PerCPU = append(c.PerCPU, n)
	}
	return nil
}

func readMemoryV1(d string, m *MemoryStats) error {
	var err error
	read := func(name string, v *uint64) {
		if err == nil {
			*v, err = readUint(filepath.Join(d, name))
		}
	}
	read("memory.usage_in_bytes", &m.Usage)
	read("memory.max_usage_in_bytes", &m.MaxUsage)
	read("memory.limit_in_bytes", &m.Limit)
	read("memory.failcnt", &m.Failcnt)
	if err != nil {
		return err
	}
	if m.Limit >= unlimitedV1 {
		m.Limit = 0
	}
	m.Stat, err = readFlat(filepath.Join(d, "memory.stat"))
	return err
}

// readPids reads pids.current and pids.max (v1 and v2 alike).
func readPids(d string, p *PidsStats) error {
	var err error
	if p.Current, err = readUint(filepath.Join(d, "pids.current")); err != nil {
		return err
	}
	p.Limit, err = readLimit(filepath.Join(d, "pids.max"))
	return err
}

func readStatsV2(d string) (Stats, error) {
	var s Stats
	cpu, err := readFlat(filepath.Join(d, "cpu.stat"))
	if err != nil {
		return s, err
	}
	s.CPU = CPUStats{Total: cpu["usage_usec"] * 1000, User: cpu["user_usec"] * 1000, System: cpu["system_usec"] * 1000,
		Periods: cpu["nr_periods"], ThrottledPeriods: cpu["nr_throttled"], ThrottledTime: cpu["throttled_usec"] * 1000}
	// memory, pids and io exist only where the parent enabled them.
	optional := func(err error) error {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	m := &s.Memory
	var errs []error
	m.Usage, err = readUint(filepath.Join(d, "memory.current"))
	errs = append(errs, optional(err))
	m.MaxUsage, err = readUint(filepath.Join(d, "memory.peak")) // kernel 5.19+
	errs = append(errs, optional(err))
	m.Limit, err = readLimit(filepath.Join(d, "memory.max"))
	errs = append(errs, optional(err))
	if ev, err := readFlat(filepath.Join(d, "memory.events")); err == nil {
		m.Failcnt = ev["max"]
	}
	m.Stat, err = readFlat(filepath.Join(d, "memory.stat"))
	errs = append(errs, optional(err))
	errs = append(errs, optional(readPids(d, &s.Pids)))
	s.IO, err = readIOStat(filepath.Join(d, "io.stat"))
	errs = append(errs, optional(err))
	return s, firstErr(errs...)
}

// readIOStat reads v2's io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ...".
func readIOStat(path string) ([]IOStat, error) {
	b, err := plainfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	var out []IOStat
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var st IOStat
		if _, err := fmt.Sscanf(f[0], "%d:%d", &st.Major, &st.Minor); err != nil {
			return nil, fmt.Errorf("cgroups: %s: device %q: %w", path, f[0], err)
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseUint(v, 10, 64)
			switch k {
			case "rbytes":
				st.Read = n
			case "wbytes":
				st.Write = n
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// readFlat reads a flat-keyed file ("key N" per line) into a map.
func readFlat(path string) (map[string]uint64, error) {
	b, err := plainfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	m := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			if n, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				m[f[0]] = n
			}
		}
	}
	return m, nil
}
