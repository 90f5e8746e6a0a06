package shim

import (
	"bytes"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/logs"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// startConsoleRun starts a run of a Tty container: the sandbox gives it a
// terminal, the shim keeps the master, logs what it reads and types
// attached stdin into it. Called with s.mu held.
func (s *shim) startConsoleRun() (*shimRun, error) {
	if s.pipes != nil { // a prestarted init's: the terminal replaces them
		s.pipes.close()
		s.pipes = nil
	}
	proc, err := s.launch.start(s.dir, s.cfg, nil, nil, nil, s.hooks)
	if err != nil {
		return nil, err
	}
	if err := s.runningNeeds(proc); err != nil {
		if c := proc.console(); c != nil {
			c.Close()
		}
		return nil, err
	}
	console := proc.console()
	if console == nil {
		proc.signal(unix.SIGKILL)
		proc.wait()
		return nil, errors.New("the launcher gave the container no terminal")
	}
	r := &shimRun{proc: proc, done: make(chan struct{}), copies: make(chan struct{}, 1), ncopies: 1, console: console}
	if s.cfg.Spec.OpenStdin {
		r.stdin = console
	}
	go func() {
		s.copyConsole(console)
		r.closeStdin()
		console.Close()
		r.copies <- struct{}{}
	}()
	return r, nil
}

// copyConsole logs a terminal's output as it comes, as the "stdout"
// stream: one entry per line and one for a partial line (a shell's
// prompt), so attached clients see it at once. It returns when every
// slave is closed (EIO: the container's processes are gone).
func (s *shim) copyConsole(console *os.File) {
	buf := make([]byte, logs.MaxLine)
	for {
		n, err := console.Read(buf)
		for b := buf[:n]; len(b) > 0; {
			i := bytes.IndexByte(b, '\n') + 1
			if i == 0 {
				i = len(b)
			}
			line := append([]byte(nil), b[:i]...)
			if werr := s.log.Write(logs.Entry{Stream: logs.Stdout, Time: time.Now(), Line: line}); werr != nil {
				s.logf("write log: %v", werr)
			}
			b = b[i:]
		}
		if err != nil {
			return
		}
	}
}

// resize sets the terminal's size now and for later runs (the shim's copy
// of the spec is what the next run starts with).
func (s *shim) resize(height, width uint) error {
	s.mu.Lock()
	if !s.cfg.Spec.Tty {
		s.mu.Unlock()
		return errors.New("the container has no terminal (it was created without Tty)")
	}
	s.cfg.Spec.ConsoleSize = [2]uint{height, width}
	r := s.run
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	return sandbox.ResizeConsole(r.console, height, width)
}
