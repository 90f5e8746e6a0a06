package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// cpuPeriod is the CFS period used with NanoCPUs, Docker's value (100 ms).
const cpuPeriod = 100000

// Set writes the limits of r; limits left at zero are reset to unlimited.
func (g *Group) Set(r Resources) error {
	if g.v2 {
		d := g.Dirs[""]
		mem, swap, pids, cpu := "max", "max", "max", fmt.Sprintf("max %d", cpuPeriod)
		if r.MemoryBytes > 0 {
			mem, swap = strconv.FormatInt(r.MemoryBytes, 10), "0"
		}
		if r.PidsLimit > 0 {
			pids = strconv.FormatInt(r.PidsLimit, 10)
		}
		if r.NanoCPUs > 0 {
			cpu = fmt.Sprintf("%d %d", quota(r.NanoCPUs), cpuPeriod)
		}
		return firstErr(
			writeIfExists(filepath.Join(d, "memory.max"), mem, r.MemoryBytes > 0),
			writeIfExists(filepath.Join(d, "memory.swap.max"), swap, false),
			writeIfExists(filepath.Join(d, "cpu.max"), cpu, r.NanoCPUs > 0),
			writeIfExists(filepath.Join(d, "pids.max"), pids, r.PidsLimit > 0),
		)
	}
	var errs []error
	if d, ok := g.Dirs["memory"]; ok {
		lim := "-1"
		if r.MemoryBytes > 0 {
			lim = strconv.FormatInt(r.MemoryBytes, 10)
		}
		// memsw must stay >= limit_in_bytes: lower it last when limiting,
		// raise it first when unlimiting. memsw == limit means no swap.
		memsw := filepath.Join(d, "memory.memsw.limit_in_bytes")
		if r.MemoryBytes > 0 {
			limit := filepath.Join(d, "memory.limit_in_bytes")
			err := writeIfExists(limit, lim, true)
			if errors.Is(err, unix.EINVAL) {
				// Raising a limit (docker update): memsw goes first.
				if err = writeIfExists(memsw, lim, false); err == nil {
					err = writeIfExists(limit, lim, true)
				}
			}
			errs = append(errs, err, writeIfExists(memsw, lim, false))
		} else {
			errs = append(errs, writeIfExists(memsw, lim, false))
			errs = append(errs, writeIfExists(filepath.Join(d, "memory.limit_in_bytes"), lim, false))
		}
	} else if r.MemoryBytes > 0 {
		errs = append(errs, errors.New("cgroups: memory limit requested but the memory controller is not mounted"))
	}
	if d, ok := g.Dirs["cpu"]; ok {
		q := "-1"
		if r.NanoCPUs > 0 {
			q = strconv.FormatInt(quota(r.NanoCPUs), 10)
			errs = append(errs, writeFile(filepath.Join(d, "cpu.cfs_period_us"), strconv.Itoa(cpuPeriod)))
		}
		errs = append(errs, writeIfExists(filepath.Join(d, "cpu.cfs_quota_us"), q, r.NanoCPUs > 0))
	} else if r.NanoCPUs > 0 {
		errs = append(errs, errors.New("cgroups: cpu limit requested but the cpu controller is not mounted"))
	}
	if d, ok := g.Dirs["pids"]; ok {
		p := "max"
		if r.PidsLimit > 0 {
			p = strconv.FormatInt(r.PidsLimit, 10)
		}
		errs = append(errs, writeIfExists(filepath.Join(d, "pids.max"), p, r.PidsLimit > 0))
	} else if r.PidsLimit > 0 {
		errs = append(errs, errors.New("cgroups: pids limit requested but the pids controller is not mounted"))
	}
	return firstErr(errs...)
}

// quota converts NanoCPUs to a CFS quota for cpuPeriod, at least 1 ms as
// the kernel requires.
func quota(nano int64) int64 {
	q := nano * cpuPeriod / 1e9
	if q < 1000 {
		q = 1000
	}
	return q
}

// OOMKills returns how many processes of the group the kernel's OOM killer
// has killed (v1: memory.oom_control oom_kill; v2: memory.events oom_kill).
// found is false on kernels older than 4.13, which do not count them.
func (g *Group) OOMKills() (n int64, found bool, err error) {
	var file string
	if g.v2 {
		file = filepath.Join(g.Dirs[""], "memory.events")
	} else if d, ok := g.Dirs["memory"]; ok {
		file = filepath.Join(d, "memory.oom_control")
	} else {
		return 0, false, nil
	}
	return readKey(file, "oom_kill")
}

// OOMKilled tells whether the OOM killer struck the group. Without an
// oom_kill counter (old v1 kernels) it infers it, like Docker did, from a
// process that died of SIGKILL in a group that hit its memory limit.
func (g *Group) OOMKilled(diedOfSIGKILL bool) bool {
	n, found, err := g.OOMKills()
	if err != nil {
		return false
	}
	if found {
		return n > 0
	}
	if d, ok := g.Dirs["memory"]; ok && diedOfSIGKILL {
		failed, err := readInt(filepath.Join(d, "memory.failcnt"))
		return err == nil && failed > 0
	}
	return false
}

// MemoryUsage returns the group's current memory use in bytes.
func (g *Group) MemoryUsage() (int64, error) {
	if g.v2 {
		return readInt(filepath.Join(g.Dirs[""], "memory.current"))
	}
	if d, ok := g.Dirs["memory"]; ok {
		return readInt(filepath.Join(d, "memory.usage_in_bytes"))
	}
	return 0, nil
}
