// Package client is an engine.Engine over the Docker Engine API: it drives
// our own daemon on another host, or a real dockerd or podman service, with
// github.com/moby/moby/client underneath.
//
// With TLS the CA and the client certificate are both required; a wrong CA
// or a refused certificate is reported as such, and there is never a
// fallback to plain TCP.
package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	moby "github.com/moby/moby/client"

	"github.com/reconciler/reconciler/dockerapi/certs"
	"github.com/reconciler/reconciler/engine"
)

// TLSFiles are the PEM files of a mutual-TLS connection (Docker's ca.pem,
// cert.pem, key.pem).
type TLSFiles struct {
	CA, Cert, Key string
}

// Engine is an engine.Engine on a Docker Engine API endpoint.
type Engine struct {
	api     *moby.Client
	address string
	tls     *TLSFiles
	timeout time.Duration
}

var _ engine.Engine = (*Engine)(nil)

// DefaultTimeout bounds connecting and each short request when New is
// given 0.
const DefaultTimeout = 30 * time.Second

// New connects lazily to address (unix:///PATH or tcp://HOST:PORT). With
// tlsFiles, the connection is TLS and presents the client certificate;
// their absence or a mismatch is an error, never plain TCP. timeout bounds
// dialing, the TLS handshake and each non-streaming request; builds, pulls
// and event streams run as long as their context. The Engine returned also
// has Ping and Close.
func New(address string, tlsFiles *TLSFiles, timeout time.Duration) (engine.Engine, error) {
	e, err := Open(address, tlsFiles, timeout)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Open is New returning the concrete type.
func Open(address string, tlsFiles *TLSFiles, timeout time.Duration) (*Engine, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "unix" && u.Scheme != "tcp") {
		return nil, fmt.Errorf("%w: engine address %q: want unix:///PATH or tcp://HOST:PORT", engine.ErrInvalid, address)
	}
	tr := &http.Transport{TLSHandshakeTimeout: timeout, MaxIdleConns: 6, IdleConnTimeout: 30 * time.Second}
	if tlsFiles != nil {
		if u.Scheme != "tcp" {
			return nil, fmt.Errorf("%w: engine %s: TLS needs a tcp:// address", engine.ErrInvalid, address)
		}
		cfg, err := certs.ClientConfig(tlsFiles.CA, tlsFiles.Cert, tlsFiles.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: engine %s: %v", engine.ErrInvalid, address, err)
		}
		tr.TLSClientConfig = cfg
	}
	scheme := "http"
	if tlsFiles != nil {
		scheme = "https"
	}
	opts := []moby.Opt{moby.WithHTTPClient(&http.Client{Transport: tr}), moby.WithHost(address), moby.WithScheme(scheme)}
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	opts = append(opts, moby.WithDialContext(func(ctx context.Context, _, _ string) (net.Conn, error) {
		if u.Scheme == "unix" {
			return dialer.DialContext(ctx, "unix", u.Path)
		}
		return dialer.DialContext(ctx, "tcp", u.Host)
	}), moby.WithAPIVersionNegotiation(), moby.WithUserAgent("reconciler"))
	api, err := moby.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("engine %s: %w", address, err)
	}
	return &Engine{api: api, address: address, tls: tlsFiles, timeout: timeout}, nil
}

// API is the underlying Docker API client, for commands that need more
// than engine.Engine (logs, exec, inspect output).
func (e *Engine) API() *moby.Client { return e.api }

// Address is the endpoint this engine talks to.
func (e *Engine) Address() string { return e.address }

// Close releases idle connections.
func (e *Engine) Close() error { return e.api.Close() }

// Ping checks that the engine answers (and, with TLS, that both sides
// accept each other's certificates).
func (e *Engine) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	_, err := e.api.Ping(ctx, moby.PingOptions{NegotiateAPIVersion: true})
	return e.wrap("ping", err)
}

// short bounds a non-streaming request by the engine's timeout.
func (e *Engine) short(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, e.timeout)
}

// wrap maps API errors to the engine's sentinels and explains TLS
// failures, naming the endpoint.
func (e *Engine) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "HTTP request to an HTTPS server") {
		return fmt.Errorf("%s on %s: the server speaks TLS (port 2376): give the host's tls: ca, cert and key: %w", op, e.address, err)
	}
	var sentinel error
	switch {
	case cerrdefs.IsNotFound(err):
		sentinel = engine.ErrNotFound
	case cerrdefs.IsConflict(err):
		sentinel = engine.ErrConflict
	case cerrdefs.IsInvalidArgument(err):
		sentinel = engine.ErrInvalid
	}
	if sentinel != nil {
		return fmt.Errorf("%w: %s on %s: %v", sentinel, op, e.address, err)
	}
	if hint := tlsHint(err, e.tls); hint != "" {
		return fmt.Errorf("%s on %s: %s: %w", op, e.address, hint, err)
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %s on %s: %v", engine.ErrUnavailable, op, e.address, err)
	}
	return fmt.Errorf("%s on %s: %w", op, e.address, err)
}

// unreachable tells a lost or refused connection (the engine may come
// back: retry) from an answer. TLS refusals are told apart before, as
// they need a fix in the configuration.
func unreachable(err error) bool {
	var netErr net.Error
	return moby.IsErrConnectionFailed(err) || errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, context.DeadlineExceeded)
}

func tlsHint(err error, files *TLSFiles) string {
	var unknownCA x509.UnknownAuthorityError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	msg := err.Error()
	if files == nil {
		if strings.Contains(msg, "malformed HTTP response") {
			return "no answer to plain HTTP: if the server uses TLS (port 2376), give the host's tls: ca, cert and key"
		}
		return ""
	}
	switch {
	case errors.As(err, &unknownCA) || (errors.As(err, &certErr) && strings.Contains(msg, "unknown authority")):
		return fmt.Sprintf("the server's certificate is not signed by the CA %s (wrong CA?)", files.CA)
	case errors.As(err, &hostErr):
		return "the server's certificate does not name this host (reissue it with --hostname/--ip)"
	case strings.Contains(msg, "bad certificate"), strings.Contains(msg, "certificate required"),
		strings.Contains(msg, "unknown certificate authority"), strings.Contains(msg, "expired certificate"):
		return fmt.Sprintf("the server refused our client certificate %s (signed by another CA, or expired)", files.Cert)
	case strings.Contains(msg, "malformed HTTP response") || strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return "TLS mismatch between client and server"
	}
	return ""
}
