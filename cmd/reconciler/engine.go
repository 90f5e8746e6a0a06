package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	moby "github.com/moby/moby/client"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/dockerapi/certs"
	"github.com/reconciler/reconciler/dockerapi/client"
	"github.com/reconciler/reconciler/dockerapi/listen"
	"github.com/reconciler/reconciler/dockerapi/localbackend"
	"github.com/reconciler/reconciler/dockerapi/server"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/internal/rootlock"
)

// How a command reaches an engine, as docker and podman do it:
//
//   - with -H (or RECONCILER_HOST), the daemon at that address;
//   - else, when a daemon serves --root, that daemon, through the socket
//     it keeps in ROOT/run/reconciler.sock;
//   - else the engine of --root, opened in this process under the root's
//     lock: containers live on under their shims after the command ends.

func init() {
	newBackend = func(root string, reg *prometheus.Registry) (dockerapi.Backend, func() error, error) {
		e, err := local.Open(root)
		if err != nil {
			return nil, nil, err
		}
		reg.MustRegister(e.Collectors()...)
		b := localbackend.New(e)
		b.ResumeAutoRemove()
		return b, func() error { b.Close(); return e.Close() }, nil
	}
	openEngine = hostEngine
}

// rootSocket is the socket a daemon serving root always listens on, so
// commands given the same --root find it.
func rootSocket(root string) string { return filepath.Join(root, "run", "reconciler.sock") }

// daemonServes reports whether a daemon answers on root's socket: the
// lock may be held by another command instead, and then its error (which
// names the process) is the one to show.
func daemonServes(root string) bool {
	c, err := net.DialTimeout("unix", rootSocket(root), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// hostEngine opens the engine of a host for the controller commands.
func hostEngine(host string, longLived bool) (engine.Engine, error) {
	if host != "local" {
		return nil, fmt.Errorf("host %s: declare it with a Host object (address and TLS files)", host)
	}
	if global.host != "" {
		return client.Open(global.host, clientTLS(), 0)
	}
	e, err := openLocal(local.Options{ShortLived: !longLived})
	if errors.Is(err, rootlock.ErrLocked) && daemonServes(global.root) {
		return client.Open("unix://"+rootSocket(global.root), nil, 0)
	}
	return e, err
}

// clientTLS is the client side of --tlsverify and its files.
func clientTLS() *client.TLSFiles {
	if !global.tlsVerify && global.tlsCert == "" {
		return nil
	}
	return &client.TLSFiles{CA: global.tlsCACert, Cert: global.tlsCert, Key: global.tlsKey}
}

// lockedEngine is the local engine with the root's lock, both released by
// Close.
type lockedEngine struct {
	*local.Engine
	lock *rootlock.Lock
}

func (l *lockedEngine) Close() error {
	err := l.Engine.Close()
	l.lock.Release()
	return err
}

// openLocal opens the engine of --root in this process, as o says the
// command uses it; the error wraps rootlock.ErrLocked when a daemon (or
// another command) holds the root.
func openLocal(o local.Options) (*lockedEngine, error) {
	if err := os.MkdirAll(global.root, 0o711); err != nil {
		return nil, fmt.Errorf("state root: %w", err)
	}
	lock, err := rootlock.Acquire(global.root)
	if err != nil {
		return nil, err
	}
	e, err := local.OpenWith(global.root, o)
	if err != nil {
		lock.Release()
		return nil, err
	}
	return &lockedEngine{Engine: e, lock: lock}, nil
}

// apiClient is a Docker API client for the command, to -H, to the daemon
// of --root, or to the engine of --root served in this process. close
// ends whatever was opened. startsContainer says the command is about to
// start one (see local.Options.StartsContainer).
func apiClient(ctx context.Context, startsContainer bool) (c *moby.Client, close func(), err error) {
	opts := []moby.Opt{moby.WithAPIVersionNegotiation()}
	switch {
	case global.host != "":
		opts = append(opts, moby.WithHost(global.host))
		if tf := clientTLS(); tf != nil {
			cfg, err := certs.ClientConfig(tf.CA, tf.Cert, tf.Key)
			if err != nil {
				return nil, nil, err
			}
			opts = append(opts, moby.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}))
		}
		c, err := moby.New(opts...)
		return c, func() { c.Close() }, err
	}
	e, err := openLocal(local.Options{ShortLived: true, StartsContainer: startsContainer})
	if errors.Is(err, rootlock.ErrLocked) && daemonServes(global.root) {
		c, err := moby.New(append(opts, moby.WithHost("unix://"+rootSocket(global.root)))...)
		return c, func() { c.Close() }, err
	}
	if err != nil {
		return nil, nil, err
	}
	return serveInProcess(e, opts)
}

// inProcessHost is the address of the engine a command serves itself:
// nothing listens there, the client's connections are socket pairs.
func inProcessHost() string { return "unix://" + filepath.Join(global.root, "run", "in-process") }

// serveInProcess serves e to this command alone (listen.Pairs: nothing on
// disk) for the length of the command, so every command speaks the
// Docker API whoever serves it.
func serveInProcess(e *lockedEngine, opts []moby.Opt) (*moby.Client, func(), error) {
	b := localbackend.New(e.Engine)
	srv, err := server.New(server.Config{Backend: b, Version: version, Root: global.root})
	if err != nil {
		e.Close()
		return nil, nil, err
	}
	l := listen.NewPairs()
	go srv.Serve(l)
	c, err := moby.New(append(opts, moby.WithHost(inProcessHost()), moby.WithDialContext(l.DialContext))...)
	var once sync.Once
	closeAll := func() {
		once.Do(func() {
			if c != nil {
				c.Close()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			b.Close()
			e.Close()
		})
	}
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return c, closeAll, nil
}
