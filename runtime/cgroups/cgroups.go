// Package cgroups places a container's processes in a control group of its
// own and applies memory, cpu and pids limits to it. It supports the legacy
// v1 layout (one hierarchy per controller under /sys/fs/cgroup/NAME, as on
// hybrid hosts) and the unified v2 layout, detected at run time.
//
// Every container gets the group PARENT/ID (PARENT defaults to "reconciler")
// in each hierarchy, so a group can be found and removed from the ID alone,
// for example by a daemon restarted after a crash.
package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultParent is the group under which containers' groups are created.
const DefaultParent = "reconciler"

// Resources are the limits of one container; zero means unlimited.
type Resources struct {
	MemoryBytes int64 // hard memory limit (no swap on top of it)
	NanoCPUs    int64 // CPU quota in billionths of a CPU, like docker run --cpus
	PidsLimit   int64 // maximum number of tasks
}

// cpuPeriod is the CFS period used with NanoCPUs, Docker's value (100 ms).
const cpuPeriod = 100000

// Group is one container's control group, spread over one directory per
// v1 hierarchy or a single v2 directory.
type Group struct {
	ID string
	// Dirs maps a v1 controller name (memory, cpu, pids, ...) to the group's
	// directory in that hierarchy; on v2 the key "" holds the only directory.
	Dirs map[string]string
	v2   bool
}

// Root is the mount point of the cgroup file systems; a variable so tests
// can point it elsewhere.
var Root = "/sys/fs/cgroup"

// v1Controllers are the hierarchies a container joins on a v1 host: the
// limited ones plus accounting, so stats and limits agree.
var v1Controllers = []string{"memory", "cpu", "cpuacct", "pids"}

// IsV2 reports whether Root is a unified (cgroup2) mount.
func IsV2() bool {
	var st unix.Statfs_t
	if err := unix.Statfs(Root, &st); err != nil {
		return false
	}
	return st.Type == unix.CGROUP2_SUPER_MAGIC
}

// Open returns the group of container id under parent ("" = DefaultParent)
// without touching the file system.
func Open(parent, id string) (*Group, error) {
	if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return nil, fmt.Errorf("cgroups: invalid container id %q", id)
	}
	if parent == "" {
		parent = DefaultParent
	}
	g := &Group{ID: id, Dirs: map[string]string{}}
	if IsV2() {
		g.v2 = true
		g.Dirs[""] = filepath.Join(Root, parent, id)
		return g, nil
	}
	for _, c := range v1Controllers {
		if _, err := os.Stat(filepath.Join(Root, c)); err == nil {
			g.Dirs[c] = filepath.Join(Root, c, parent, id)
		}
	}
	if len(g.Dirs) == 0 {
		return nil, fmt.Errorf("cgroups: no cgroup v1 controllers or v2 mount found under %s", Root)
	}
	return g, nil
}

// Create makes the group (idempotent) and applies r. On v2 it first enables
// the needed controllers in the parents' cgroup.subtree_control.
func Create(parent, id string, r Resources) (*Group, error) {
	g, err := Open(parent, id)
	if err != nil {
		return nil, err
	}
	if g.v2 {
		if err := enableV2Controllers(filepath.Dir(g.Dirs[""])); err != nil {
			return nil, err
		}
	}
	fresh := true
	for _, d := range g.Dirs {
		if err := os.Mkdir(d, 0o755); errors.Is(err, os.ErrNotExist) {
			err = os.MkdirAll(d, 0o755)
		} else if errors.Is(err, os.ErrExist) {
			fresh, err = false, nil
		}
		if err != nil {
			return nil, fmt.Errorf("cgroups: create %s: %w", d, err)
		}
	}
	// A new group starts unlimited: only requested limits need writing.
	if fresh && r == (Resources{}) {
		return g, nil
	}
	if err := g.Set(r); err != nil {
		if fresh {
			g.Remove()
		}
		return nil, err
	}
	return g, nil
}

// enableV2Controllers turns on memory, cpu and pids for the children of
// every directory from Root down to dir, skipping controllers the kernel
// does not offer there.
func enableV2Controllers(dir string) error {
	rel, err := filepath.Rel(Root, dir)
	if err != nil {
		return err
	}
	cur := Root
	parts := []string{}
	if rel != "." {
		parts = strings.Split(rel, string(filepath.Separator))
	}
	for i := 0; ; i++ {
		if err := os.MkdirAll(cur, 0o755); err != nil {
			return fmt.Errorf("cgroups: create %s: %w", cur, err)
		}
		avail, _ := os.ReadFile(filepath.Join(cur, "cgroup.controllers"))
		var want []string
		for _, c := range strings.Fields(string(avail)) {
			if c == "memory" || c == "cpu" || c == "pids" {
				want = append(want, "+"+c)
			}
		}
		if len(want) > 0 {
			if err := writeFile(filepath.Join(cur, "cgroup.subtree_control"), strings.Join(want, " ")); err != nil {
				return err
			}
		}
		if i == len(parts) {
			return nil
		}
		cur = filepath.Join(cur, parts[i])
	}
}

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
			errs = append(errs, writeIfExists(filepath.Join(d, "memory.limit_in_bytes"), lim, true))
			errs = append(errs, writeIfExists(memsw, lim, false))
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

// Add moves process pid (all its threads) into the group.
func (g *Group) Add(pid int) error {
	s := strconv.Itoa(pid)
	for _, d := range g.Dirs {
		if err := writeFile(filepath.Join(d, "cgroup.procs"), s); err != nil {
			return err
		}
	}
	return nil
}

// Pids lists the processes in the group.
func (g *Group) Pids() ([]int, error) {
	for _, d := range g.Dirs {
		b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			return nil, err
		}
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			if p, err := strconv.Atoi(f); err == nil {
				pids = append(pids, p)
			}
		}
		return pids, nil
	}
	return nil, nil
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

// Kill sends SIGKILL to every process left in the group.
func (g *Group) Kill() error {
	pids, err := g.Pids()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGKILL)
	}
	return nil
}

// Remove kills what is left in the group and deletes its directories. It is
// idempotent: a group already gone is not an error.
func (g *Group) Remove() error {
	var errs []error
	for _, d := range g.Dirs {
		if err := rmdir(d); err != nil {
			errs = append(errs, err)
		}
	}
	return firstErr(errs...)
}

// rmdir removes a cgroup directory, killing stragglers and retrying while
// the kernel still counts exiting tasks in it (EBUSY).
func rmdir(d string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := unix.Rmdir(d)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("cgroups: remove %s: %w", d, err)
		}
		if b, err := os.ReadFile(filepath.Join(d, "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(b)) {
				if p, err := strconv.Atoi(f); err == nil {
					syscall.Kill(p, syscall.SIGKILL)
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// OfPid returns the groups process pid belongs to, read from
// /proc/PID/cgroup, so another process (an exec) can join them.
func OfPid(pid int) (*Group, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	g := &Group{Dirs: map[string]string{}, v2: IsV2()}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if g.v2 {
			if parts[0] == "0" {
				g.Dirs[""] = filepath.Join(Root, parts[2])
			}
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			for _, want := range v1Controllers {
				if c == want {
					g.Dirs[c] = filepath.Join(Root, c, parts[2])
				}
			}
		}
	}
	g.ID = filepath.Base(firstDir(g.Dirs))
	return g, nil
}

func firstDir(m map[string]string) string {
	for _, d := range m {
		return d
	}
	return ""
}

func writeFile(path, v string) error {
	if err := os.WriteFile(path, []byte(v), 0); err != nil {
		return fmt.Errorf("cgroups: write %q to %s: %w", v, path, err)
	}
	return nil
}

// writeIfExists writes v to path; a missing file is an error only when the
// value is a requested limit (required), not a reset to the default.
func writeIfExists(path, v string, required bool) error {
	err := writeFile(path, v)
	if err != nil && !required && errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("cgroups: %w", err)
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// readKey reads the value of "key N" in a flat-keyed cgroup file.
func readKey(path, key string) (int64, bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false, fmt.Errorf("cgroups: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == key {
			n, err := strconv.ParseInt(f[1], 10, 64)
			return n, err == nil, err
		}
	}
	return 0, false, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
