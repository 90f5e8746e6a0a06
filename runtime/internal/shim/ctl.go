package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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
//	{"Op":"stdin"}                          -> a reply, then the client's bytes
//	                                           go to the container's stdin
//	                                           until it half-closes
//	{"Op":"resize","Height":40,"Width":100} -> size the terminal (Tty)
//	{"Op":"update","Resources":{...},"Restart":{...}}
//	                                        -> new limits (the running
//	                                           container's cgroup at once)
//	                                           and restart policy
//	{"Op":"released"}                       -> a reply once the last run's
//	                                           mounts are gone (they go
//	                                           right after its exit is
//	                                           recorded)
//	{"Op":"hold"}                           -> a reply; then no run starts
//	                                           until the client closes the
//	                                           connection (see Hold)
//
// Stop, and kill with SIGKILL or the stop signal, end the restart policy
// (Docker's "manually stopped").
type Request struct {
	Op     string
	Signal int           `json:",omitempty"`
	Grace  time.Duration `json:",omitempty"`
	// Height and Width are a terminal's size, for "resize".
	Height uint `json:",omitempty"`
	Width  uint `json:",omitempty"`
	// Resources and Restart are a container's new ones, for "update".
	Resources *Resources     `json:",omitempty"`
	Restart   *RestartPolicy `json:",omitempty"`
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
	dec := json.NewDecoder(c)
	if err := dec.Decode(&req); err != nil {
		return
	}
	var err error
	switch req.Op {
	case "hold":
		s.hold(c)
		return
	case "stdin":
		// The request's JSON is followed by a newline, then the input.
		rest, _ := io.ReadAll(dec.Buffered())
		rest = bytes.TrimPrefix(rest, []byte("\n"))
		s.attachStdin(c, io.MultiReader(bytes.NewReader(rest), c))
		return
	case "status":
	case "stop":
		s.stop(unix.Signal(req.Signal), req.Grace)
	case "kill":
		err = s.kill(unix.Signal(req.Signal))
	case "resize":
		err = s.resize(req.Height, req.Width)
	case "update":
		err = s.update(req.Resources, req.Restart)
	case "released":
		s.mu.Lock()
		ch := s.released
		s.mu.Unlock()
		if ch != nil {
			select {
			case <-ch:
			case <-time.After(5 * time.Second):
			}
		}
	default:
		err = fmt.Errorf("unknown shim request %q", req.Op) // Call words it for users
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

// hold answers, then keeps the policy from starting another run until
// the client closes the connection (or the shim is ending anyway).
func (s *shim) hold(c *os.File) {
	s.mu.Lock()
	s.holds++
	resp := response{State: s.st}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.holds--
		s.mu.Unlock()
		nudge(s.unheld)
	}()
	if json.NewEncoder(c).Encode(resp) != nil {
		return
	}
	closed := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c)
		close(closed)
	}()
	select {
	case <-closed:
	case <-s.final:
	}
}

// attachStdin answers, then copies what the client sends into the current
// run's stdin until the client half-closes; with StdinOnce that closes the
// container's stdin too.
func (s *shim) attachStdin(c *os.File, in io.Reader) {
	s.mu.Lock()
	r := s.run
	st := s.st
	s.mu.Unlock()
	resp := response{State: st}
	switch {
	case !s.cfg.Spec.OpenStdin:
		resp.Error = "the container was created without an open stdin (OpenStdin)"
	case r == nil:
		resp.Error = "container is not running"
	}
	if json.NewEncoder(c).Encode(resp) != nil || resp.Error != "" {
		return
	}
	r.stdinMu.Lock()
	w := r.stdin
	r.stdinMu.Unlock()
	if w != nil {
		io.Copy(w, in) // ends at the client's EOF or the run's end
	}
	if s.cfg.Spec.StdinOnce {
		r.closeStdin()
	}
}

// update takes a container's new limits and restart policy (docker
// update): the running container's cgroup gets the limits at once, and
// the runs the policy starts get both.
func (s *shim) update(res *Resources, policy *RestartPolicy) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if res != nil {
		if s.run != nil {
			if err := s.run.proc.setResources(*res); err != nil {
				return err
			}
		}
		s.cfg.Spec.Resources = *res
	}
	if policy != nil {
		s.cfg.Spec.RestartPolicy = *policy
	}
	return nil
}

func (s *shim) endPolicy() {
	s.manual = true
	nudge(s.wake)
}

// nudge wakes supervise if it waits on c between runs, without blocking
// (c holds one wake-up).
func nudge(c chan struct{}) {
	select {
	case c <- struct{}{}:
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
	c, st, err := open(ctx, dir, req)
	if c != nil {
		c.Close()
	}
	return st, err
}

// Stdin connects to the shim's stdin feed: what is written goes to the
// container's stdin; Close ends this client's input (EOF for the
// container if it was created with StdinOnce).
func Stdin(ctx context.Context, dir string) (io.WriteCloser, error) {
	c, _, err := open(ctx, dir, Request{Op: "stdin"})
	if err != nil {
		return nil, err
	}
	return stdinConn{c}, nil
}

// Hold keeps the shim of the container in dir from starting another run
// (its restart policy) until the returned Closer is closed, or this
// process ends: the hold is a connection. A copy into a running container
// holds it while it has the run's root open, which a restart would mount
// a second time on the same layer.
func Hold(ctx context.Context, dir string) (io.Closer, error) {
	c, _, err := open(ctx, dir, Request{Op: "hold"})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// open sends req and reads the response within ctx; the connection is
// returned with no deadline, for what follows (nil on failure).
func open(ctx context.Context, dir string, req Request) (*os.File, State, error) {
	c, err := dialDir(dir, SockFile)
	if err != nil {
		return nil, State{}, fmt.Errorf("reach shim: %w", err)
	}
	fail := func(err error) (*os.File, State, error) {
		c.Close()
		return nil, State{}, err
	}
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	if err := json.NewEncoder(c).Encode(req); err != nil {
		stop()
		return fail(fmt.Errorf("shim request: %w", err))
	}
	var resp response
	err = json.NewDecoder(c).Decode(&resp)
	if !stop() || err != nil {
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		return fail(fmt.Errorf("shim response: %w", err))
	}
	c.SetDeadline(time.Time{})
	if resp.Error != "" {
		c.Close()
		if strings.HasPrefix(resp.Error, "unknown shim request") {
			// A shim outlives upgrades of the binary: an older one
			// does not know a newer request.
			return nil, resp.State, olderShim(req.Op)
		}
		return nil, resp.State, errors.New(resp.Error)
	}
	return c, resp.State, nil
}

// ErrOlderShim is a request the container's shim does not know: it was
// started by an older reconciler.
var ErrOlderShim = errors.New("the container's shim is older than this reconciler")

type olderShim string // the request

func (op olderShim) Error() string {
	return "this container's shim (from an older reconciler) cannot " + string(op) + ": restart the container, then try again"
}

func (olderShim) Is(target error) bool { return target == ErrOlderShim }

type stdinConn struct{ f *os.File }

func (s stdinConn) Write(p []byte) (int, error) { return s.f.Write(p) }

// Close half-closes (the shim sees EOF), then releases the socket.
func (s stdinConn) Close() error {
	if rc, err := s.f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.Shutdown(int(fd), unix.SHUT_WR) })
	}
	return s.f.Close()
}
