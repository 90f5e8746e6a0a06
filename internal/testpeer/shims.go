package testpeer

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/reconciler/reconciler/internal/procstat"
)

// Containerd starts each container's containerd-shim-runc-v2 in a process
// group of its own, so killing dockerd's group leaves the shims and their
// containers running. A shim names its containerd with -address; dockerd's
// managed containerd listens below the exec root, inside the test's folder,
// which is how the cleanup tells this peer's shims from anyone else's.

// shim is a running containerd shim: its PID and its container's ID (-id).
type shim struct {
	pid int
	id  string
}

// shimsUnder returns the containerd shims whose -address lies below dir.
func shimsUnder(dir string) []shim {
	var out []shim
	for _, pid := range pids() {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if err != nil || len(b) == 0 {
			continue // gone, or a zombie: nothing to kill
		}
		if args := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00"); isShimFor(args, dir) {
			out = append(out, shim{pid: pid, id: argValue(args, "id")})
		}
	}
	return out
}

// isShimFor says whether a command line is a containerd shim whose
// -address lies below dir.
func isShimFor(args []string, dir string) bool {
	if len(args) == 0 || !strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") {
		return false
	}
	addr := strings.TrimPrefix(argValue(args, "address"), "unix://")
	return strings.HasPrefix(addr, dir+"/")
}

// argValue returns the value of Go flag name in a command line: -name V,
// --name V, -name=V or --name=V; "" when absent.
func argValue(args []string, name string) string {
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-"+name || a == "--"+name:
			if i+1 < len(args) {
				return args[i+1]
			}
		case strings.HasPrefix(a, "-"+name+"="), strings.HasPrefix(a, "--"+name+"="):
			_, v, _ := strings.Cut(a, "=")
			return v
		}
	}
	return ""
}

// killShims SIGKILLs the shims below dir and every process descended from
// them (their containers), waits up to timeout for all of them to be gone
// and removes the containers' cgroups. It rescans until no shim is left:
// one might have been starting while containerd died. It returns the PIDs
// still alive at the deadline.
func killShims(dir string, timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for {
		shims := shimsUnder(dir)
		if len(shims) == 0 {
			return nil
		}
		roots, ids := make([]int, len(shims)), make([]string, len(shims))
		for i, s := range shims {
			roots[i], ids[i] = s.pid, s.id
		}
		// The tree is read before any kill: a killed shim's children are
		// reparented and could no longer be found through it.
		tree := withDescendants(roots)
		cgroups := containerCgroups(tree, ids)
		for _, pid := range tree {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if left := waitGone(tree, deadline); len(left) > 0 {
			return left
		}
		removeCgroups(cgroups, deadline)
	}
}

// withDescendants returns roots and all their descendants, by the parent
// PIDs in /proc/PID/stat.
func withDescendants(roots []int) []int {
	children := map[int][]int{}
	for _, pid := range pids() {
		if ppid, _, ok := stat(pid); ok {
			children[ppid] = append(children[ppid], pid)
		}
	}
	seen := map[int]bool{}
	var out []int
	queue := append([]int(nil), roots...)
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		out = append(out, pid)
		queue = append(queue, children[pid]...)
	}
	return out
}

// waitGone polls until every PID has exited (a zombie counts as exited:
// its parent, maybe not us, reaps it) or the deadline passes; it returns
// the ones still alive.
func waitGone(pids []int, deadline time.Time) []int {
	for {
		var alive []int
		for _, pid := range pids {
			if _, state, ok := stat(pid); ok && state != 'Z' && state != 'X' {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 || time.Now().After(deadline) {
			return alive
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stat reads a process's parent PID and state; ok is false when it is gone.
func stat(pid int) (ppid int, state byte, ok bool) {
	f, err := procstat.Fields(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

// pids lists the processes in /proc.
func pids() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}
