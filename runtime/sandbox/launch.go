package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"
	"syscall"

	"github.com/reconciler/reconciler/internal/osthread"
	"github.com/reconciler/reconciler/runtime/cgroups"
	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// Where the kernel allows it (nsinit.Launchable), Start runs no init
// process: a thread of the caller sets the container up and forks the
// program as its PID 1, stopped before its first instruction until its
// /proc, cgroup and limits are in place (see nsinit.Launch). That saves
// loading and initializing a second Go runtime for every container: about
// three quarters of the CPU a start took with an init process.

// launchOnThread is nsinit.Launch (a variable for tests).
var launchOnThread = nsinit.Launch

// launchable is whether this kernel can launch without an init.
var launchable = sync.OnceValue(nsinit.Launchable)

// InitProcessEnv, set to 1 in the environment of the runtime (and so of
// its shims), makes every container start with an init process even
// where the kernel allows without: for comparisons, and as a way out
// should a kernel misbehave. Tests run both ways.
const InitProcessEnv = "RECONCILER_INIT_PROCESS"

var withInitProcess = os.Getenv(InitProcessEnv) == "1"

// StartsWithoutInit says whether containers start without an init
// process here (the kernel allows it, and InitProcessEnv does not forbid
// it); a Config that cannot (see canLaunch) still gets one.
func StartsWithoutInit() bool { return !withInitProcess && launchable() }

// canLaunch says whether cfg can start without an init process. Its stdin
// must be a file or nothing (a pipe fed from a reader would outlive the
// start), and no mount may go under /proc, which is mounted last.
func canLaunch(cfg *Config) bool {
	if !StartsWithoutInit() {
		return false
	}
	if _, isFile := cfg.Stdin.(*os.File); cfg.Stdin != nil && !isFile && !cfg.Tty {
		return false
	}
	for _, t := range mountTargets(cfg) {
		if t = path.Clean(t); t == "/proc" || strings.HasPrefix(t, "/proc/") {
			return false
		}
	}
	return true
}

func mountTargets(cfg *Config) []string {
	var ts []string
	for _, m := range cfg.Mounts {
		ts = append(ts, m.Target)
	}
	for _, f := range cfg.Files {
		ts = append(ts, f.Target)
	}
	return ts
}

// launchContainer is Start without an init process, on t (see
// launchThread.run).
func launchContainer(cfg *Config, spec *nsinit.Spec, t *launchThread) (*Process, error) {
	if err := checkNotRunning(cfg); err != nil {
		t.discard()
		return nil, fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	if !t.fits(spec) {
		t.discard()
		t = nil
	}
	g := t.takeGroup(cfg)
	if g == nil {
		var err error
		if g, err = cgroups.Create(cfg.CgroupParent, cfg.ID, cgroups.Resources{}); err != nil {
			t.discard()
			return nil, fmt.Errorf("container %s: %w", cfg.ID, err)
		}
	}
	p, err := launchIn(g, cfg, spec, t)
	if err != nil {
		g.Remove()
		return nil, fmt.Errorf("container %s: %w", cfg.ID, err)
	}
	return p, nil
}

func launchIn(g *cgroups.Group, cfg *Config, spec *nsinit.Spec, t *launchThread) (*Process, error) {
	// Captured here, in the host's mount namespace as it is now: t's
	// copy of it may be older than a file system mounted since.
	binds, err := nsinit.CloneBinds(spec.Mounts)
	if err != nil {
		t.discard()
		return nil, asStartError(err)
	}
	spec.BindFDs = binds
	streams, err := openStreams(helperStreams(stdio{cfg.Stdin, cfg.Stdout, cfg.Stderr}, cfg.Tty))
	if err != nil {
		t.discard()
		nsinit.CloseFDs(binds)
		return nil, err
	}
	// Three threads: t's launches the program, stopped (it must be its
	// tracer, so it lets it run too); prep mounts the container's root
	// where t is locked down (its seccomp filter, loaded ahead, forbids
	// mounts), then its /proc (from the container's mount namespace) and
	// sets its limits, told the PID at the fork, while t waits for the
	// stop; the caller waits for the outcome.
	type launched struct {
		l   *nsinit.Launched
		err error
	}
	ahead := t.lockedDownStage()
	var mounted chan error
	if ahead != nil {
		mounted = make(chan error, 1)
	}
	forked := make(chan int, 1)
	prepared := make(chan error, 1)
	done := make(chan launched, 1)
	t.run(g, mounted, func(ahead *nsinit.Staged, tasks nsinit.Tasks, err error) {
		var l *nsinit.Launched
		told := false
		if err == nil {
			l, err = launchOnThread(ahead, spec, streams.fds(), tasks, func(pid int) {
				told = true
				forked <- pid
			})
		} else {
			nsinit.CloseFDs(spec.BindFDs)
			if ahead != nil {
				ahead.Close()
			}
		}
		if !told {
			close(forked)
		} else if perr := <-prepared; err == nil {
			err = perr
		}
		if err == nil {
			err = cfg.hold()
		}
		if err == nil {
			err = l.Detach()
		}
		// Returning ends the thread; if the program is still traced,
		// it dies with it (PTRACE_O_EXITKILL).
		done <- launched{l, err}
	})
	// Started after the hand-over to t: the next goroutine this thread
	// runs once the caller waits, with no wake-up on the way.
	osthread.Go(func() {
		if ahead != nil {
			mounted <- nsinit.MountRoot(ahead, spec)
		}
		if pid, ok := <-forked; ok {
			prepared <- prepareToRun(cfg, spec, g, pid)
		}
	})
	r := <-done
	streams.started()
	if r.l == nil {
		streams.wait()
		if errors.Is(r.err, nsinit.ErrUntraceable) {
			return nil, r.err
		}
		return nil, asStartError(r.err)
	}
	l := r.l
	fail := func(err error) (*Process, error) {
		syscall.Kill(l.Pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(l.Pid, &ws, syscall.WALL, nil)
		l.Close()
		streams.wait()
		return nil, err
	}
	if r.err != nil {
		return fail(r.err)
	}
	// A group made ahead gets its container's name now, while the
	// program runs, not on the way to its first instruction (ten
	// renames, one per hierarchy: 0.4 ms here). Its limits are set.
	if g.ID != cfg.ID {
		if err := g.Rename(cfg.ID); err != nil {
			return fail(err)
		}
	}
	proc, err := os.FindProcess(l.Pid)
	if err != nil {
		return fail(err)
	}
	var console *os.File
	if l.Console >= 0 {
		if console, err = consoleFile(l.Console); err != nil {
			l.Console = -1 // closed
			return fail(err)
		}
	}
	return &Process{proc: proc, group: g, console: console, mounts: os.NewFile(uintptr(l.MountNS), "mnt"),
		wait: func() (*os.ProcessState, error) {
			st, err := proc.Wait()
			streams.wait()
			return st, err
		}}, nil
}

// prepareToRun does, before the launched program pid runs its first
// instruction, what must be in place by then: its /proc, its cgroup and
// its limits. The /proc mount joins the container's mount namespace,
// last: its thread must be thrown away after.
func prepareToRun(cfg *Config, spec *nsinit.Spec, g *cgroups.Group, pid int) error {
	if cfg.Forked != nil {
		cfg.Forked(pid)
	}
	if g.V2() {
		if err := g.Add(pid); err != nil {
			return err
		}
	}
	if err := setLimits(cfg, g)(pid); err != nil {
		return err
	}
	if err := nsinit.SetRlimits(pid, spec.Rlimits); err != nil {
		return asStartError(err)
	}
	if spec.OOMScoreAdj != 0 {
		if err := nsinit.SetOOMScoreAdj(pid, spec.OOMScoreAdj); err != nil {
			return asStartError(err)
		}
	}
	// Last: the host's files are out of sight after.
	if err := nsinit.MountProc(pid); err != nil {
		return asStartError(err)
	}
	return nil
}

// launchTasks opens, on cgroup v1, the tasks files of g and of the
// calling thread's groups (see nsinit.Tasks), and returns what closes them.
func launchTasks(g *cgroups.Group) (nsinit.Tasks, func(), error) {
	if g.V2() {
		return nsinit.Tasks{}, func() {}, nil
	}
	into, err := g.ThreadTasks()
	if err != nil {
		return nsinit.Tasks{}, nil, err
	}
	home, err := cgroups.OfThread()
	var homeTasks []*os.File
	if err == nil {
		homeTasks, err = home.ThreadTasks()
	}
	closeAll := func() {
		for _, f := range append(into, homeTasks...) {
			f.Close()
		}
	}
	if err != nil {
		closeAll()
		return nsinit.Tasks{}, nil, err
	}
	fds := func(fs []*os.File) []int {
		out := make([]int, len(fs))
		for i, f := range fs {
			out[i] = int(f.Fd())
		}
		return out
	}
	return nsinit.Tasks{Into: fds(into), Home: fds(homeTasks)}, closeAll, nil
}

// asStartError makes the failure of a setup step a *StartError, as the
// init reports it.
func asStartError(err error) error {
	return (*StartError)(nsinit.FailureOf(err))
}
