package shim

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/logs"
)

// supervise runs the container until it exits and the policy does not
// restart it (or a user stopped it).
func (s *shim) supervise() {
	var backoff time.Duration
	for first := true; ; first = false {
		r, startErr := s.startRun(first)
		if first && errors.Is(startErr, errHoldAborted) {
			return // nothing to report: the runtime called it off
		}
		if first && startErr != nil {
			reportReady(s.ready, ReadyMsg{Error: startErr.Error()}, nil)
			return // the state records the error; the container never ran
		}
		var exit exitStatus
		started := time.Now()
		if startErr != nil {
			exit = exitStatus{code: startExitCode(startErr)}
		} else {
			exit = r.proc.wait()
			s.drainCopies(r)
			started = s.st.StartedAt
		}

		s.mu.Lock()
		restart := !s.manual && s.cfg.Spec.RestartPolicy.ShouldRestart(exit.code, s.st.RestartCount)
		s.st.Pid = 0
		s.st.ExitCode = exit.code
		s.st.OOMKilled = exit.oomKilled
		s.st.FinishedAt = time.Now().UTC()
		s.st.ExitCount++
		s.st.ManualStop = s.manual
		if startErr != nil {
			s.st.Error = startErr.Error()
		} else if exit.err != nil {
			s.st.Error = exit.err.Error()
		}
		s.st.Status = StateExited
		if restart {
			s.st.Status = StateRestarting
		}
		s.reportState(s.st)
		s.record()
		if r != nil {
			// Recorded: now the run's mounts go, before any next run
			// mounts its layer again.
			r.proc.release()
			close(s.released)
		}
		s.run = nil
		s.mu.Unlock()
		if r != nil {
			r.closeStdin()
			close(r.done)
		}
		if !restart {
			return
		}

		if time.Since(started) >= backoffReset {
			backoff = 0
		}
		if backoff == 0 {
			backoff = backoffStart
		} else if backoff *= 2; backoff > backoffMax {
			backoff = backoffMax
		}
		select {
		case <-time.After(backoff):
		case <-s.wake:
		}
		s.waitUnheld()
		s.mu.Lock()
		stop := s.manual
		if stop {
			s.st.Status = StateExited
			s.st.ManualStop = true
			s.record()
		}
		s.mu.Unlock()
		if stop {
			return
		}
	}
}

// waitUnheld returns once no client holds the runs (a copy still has the
// last run's root open: see Hold), or a user has stopped the container.
func (s *shim) waitUnheld() {
	for {
		s.mu.Lock()
		free := s.holds == 0 || s.manual
		s.mu.Unlock()
		if free {
			return
		}
		select {
		case <-s.unheld:
		case <-s.wake: // a user stopped it
		}
	}
}

// startRun starts one run and records it. A failure to start is recorded
// by the caller as an exit (first run: the container stays as it was, with
// the error).
func (s *shim) startRun(first bool) (*shimRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := s.startPipedRun
	if s.cfg.Spec.Tty {
		start = s.startConsoleRun
	}
	next := s.st
	if !first {
		next.RestartCount++
	}
	next.Status = StateRunning
	next.StartedAt = time.Now().UTC()
	next.StartCount++
	next.Error = ""
	next.OOMKilled = false
	// The process ID is known before the program runs: the running
	// state is then written and synced while the start finishes (not
	// after it, on the start's path), and put in place once it runs. A
	// held start (the first run of a held assignment) starts when it
	// goes ahead, not when it was set up.
	var prepared *PreparedState
	held := first && s.goAhead != nil
	went := !held
	s.hooks.forked = func(pid int) {
		next.Pid = pid
		if went {
			prepared = PrepareState(s.dir, next)
		}
	}
	if held {
		s.hooks.hold = sync.OnceValue(func() error {
			if err := s.goAhead(); err != nil {
				return err
			}
			went = true
			next.StartedAt = time.Now().UTC()
			if next.Pid != 0 {
				prepared = PrepareState(s.dir, next)
			}
			return nil
		})
	}
	r, err := start()
	hold := s.hooks.hold
	s.hooks = runHooks{}
	if err != nil {
		// A failure while held is the start's, reported once it goes
		// ahead; nothing is recorded for a start called off.
		if held && !errors.Is(err, errHoldAborted) {
			if herr := hold(); herr != nil {
				err = herr
			}
		}
		prepared.Abort() // after the hold, which may prepare one
		if errors.Is(err, errHoldAborted) {
			return nil, err
		}
		return nil, s.startFailed(first, err)
	}
	s.run = r
	s.released = make(chan struct{})
	if prepared != nil && r.proc.pid() == next.Pid {
		s.st = next
		s.reportStart(first, next)
		// Put in place once synced, off the run's path: its exit may
		// come first, and is reported at once (record waits, so the
		// disk gets the states in their order).
		committed := make(chan struct{})
		s.committing = committed
		go func() {
			defer close(committed)
			if err := prepared.Commit(); err != nil {
				s.logf("record state: %v", err)
			}
		}()
		return r, nil
	}
	prepared.Abort()
	next.Pid = r.proc.pid()
	s.st = next
	s.reportStart(first, next)
	s.record()
	return r, nil
}

// reportStart reports the first run's start with its state st, about to
// be recorded (see ReadyMsg); a later run's, like every exit, is reported
// as a state alone.
func (s *shim) reportStart(first bool, st State) {
	if first {
		reportReady(s.ready, ReadyMsg{Pid: st.Pid, State: &st}, nil)
	} else {
		s.reportState(st)
	}
}

// reportState reports st, about to be recorded, to the runtime that
// assigned the container, if it still reads the reports.
func (s *shim) reportState(st State) {
	reportReady(s.ready, ReadyMsg{State: &st}, nil)
}

// startPipedRun starts a run with pipes for stdout, stderr and (OpenStdin)
// stdin, each output copied into the log as its own stream. Called with
// s.mu held.
func (s *shim) startPipedRun() (*shimRun, error) {
	p, err := s.takePipes()
	if err != nil {
		return nil, err
	}
	proc, err := s.launch.start(s.dir, s.cfg, p.inR, p.outW, p.errW, s.hooks)
	// The container has its ends (or failed): only ours stay open.
	for _, f := range []*os.File{p.inR, p.outW, p.errW} {
		if f != nil {
			f.Close()
		}
	}
	if err == nil {
		err = s.runningNeeds(proc)
	}
	if err != nil {
		for _, f := range []*os.File{p.inW, p.outR, p.errR} {
			if f != nil {
				f.Close()
			}
		}
		return nil, err
	}
	r := &shimRun{proc: proc, done: make(chan struct{}), copies: make(chan struct{}, 2), ncopies: 2, stdin: p.inW}
	for _, p := range []struct {
		stream string
		f      *os.File
	}{{logs.Stdout, p.outR}, {logs.Stderr, p.errR}} {
		go func() {
			s.log.Copy(p.stream, p.f)
			p.f.Close()
			r.copies <- struct{}{}
		}()
	}
	return r, nil
}

// runningNeeds waits for what a running container needs of the shim (its
// log, its control socket); when they could not be made, the run ends.
func (s *shim) runningNeeds(proc process) error {
	err := s.setUp()
	if err != nil {
		proc.signal(unix.SIGKILL)
		proc.wait()
	}
	return err
}

// takePipes returns the prestarted init's pipes for the first run (the
// init has them already), new ones for any other. Called with s.mu held.
func (s *shim) takePipes() (*runPipes, error) {
	p := s.pipes
	s.pipes = nil
	if p == nil {
		return newRunPipes(s.cfg.Spec.OpenStdin)
	}
	if !s.cfg.Spec.OpenStdin {
		p.dropStdin() // the init gets /dev/null instead
	}
	return p, nil
}

func (s *shim) startFailed(first bool, err error) error {
	if first {
		// Counted as an exit (Docker's "die" with 126/127), so waiters
		// and attached clients see the end.
		s.st.Error = err.Error()
		s.st.ExitCode = startExitCode(err)
		s.st.ExitCount++
		s.st.FinishedAt = time.Now().UTC()
		if s.st.Status == "" {
			s.st.Status = StateCreated
		}
		s.st.ShimPid, s.st.ShimStartTime = 0, 0
		s.record()
	}
	return err
}

// drainCopies waits for the log copiers to reach EOF. A process that left
// a child holding the pipes (possible only without a PID namespace) gets 2 s.
func (s *shim) drainCopies(r *shimRun) {
	deadline := time.After(2 * time.Second)
	for i := 0; i < r.ncopies; i++ {
		select {
		case <-r.copies:
		case <-deadline:
			return
		}
	}
}

// record writes the state; called with s.mu held. A failed write is logged
// to the shim's stderr: the container goes on either way.
func (s *shim) record() {
	if s.committing != nil {
		<-s.committing
		s.committing = nil
	}
	if err := writeState(s.dir, s.st); err != nil {
		fmt.Fprintf(os.Stderr, "%s shim: record state: %v\n", time.Now().Format(time.RFC3339Nano), err)
	}
}
