// Package server serves a dockerapi.Backend over the Docker Engine API, so
// the docker CLI (and anything built on the API) can drive it.
//
// It negotiates the API version like dockerd (/_ping answers with
// Api-Version; /vX.Y prefixes outside [MinAPIVersion, APIVersion] get a
// 400), maps engine errors to Docker's status codes with {"message"}
// bodies, frames streams the way the CLI reads them (stdcopy, JSON
// messages) and hijacks connections for attach and exec.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client/pkg/versions"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/dockerapi"
)

// API versions. 1.41 is the version whose request and response shapes the
// docker CLI 28 was observed to use (docker-api-contract.md §2).
const (
	DefaultAPIVersion = "1.41"
	MinAPIVersion     = "1.24"
)

// Config configures a Server.
type Config struct {
	Backend dockerapi.Backend
	// Version is the engine's version, shown by `docker version`.
	Version string
	// APIVersion is the highest API version served (DefaultAPIVersion).
	APIVersion string
	// MinAPIVersion is the lowest API version served (MinAPIVersion).
	MinAPIVersion string
	// Root is the state root, reported as DockerRootDir in /info.
	Root string
	// Logger receives one line per request; nil logs nothing.
	Logger *slog.Logger
}

// Server is the HTTP side of the Docker Engine API.
type Server struct {
	cfg     Config
	backend dockerapi.Backend
	router  router
	metrics *metrics
	log     *slog.Logger

	mu       sync.Mutex
	servers  []*http.Server
	hijacked map[net.Conn]struct{}
	closed   bool

	shutdownCtx    context.Context // ends at Shutdown
	shutdownCancel context.CancelFunc

	warnings []string // shown by `docker info`, guarded by mu
}

// AddWarning adds a warning `docker info` shows (as dockerd does for an
// API listening without TLS on a public address).
func (s *Server) AddWarning(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warnings = append(s.warnings, msg)
}

// New makes a server for cfg.Backend.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("dockerapi server: no backend")
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if cfg.MinAPIVersion == "" {
		cfg.MinAPIVersion = MinAPIVersion
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, backend: cfg.Backend, metrics: newMetrics(), log: log, hijacked: map[net.Conn]struct{}{}}
	s.shutdownCtx, s.shutdownCancel = context.WithCancel(context.Background())
	s.routes()
	return s, nil
}

// Collectors are the API metrics (requests by route and code, latency,
// in-flight requests), to register on the daemon's registry.
func (s *Server) Collectors() []prometheus.Collector { return s.metrics.collectors() }

// Handler is the API as an http.Handler.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Serve answers API requests on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 5 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.servers = append(s.servers, hs)
	s.mu.Unlock()
	err := hs.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, closes hijacked connections (attach, exec)
// and waits for ordinary requests until ctx ends; then it closes the rest
// (streams such as events and logs -f never end on their own).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.shutdownCancel()
	servers := s.servers
	for c := range s.hijacked {
		c.Close()
	}
	s.mu.Unlock()
	var errs []error
	for _, hs := range servers {
		if err := hs.Shutdown(ctx); err != nil {
			hs.Close()
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (s *Server) trackHijack(c net.Conn, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.hijacked[c] = struct{}{}
	} else {
		delete(s.hijacked, c)
	}
}

type ctxKey struct{}

// apiVersion is the version a request asked for (its /vX.Y prefix) or the
// server's own when it gave none.
func apiVersion(r *http.Request) string {
	v, _ := r.Context().Value(ctxKey{}).(string)
	return v
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	version, path := stripVersion(r.URL.Path)
	h := w.Header()
	h.Set("Api-Version", s.cfg.APIVersion)
	h.Set("Docker-Experimental", "false")
	h.Set("Ostype", runtime.GOOS)
	h.Set("Server", "Reconciler/"+s.cfg.Version+" ("+runtime.GOOS+")")

	rt, p, pathKnown := s.router.match(r.Method, path)
	pattern := "unknown"
	if rt != nil {
		pattern = rt.pattern
	}
	s.metrics.inFlight.Inc()
	defer func() {
		s.metrics.inFlight.Dec()
		code := rec.status()
		d := time.Since(start)
		s.metrics.observe(r.Method, pattern, code, d)
		lvl := slog.LevelInfo
		if pattern == "/_ping" {
			lvl = slog.LevelDebug
		}
		s.log.Log(r.Context(), lvl, "api request", "method", r.Method, "route", pattern, "path", r.URL.RequestURI(), "status", code, "duration", d.Round(time.Microsecond))
	}()

	switch {
	case version != "" && versions.GreaterThan(version, s.cfg.APIVersion):
		writeError(rec, errorf("client version %s is too new. Maximum supported API version is %s", version, s.cfg.APIVersion))
		return
	case version != "" && versions.LessThan(version, s.cfg.MinAPIVersion):
		writeError(rec, errorf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", version, s.cfg.MinAPIVersion))
		return
	case rt == nil && pathKnown:
		writeJSON(rec, http.StatusMethodNotAllowed, map[string]string{"message": fmt.Sprintf("method %s not allowed on %s", r.Method, path)})
		return
	case rt == nil:
		writeJSON(rec, http.StatusNotFound, map[string]string{"message": "page not found"})
		return
	}
	if version == "" {
		version = s.cfg.APIVersion
	}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, version))
	if err := rt.h(rec, r, p); err != nil {
		if rec.wrote || rec.hijacked {
			s.log.Warn("api request failed after response started", "route", pattern, "err", err)
			return
		}
		if statusOf(err) == http.StatusInternalServerError {
			s.log.Error("api request failed", "route", pattern, "path", r.URL.Path, "err", err)
		}
		writeError(rec, err)
	}
}

// trimName drops the leading "/" Docker puts on container names.
func trimName(s string) string { return strings.TrimPrefix(s, "/") }
