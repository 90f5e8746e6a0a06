package listen

import (
	"context"
	"net"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Pairs is a listener with no address: each Dial connects to it through a
// fresh pair of connected unix sockets (socketpair(2)), nothing on disk.
// A command serving the API to itself uses it: no socket file or folder
// to create and remove, and the connections are real unix sockets (half
// close included, as attach needs).
type Pairs struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// NewPairs returns an open Pairs listener.
func NewPairs() *Pairs {
	return &Pairs{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept returns the server's end of the next Dial.
func (p *Pairs) Accept() (net.Conn, error) {
	select {
	case c := <-p.conns:
		return c, nil
	case <-p.done:
		return nil, net.ErrClosed
	}
}

// Close ends Accept and refuses further Dials; connections made stay.
func (p *Pairs) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}

// Addr is a unix address with no path.
func (p *Pairs) Addr() net.Addr { return &net.UnixAddr{Net: "unix"} }

// DialContext connects to the listener (network and address are ignored:
// it has neither). Its signature is http.Transport's DialContext.
func (p *Pairs) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socketpair", err)
	}
	client, err := fileConn(fds[0])
	if err != nil {
		unix.Close(fds[1])
		return nil, err
	}
	server, err := fileConn(fds[1])
	if err != nil {
		client.Close()
		return nil, err
	}
	select {
	case p.conns <- server:
		return client, nil
	case <-p.done:
		err = net.ErrClosed
	case <-ctx.Done():
		err = ctx.Err()
	}
	client.Close()
	server.Close()
	return nil, &net.OpError{Op: "dial", Net: "unix", Err: err}
}

// fileConn makes a net.Conn of a socket descriptor, which it takes over.
func fileConn(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "socketpair")
	defer f.Close() // FileConn holds a duplicate
	return net.FileConn(f)
}
