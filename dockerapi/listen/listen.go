// Package listen opens the daemon's API listeners the way dockerd does:
// unix:///PATH (socket mode 0660), tcp://ADDR:PORT in plain HTTP only on
// loopback unless explicitly forced, and tcp with mutual TLS.
package listen

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultUnix is the daemon's default socket.
const DefaultUnix = "unix:///run/reconciler/reconciler.sock"

// Options configures Listen.
type Options struct {
	// TLS, when set, makes every tcp:// listener serve TLS with this config
	// (certs.ServerConfig requires verified client certificates).
	TLS *tls.Config
	// InsecureTCP allows plain-HTTP tcp:// listeners on non-loopback
	// addresses. Anyone who reaches such a port has root on the host.
	InsecureTCP bool
	// Warn receives loud warnings (e.g. about an insecure listener).
	Warn func(msg string)
}

// Listen opens one listener for addr ("unix:///path" or "tcp://host:port").
func Listen(addr string, o Options) (net.Listener, error) {
	u, err := url.Parse(addr)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("listen address %q: want unix:///PATH or tcp://HOST:PORT", addr)
	}
	switch u.Scheme {
	case "unix":
		return listenUnix(u.Path)
	case "tcp":
		return listenTCP(u.Host, o)
	default:
		return nil, fmt.Errorf("listen address %q: unsupported scheme %q (want unix or tcp)", addr, u.Scheme)
	}
}

func listenUnix(path string) (net.Listener, error) {
	if path == "" {
		return nil, errors.New("unix listen address has no path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create socket directory: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket; move it away", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("another daemon is already answering on %s", path)
		}
		// Nothing answers: a stale socket left by a crash.
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket: %w", err)
		}
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

func listenTCP(hostport string, o Options) (net.Listener, error) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, fmt.Errorf("tcp listen address %q: %w", hostport, err)
	}
	if o.TLS == nil {
		loop, err := isLoopback(host)
		if err != nil {
			return nil, err
		}
		if !loop && !o.InsecureTCP {
			return nil, fmt.Errorf("refusing plain TCP on non-loopback address tcp://%s: anyone reaching it would have root on this host; "+
				"use TLS (reconciler certs init DIR, then --tlsverify --tlscacert DIR/ca.pem --tlscert DIR/server-cert.pem --tlskey DIR/server-key.pem) "+
				"or, knowing the risk, --insecure-tcp", hostport)
		}
		if !loop && o.Warn != nil {
			o.Warn(fmt.Sprintf("WARNING: API listening on tcp://%s WITHOUT TLS or authentication: anyone who can reach this port has root on this host. Use --tlsverify instead.", hostport))
		}
	}
	l, err := net.Listen("tcp", hostport)
	if err != nil {
		return nil, err
	}
	if o.TLS != nil {
		return tls.NewListener(l, o.TLS), nil
	}
	return l, nil
}

// isLoopback reports whether every address host resolves to is loopback.
// An empty host means all interfaces.
func isLoopback(host string) (bool, error) {
	if host == "" {
		return false, nil
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return ip.IsLoopback(), nil
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return false, fmt.Errorf("resolve listen host %q: %w", host, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return false, nil
		}
	}
	return len(ips) > 0, nil
}
