package shim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// The control protocol of DIR/shim.sock: one JSON request per connection,
// one JSON response. Only root can reach it (the directory is 0700).
//
//	{"Op":"status"}                         -> the current State
//	{"Op":"stop","Signal":15,"Grace":1e10}  -> signal, SIGKILL after Grace,
//	                                           reply once the exit is final
//	{"Op":"kill","Signal":9}                -> signal the container's init
//
// Stop, and kill with SIGKILL or the stop signal, end the restart policy
// (Docker's "manually stopped").
type Request struct {
	Op     string
	Signal int           `json:",omitempty"`
	Grace  time.Duration `json:",omitempty"`
}

type response struct {
	Error string `json:",omitempty"`
	State State
}

func (s *shim) serve(l *listener) {
	for {
		c, err := l.accept()
		if err != nil {
			return
		}
		s.handlers.Add(1)
		go func() {
			defer s.handlers.Done()
			s.handle(c)
		}()
	}
}

func (s *shim) handle(c *os.File) {
	defer c.Close()
	var req Request
	if err := json.NewDecoder(c).Decode(&req); err != nil {
		return
	}
	var err error
	switch req.Op {
	case "status":
	case "stop":
		s.stop(unix.Signal(req.Signal), req.Grace)
	case "kill":
		err = s.kill(unix.Signal(req.Signal))
	default:
		err = fmt.Errorf("unknown shim request %q", req.Op)
	}
	resp := response{}
	if err != nil {
		resp.Error = err.Error()
	}
	s.mu.Lock()
	resp.State = s.st
	s.mu.Unlock()
	json.NewEncoder(c).Encode(resp)
}

func (s *shim) endPolicy() {
	s.manual = true
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *shim) stop(sig unix.Signal, grace time.Duration) {
	s.mu.Lock()
	s.endPolicy()
	r := s.run
	s.mu.Unlock()
	if r != nil {
		r.proc.signal(sig)
		t := time.NewTimer(grace)
		select {
		case <-r.done:
		case <-t.C:
			r.proc.signal(unix.SIGKILL)
		}
		t.Stop()
	}
	<-s.final
}

func (s *shim) kill(sig unix.Signal) error {
	s.mu.Lock()
	ends := sig == unix.SIGKILL || sig == s.stopSig
	if ends {
		s.endPolicy()
	}
	r := s.run
	s.mu.Unlock()
	if r == nil {
		if ends {
			return nil // it was between restarts: it now stays down
		}
		return errors.New("container is not running")
	}
	err := r.proc.signal(sig)
	if errors.Is(err, unix.ESRCH) || errors.Is(err, os.ErrProcessDone) {
		// It exited and the exit is being recorded.
		if ends {
			return nil
		}
		return errors.New("container is not running")
	}
	return err
}

// Call sends one request to the shim of the container in dir.
func Call(ctx context.Context, dir string, req Request) (State, error) {
	c, err := dialDir(dir, SockFile)
	if err != nil {
		return State{}, fmt.Errorf("reach shim: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return State{}, fmt.Errorf("shim request: %w", err)
	}
	var resp response
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		if ctx.Err() != nil {
			return State{}, ctx.Err()
		}
		return State{}, fmt.Errorf("shim response: %w", err)
	}
	if resp.Error != "" {
		return resp.State, errors.New(resp.Error)
	}
	return resp.State, nil
}
