package shim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/plainfile"
	"github.com/reconciler/reconciler/runtime/logs"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// Name is the argv[0] of a shim: the binary re-executed with it
// supervises one container (see shimMain for its descriptors; no
// reexec.Init call is needed, the init below runs it).
const Name = "reconciler-shim"

// The shim runs from this package's init, as soon as its few imports are
// initialized: the heavier packages of the binary (metrics, API clients)
// come later in the init order and never run in a shim. It exits the
// process and never returns to the rest of the program.
func init() {
	if len(os.Args) > 0 && os.Args[0] == Name {
		shimMain()
	}
}

// Restart backoff, like Docker's: 100 ms doubling up to a minute, back to
// the start once a run lasted 10 s.
const (
	backoffStart = 100 * time.Millisecond
	backoffMax   = time.Minute
	backoffReset = 10 * time.Second
)

// The shim runs as "reconciler-shim" (and, optionally, the folder where
// its container's root will be mounted) with fd 3 a pipe on which it
// reports each assignment's first start ({"pid":N,"state":{...}} or
// {"error":"..."}) and the states it records after (see ReadyMsg), and
// fd 4 a pipe on which it is assigned its container (see Assignment:
// its directory, and for a start held at create, its config and then
// the word to go ahead). It is started ahead of need (a spare, Go runtime
// and package inits already paid) and waits on fd 4; EOF there means the
// runtime no longer needs it.
//
// It runs the container through the launcher, copies its stdout and stderr
// into the log, records every transition in state.json, applies the
// restart policy, and serves the control socket DIR/shim.sock until the
// container has exited for good. It needs no daemon: restarts go on while
// the daemon is down. Then it reports {"free":true} and waits on fd 4
// again: the runtime that started it may give it another container, which
// saves starting a shim (see Runtime's spares), or close the pipe.
func shimMain() {
	// Neither pipe may leak into the container, nor anything else this
	// process inherited.
	if err := sandbox.CloseInheritedOnExec(); err != nil {
		os.Exit(1)
	}
	ready := os.NewFile(3, "ready")
	assign := bufio.NewReader(os.NewFile(4, "assign"))
	// Own session already (Setsid); what a terminal or a dying parent
	// could send is caught and dropped, not ignored: an ignored signal
	// stays ignored through the fork and exec of the container's program,
	// which must start with every signal at its default, as under Docker
	// (a caught one is reset there). That takes these over from a parent
	// that ignored them, too (a daemon started under nohup); any other
	// signal inherited ignored goes back to its default.
	signal.Notify(make(chan os.Signal, 1), unix.SIGHUP, unix.SIGPIPE, unix.SIGINT)
	if err := sandbox.DefaultIgnoredSignals(); err != nil {
		os.Exit(1)
	}
	// argv[1], when given, is where the runtime mounts its containers'
	// roots (sandbox.PrestartConfig.RootfsDir).
	var rootfsDir string
	if len(os.Args) > 1 {
		rootfsDir = os.Args[1]
	}
	next := &nextPrestart{rootfsDir: rootfsDir}
	for {
		next.begin() // unless the last container began it
		pre, preErr := next.pre, next.err
		next = &nextPrestart{rootfsDir: rootfsDir}
		warmUp()
		a, err := readAssignment(assign)
		if err != nil {
			pre.discard()
			os.Exit(0) // not (or no more) assigned: the runtime closed or went away
		}
		if a.Procs > 0 && a.Procs != goruntime.GOMAXPROCS(0) {
			goruntime.GOMAXPROCS(a.Procs)
		}
		var hold func() error
		if a.Config != nil {
			hold = sync.OnceValue(func() error { return awaitGo(assign) })
		}
		err = serve(a, hold, ready, pre, preErr, next.begin)
		if err != nil {
			// What the next prestart made (its spare cgroup) must
			// not outlive the shim.
			next.discard()
		}
		if errors.Is(err, errUnwanted) {
			os.Exit(0)
		}
		if err != nil {
			os.Exit(1) // serve logged why
		}
	}
}

// nextPrestart is the prestart for a shim's next container, begun as soon
// as its container is done for good, while the shim still cleans up after
// it (its mounts, its cgroup: 2 ms here), not after: the next start,
// which may come as soon as the shim is free, then finds it ready.
type nextPrestart struct {
	rootfsDir string
	once      sync.Once
	pre       *prestarted
	err       error
}

func (n *nextPrestart) begin() {
	n.once.Do(func() { n.pre, n.err = prestart(n.rootfsDir) })
}

// discard drops what begin made, if it ran, and keeps it from running.
func (n *nextPrestart) discard() {
	n.once.Do(func() {})
	n.pre.discard()
}

// errUnwanted: the runtime can no longer be told the shim is free.
var errUnwanted = errors.New("the runtime is gone")

// serve runs the container of a (see shimMain), holding its folder's lock
// (see Serving), and reports itself free before it lets go of it: the
// runtime may then hand it the next container while it does. hold, for a
// held assignment, waits for the word to go ahead. done is called once
// the container is done for good, before the cleanup.
func serve(a Assignment, hold func() error, ready *os.File, pre *prestarted, preErr error, done func()) (err error) {
	dir := a.Dir
	// Our stderr (/dev/null while we wait) becomes the container's shim
	// log, and /dev/null again after.
	if f, err := plainfile.Open(filepath.Join(dir, ShimLogFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err == nil {
		unix.Dup3(int(f.Fd()), 2, 0)
		f.Close()
		defer func() {
			if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
				unix.Dup3(int(null.Fd()), 2, 0)
				null.Close()
			}
		}()
	}
	defer func() { // into the shim log, still
		if err != nil && !errors.Is(err, errUnwanted) {
			fmt.Fprintf(os.Stderr, "%s shim: %v\n", time.Now().Format(time.RFC3339Nano), err)
		}
	}()
	if preErr != nil {
		fmt.Fprintf(os.Stderr, "%s shim: no prestarted init, starting the usual way: %v\n", time.Now().Format(time.RFC3339Nano), preErr)
	}
	lock, err := lockDir(dir)
	if err != nil {
		pre.discard()
		return reportReady(ready, ReadyMsg{Error: err.Error()}, err)
	}
	defer lock.Close()
	if err := runShim(a, hold, ready, pre, done); err != nil {
		return err
	}
	return reportReady(ready, ReadyMsg{Free: true}, nil)
}

// warmUp does, while the shim waits for its container, what does not
// depend on the container: reading its own start time and the boot ID
// (both recorded in the state), and building encoding/json's codecs for
// the config and the state, which their first use would build in the
// middle of the start.
func warmUp() {
	selfStartTime()
	BootID()
	json.Unmarshal([]byte(`{"Spec":{}}`), new(Config))
	json.Unmarshal([]byte(`{}`), new(State))
	json.MarshalIndent(State{}, "", "  ")
}

// selfStartTime is the shim's own /proc start time, read once.
var selfStartTime = sync.OnceValues(func() (uint64, error) { return ProcStartTime(os.Getpid()) })

type shim struct {
	dir    string
	cfg    *Config
	launch launcher
	log    *logs.Writer
	ready  *os.File // the reports (ReadyMsg) to the runtime

	// pipes are the first run's streams when it uses a prestarted init.
	pipes *runPipes
	// setUp waits until the log and the control socket are made (see
	// runShim) and says whether they could be.
	setUp func() error

	mu      sync.Mutex // guards st, run, manual, pipes
	st      State
	run     *shimRun // the current run, nil between runs
	manual  bool     // a user stopped or killed it: no more restarts
	wake    chan struct{}
	stopSig unix.Signal
	// goAhead, for a held assignment, waits for the word to go ahead
	// (see Assignment); nil otherwise.
	goAhead func() error
	// hooks are given to the launcher by a start in progress (see
	// startRun); guarded by mu.
	hooks runHooks
	// committing, if not nil, is closed once the running state a start
	// prepared is in place (see startRun); guarded by mu.
	committing chan struct{}
	final      chan struct{} // closed once the final state is recorded
	// released is closed once the last run's mounts are gone (its exit
	// recorded first): its layer may then be mounted again. Guarded by mu.
	released chan struct{}
	// holds counts the clients keeping the policy from starting another
	// run (see Hold), guarded by mu; unheld wakes supervise when one
	// lets go.
	holds  int
	unheld chan struct{}

	handlers sync.WaitGroup // control requests in flight
}

type shimRun struct {
	proc    process
	done    chan struct{} // closed when the process exited and the exit is recorded
	copies  chan struct{} // one value per log copier at EOF
	ncopies int
	console *os.File // the terminal's master (Tty), closed by its copier

	stdinMu sync.Mutex
	stdin   *os.File // write end of the container's stdin (OpenStdin), nil once closed
}

// closeStdin gives the container EOF on stdin. A terminal stays open (its
// copier closes it): input just stops, as Docker's does.
func (r *shimRun) closeStdin() {
	r.stdinMu.Lock()
	defer r.stdinMu.Unlock()
	if r.stdin != nil && r.stdin != r.console {
		r.stdin.Close()
	}
	r.stdin = nil
}

// logf writes to the shim's own log (its stderr).
func (s *shim) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s shim: %s\n", time.Now().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
}

// ReadyMsg is what the shim reports on the ready pipe: an assignment's
// first start (Pid or Error), each state it records for a start or an
// exit (State), and that it is free for another.
//
// A State is reported as the shim begins to record it, before its sync:
// the runtime that reads the pipe answers from it at once (see
// Runtime.readState), while the disk catches up a millisecond or two
// later. The first start's report carries its running state.
type ReadyMsg struct {
	Pid   int    `json:"pid,omitempty"`
	Error string `json:"error,omitempty"`
	State *State `json:"state,omitempty"`
	Free  bool   `json:"free,omitempty"`
}

// runShim runs the container of a, on pre (may be nil) if it fits, and
// calls done once it is done for good (not on a failure before its start).
func runShim(a Assignment, hold func() error, ready *os.File, pre *prestarted, done func()) error {
	dir := a.Dir
	cfg, err := a.Config, error(nil)
	if cfg == nil {
		cfg, err = ReadConfig(dir)
	}
	if err != nil {
		pre.discard()
		return reportReady(ready, ReadyMsg{Error: err.Error()}, err)
	}
	// Unless it becomes the first run's, the prestarted init goes.
	defer func() { pre.discard() }()
	if cfg.Launcher != "" {
		pre.discard()
		pre = nil
	}
	// A held start comes with the create: there is no state yet, and
	// perhaps no config.json either (still syncing).
	st := State{Status: StateCreated}
	if hold == nil {
		st, err = ReadState(dir)
	}
	if err == nil {
		err = CheckVolatileLayer(dir, &cfg.Spec, st)
	}
	if err != nil {
		return reportReady(ready, ReadyMsg{Error: err.Error()}, err)
	}
	s := &shim{dir: dir, cfg: cfg, goAhead: hold, ready: ready, st: st, wake: make(chan struct{}, 1), unheld: make(chan struct{}, 1), final: make(chan struct{})}
	s.stopSig = unix.SIGTERM
	if cfg.Spec.StopSignal != "" {
		if s.stopSig, err = ParseSignal(cfg.Spec.StopSignal); err != nil {
			return reportReady(ready, ReadyMsg{Error: err.Error()}, err)
		}
	}
	if s.launch, err = launcherFor(cfg); err != nil {
		return reportReady(ready, ReadyMsg{Error: err.Error()}, err)
	}
	if pre != nil {
		s.launch, s.pipes = &prestartedLauncher{pending: pre.init}, pre.pipes
		pre = nil
	}
	// The log and the control socket are made while the first run
	// starts: they are needed once it runs (its output waits in its
	// pipes), not for the start itself.
	var l *listener
	made := make(chan error, 1)
	go func() {
		var err error
		if s.log, err = logs.OpenWriter(filepath.Join(dir, LogFile), cfg.Spec.LogMaxSize, cfg.Spec.LogMaxFiles); err == nil {
			if l, err = listenDir(dir, SockFile); err != nil {
				s.log.Close()
			}
		}
		made <- err
	}()
	s.setUp = sync.OnceValue(func() error {
		err := <-made
		if err == nil {
			go s.serve(l)
		}
		return err
	})
	defer func() {
		if s.setUp() == nil {
			l.close()
			os.Remove(filepath.Join(dir, SockFile))
			s.log.Close()
		}
	}()

	self, err := selfStartTime()
	if err != nil {
		return reportReady(ready, ReadyMsg{Error: err.Error()}, err)
	}
	s.st.ShimPid, s.st.ShimStartTime, s.st.ShimLocksDir = os.Getpid(), self, true
	s.st.ManualStop, s.st.RestartCount, s.st.Error, s.st.ShimLost = false, 0, "", false
	s.st.BootID = BootID()
	go s.watchDir()
	s.supervise()
	if l, ok := s.launch.(*prestartedLauncher); ok {
		l.discard() // the first run failed before it used the init
	}
	done()
	// A copy: control requests (resize, update) may still change cfg.
	s.mu.Lock()
	final := *cfg
	s.mu.Unlock()
	if err := s.launch.cleanup(dir, &final); err != nil {
		fmt.Fprintf(os.Stderr, "%s shim: cleanup: %v\n", time.Now().Format(time.RFC3339Nano), err)
	}
	close(s.final)
	// Let control clients waiting for the final state read it.
	if s.setUp() == nil {
		l.close()
	}
	handled := make(chan struct{})
	go func() { s.handlers.Wait(); close(handled) }()
	select {
	case <-handled:
	case <-time.After(time.Second):
	}
	return nil
}

// watchDir ends the container when its directory disappears (deleted
// behind the runtime's back, e.g. a test's temporary root): nobody could
// reach or remove it any more, so it must not run on forever.
func (s *shim) watchDir() {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-s.final:
			return
		case <-tick.C:
		}
		if _, err := os.Stat(filepath.Join(s.dir, ConfigFile)); !errors.Is(err, os.ErrNotExist) {
			continue
		}
		fmt.Fprintf(os.Stderr, "%s shim: %s is gone: killing the container\n", time.Now().Format(time.RFC3339Nano), s.dir)
		s.mu.Lock()
		s.endPolicy()
		r := s.run
		s.mu.Unlock()
		if r != nil {
			r.proc.signal(unix.SIGKILL)
		}
		return
	}
}

// reportReady writes m on the ready pipe and returns err, or errUnwanted
// when a report of Free cannot be written (the runtime went away).
func reportReady(ready *os.File, m ReadyMsg, err error) error {
	if ready != nil {
		if werr := json.NewEncoder(ready).Encode(m); werr != nil && m.Free && err == nil {
			err = errUnwanted
		}
	}
	return err
}
