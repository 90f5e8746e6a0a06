package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// TestLaunchLeavesTheRuntimeAlone: without an init process the container
// is set up on threads of the runtime that are then thrown away. Its
// cgroup holds its program alone (killing the group cannot hit the
// runtime), and every thread left in the runtime is in the namespaces it
// started in.
func TestLaunchLeavesTheRuntimeAlone(t *testing.T) {
	if !StartsWithoutInit() {
		t.Skip("containers start with an init process here")
	}
	ours := nsOf(t, "self")
	p, _ := startSleeper(t, nil)
	members, err := groupMembers(p.group)
	if err != nil {
		t.Fatal(err)
	}
	for file, got := range members {
		if !slices.Equal(got, []string{itoa(p.Pid())}) {
			t.Errorf("%s holds %v, want the program (%d) alone", file, got, p.Pid())
		}
	}
	if got := nsOf(t, itoa(p.Pid())); got == ours {
		t.Fatalf("the program shares the runtime's namespaces: %s", got)
	}
	tasks, _ := filepath.Glob("/proc/self/task/*")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var changed []string
		for _, task := range tasks {
			if _, err := os.Stat(task); err != nil {
				continue // a thread that ended
			}
			if got := nsOf(t, strings.TrimPrefix(task, "/proc/")); got != ours {
				changed = append(changed, task+": "+got)
			}
		}
		if len(changed) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads of the runtime are left in other namespaces than %s:\n%s", ours, strings.Join(changed, "\n"))
		}
		tasks, _ = filepath.Glob("/proc/self/task/*")
	}
}

// nsOf lists the namespaces of /proc/PROC (a PID, self or
// self/task/TID) that a container gets, and its root.
func nsOf(t *testing.T, proc string) string {
	t.Helper()
	var out []string
	for _, ns := range []string{"mnt", "pid_for_children", "uts", "ipc", "net"} {
		l, err := os.Readlink("/proc/" + proc + "/ns/" + ns)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	root, _ := os.Readlink("/proc/" + proc + "/root")
	return strings.Join(append(out, "root="+root), " ")
}

// TestForkedGivesThePidFirst: Config.Forked learns the container's
// process ID before Start returns.
func TestForkedGivesThePidFirst(t *testing.T) {
	cfg, _ := testConfig(t, "true")
	var forked int
	cfg.Forked = func(pid int) { forked = pid }
	p, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer Cleanup(cfg)
	if st, err := p.Wait(); err != nil || st.Code != 0 {
		t.Fatalf("exit %+v, %v", st, err)
	}
	if forked != p.Pid() {
		t.Fatalf("Forked got %d, the process is %d", forked, p.Pid())
	}
}

// TestUntraceableLaunchStartsWithInit: where the program cannot be forked
// traced (the runtime is itself traced, say by strace -f), the container
// starts with an init process instead.
func TestUntraceableLaunchStartsWithInit(t *testing.T) {
	cfg, out := testConfig(t, "sh", "-c", "echo $$")
	if !canLaunch(&cfg) {
		t.Skip("containers start with an init process here")
	}
	defer func(l func(*nsinit.Staged, *nsinit.Spec, [3]int, nsinit.Tasks, func(int)) (*nsinit.Launched, error)) {
		launchOnThread = l
	}(launchOnThread)
	launchOnThread = func(ahead *nsinit.Staged, _ *nsinit.Spec, _ [3]int, _ nsinit.Tasks, _ func(int)) (*nsinit.Launched, error) {
		if ahead != nil {
			ahead.Close()
		}
		return nil, nsinit.ErrUntraceable
	}
	if st := runContainer(t, cfg); st.Code != 0 || out.String() != "1\n" {
		t.Fatalf("exit %+v, output %q", st, out)
	}
}

// TestWhatKeepsTheInitProcess: a stdin fed from a reader (not a file) and
// a mount under /proc (mounted before /proc is, it would be hidden) keep
// a container on the init process.
func TestWhatKeepsTheInitProcess(t *testing.T) {
	if !StartsWithoutInit() {
		t.Skip("containers start with an init process here")
	}
	for _, c := range []struct {
		what string
		edit func(*Config)
		want bool
	}{
		{"plain", func(*Config) {}, true},
		{"stdin a file", func(c *Config) { c.Stdin = os.Stdin }, true},
		{"stdin a reader", func(c *Config) { c.Stdin = strings.NewReader("x") }, false},
		{"terminal with a reader", func(c *Config) { c.Stdin, c.Tty = strings.NewReader("x"), true }, true},
		{"mount under /proc", func(c *Config) { c.Mounts = []Mount{{Type: "tmpfs", Target: "/proc/x/../driver"}} }, false},
		{"mount at /proc", func(c *Config) { c.Mounts = []Mount{{Type: "bind", Source: "/tmp", Target: "/proc/"}} }, false},
		{"mount beside /proc", func(c *Config) { c.Mounts = []Mount{{Type: "tmpfs", Target: "/process"}} }, true},
		{"file under /proc", func(c *Config) { c.Files = []File{{Target: "/proc/version", Data: "x"}} }, false},
	} {
		cfg := Config{}
		c.edit(&cfg)
		if got := canLaunch(&cfg); got != c.want {
			t.Errorf("%s: launches without an init %v, want %v", c.what, got, c.want)
		}
	}
}
