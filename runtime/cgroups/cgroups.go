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
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/plainfile"
)

// DefaultParent is the group under which containers' groups are created.
const DefaultParent = "reconciler"

// Resources are the limits of one container; zero means unlimited.
type Resources struct {
	MemoryBytes int64 // hard memory limit (no swap on top of it)
	NanoCPUs    int64 // CPU quota in billionths of a CPU, like docker run --cpus
	PidsLimit   int64 // maximum number of tasks
}

// Group is one container's control group, spread over one directory per
// v1 hierarchy or a single v2 directory.
type Group struct {
	ID string
	// Dirs maps a v1 controller name (memory, cpu, pids, ...) to the group's
	// directory in that hierarchy; on v2 the key "" holds the only directory.
	Dirs map[string]string
	v2   bool
}

// V2 says whether the group is a cgroup v2 (unified) one.
func (g *Group) V2() bool { return g.v2 }

// Root is the mount point of the cgroup file systems; a variable so tests
// can point it elsewhere.
var Root = "/sys/fs/cgroup"

// v1Controllers are the hierarchies a container joins on a v1 host: the
// limited ones plus accounting, so stats and limits agree.
var v1Controllers = []string{"memory", "cpu", "cpuacct", "pids"}

// IsV2 reports whether Root is a unified (cgroup2) mount.
func IsV2() bool { return mounted().v2 }

// layout is what is mounted at root: a unified hierarchy, or these of
// v1Controllers. Hierarchies are mounted at boot, not under running
// containers, so it is looked up once per Root (as runc does), not at
// each of the several opens of a group a container's start and removal
// make.
type layout struct {
	root string
	v2   bool
	v1   []string
}

var lastLayout atomic.Pointer[layout]

func mounted() *layout {
	root := Root
	if l := lastLayout.Load(); l != nil && l.root == root {
		return l
	}
	l := &layout{root: root}
	var st unix.Statfs_t
	if unix.Statfs(root, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		l.v2 = true
	} else {
		for _, c := range v1Controllers {
			if _, err := os.Stat(filepath.Join(root, c)); err == nil {
				l.v1 = append(l.v1, c)
			}
		}
	}
	// A look before anything is mounted is not kept.
	if l.v2 || len(l.v1) > 0 {
		lastLayout.Store(l)
	}
	return l
}

// Open returns the group of container id under parent ("" = DefaultParent)
// without touching the file system (but to learn, once, what is mounted).
func Open(parent, id string) (*Group, error) {
	if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return nil, fmt.Errorf("cgroups: invalid container id %q", id)
	}
	if parent == "" {
		parent = DefaultParent
	}
	g := &Group{ID: id, Dirs: map[string]string{}}
	l := mounted()
	if l.v2 {
		g.v2 = true
		g.Dirs[""] = filepath.Join(l.root, parent, id)
		return g, nil
	}
	for _, c := range l.v1 {
		g.Dirs[c] = filepath.Join(l.root, c, parent, id)
	}
	if len(g.Dirs) == 0 {
		return nil, fmt.Errorf("cgroups: no cgroup v1 controllers or v2 mount found under %s", l.root)
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
		avail, _ := plainfile.ReadFile(filepath.Join(cur, "cgroup.controllers"))
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
		b, err := plainfile.ReadFile(filepath.Join(d, "cgroup.procs"))
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

// Rename gives the group, processes and all, the name id under the same
// parent. Moving a process into a group takes a lock whose writers wait
// for an RCU grace period (milliseconds when the system was idle); a
// group made and joined ahead of need, then renamed, keeps that wait off
// a container's start. Only v1 hierarchies can rename (v2 refuses with
// EPERM); an existing empty group of that name is replaced.
func (g *Group) Rename(id string) error {
	if _, err := Open("", id); err != nil {
		return err
	}
	if g.v2 {
		return fmt.Errorf("cgroups: rename %s: %w", g.ID, unix.EPERM)
	}
	dirs := map[string]string{}
	for c, d := range g.Dirs {
		to := filepath.Join(filepath.Dir(d), id)
		err := os.Rename(d, to)
		if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EBUSY) {
			if err = unix.Rmdir(to); err == nil {
				err = os.Rename(d, to)
			}
		}
		if err != nil {
			// Back to one name everywhere, so Remove finds it all.
			for c, to := range dirs {
				os.Rename(to, g.Dirs[c])
			}
			return fmt.Errorf("cgroups: rename %s to %s: %w", d, id, err)
		}
		dirs[c] = to
	}
	g.ID, g.Dirs = id, dirs
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
		if b, err := plainfile.ReadFile(filepath.Join(d, "cgroup.procs")); err == nil {
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
// /proc/PID/cgroup: what a PID names may change once that process is
// waited for (see OfProc).
func OfPid(pid int) (*Group, error) {
	return ofProcFile(fmt.Sprintf("/proc/%d/cgroup", pid))
}

// OfProc is OfPid for the process whose /proc directory proc is (open
// with O_PATH): it fails once that process is gone, even if another took
// its PID.
func OfProc(proc *os.File) (*Group, error) {
	return ofProcFile(fmt.Sprintf("/proc/self/fd/%d/cgroup", proc.Fd()))
}

// ofProcFile reads the groups listed in a /proc/.../cgroup file.
func ofProcFile(path string) (*Group, error) {
	b, err := plainfile.ReadFile(path)
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
