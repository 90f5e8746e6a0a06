package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/dockerapi/certs"
	"github.com/reconciler/reconciler/dockerapi/listen"
	"github.com/reconciler/reconciler/dockerapi/server"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/internal/rootlock"
)

// newBackend opens the engine the daemon serves on state root root,
// registering its metrics on reg; the returned func closes it. The local
// engine sets it; while it is nil, `reconciler daemon` refuses to start.
var newBackend func(root string, reg *prometheus.Registry) (dockerapi.Backend, func() error, error)

// daemonService is something the daemon runs beside the API, such as the
// controller of --watch. Another file of this command appends one to
// daemonServices in its init: flags adds its flags to the daemon command,
// start runs it once the engine is open (ctx ends at shutdown) and returns
// how to stop it; stops run before the engine closes.
type daemonService struct {
	flags func(*pflag.FlagSet)
	start func(ctx context.Context, env daemonEnv) (stop func(), err error)
}

// daemonEnv is what a daemonService gets to work with.
type daemonEnv struct {
	Root    string
	Backend dockerapi.Backend
	// Engine is the same engine for in-process users such as the
	// controller; nil when the backend does not offer one.
	Engine   engine.Engine
	Registry *prometheus.Registry // register the service's collectors here
	Log      *slog.Logger
	// Handle serves a route of the service's own on the daemon's API
	// sockets, under server.ExtraPrefix ("GET /reconciler/v1/status");
	// call it from start.
	Handle func(pattern string, h http.Handler)
}

var daemonServices []daemonService

// DefaultMetricsAddr follows dockerd's --metrics-addr convention.
const DefaultMetricsAddr = "127.0.0.1:9323"

// daemonOptions are the daemon's flags. TLS settings and --root come from
// the global flags (--tlsverify, --tlscacert, --tlscert, --tlskey, --root).
type daemonOptions struct {
	hosts       []string
	insecureTCP bool
	metricsAddr string
	root        string
	tlsVerify   bool
	tlsCACert   string
	tlsCert     string
	tlsKey      string
}

func init() {
	commands = append(commands, newDaemonCmd)
}

func newDaemonCmd() *cobra.Command {
	var o daemonOptions
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Serve the engine over the Docker Engine API (unix socket, TCP, mutual TLS) with Prometheus metrics",
		Long: `Serve the engine of the state root (--root) over the Docker Engine API, so the
docker CLI and anything built on the API can drive it.

As with dockerd, -H/--host on this command says where to LISTEN (repeatable);
it defaults to ` + DefaultSocket + `. Plain tcp:// listeners are
allowed on loopback only, unless --insecure-tcp; with --tlsverify every tcp://
listener requires client certificates signed by --tlscacert:

  reconciler certs init /etc/reconciler/certs --hostname $(hostname)
  reconciler daemon -H unix:///run/reconciler/reconciler.sock -H tcp://0.0.0.0:2376 \
    --tlsverify --tlscacert /etc/reconciler/certs/ca.pem \
    --tlscert /etc/reconciler/certs/server-cert.pem --tlskey /etc/reconciler/certs/server-key.pem

Only one daemon may serve a state root: a second one refuses, naming the first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.root, o.tlsVerify, o.tlsCACert, o.tlsCert, o.tlsKey = global.root, global.tlsVerify, global.tlsCACert, global.tlsCert, global.tlsKey
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			return runDaemon(ctx, o, log, nil)
		},
	}
	f := cmd.Flags()
	// Shadows the global -H/--host (where to connect) with dockerd's meaning.
	f.StringArrayVarP(&o.hosts, "host", "H", nil, "address to listen on: unix:///PATH or tcp://ADDR:PORT (repeatable; default "+DefaultSocket+")")
	f.BoolVar(&o.insecureTCP, "insecure-tcp", false, "allow plain-HTTP tcp:// listeners on non-loopback addresses (anyone reaching them has root)")
	f.StringVar(&o.metricsAddr, "metrics-addr", DefaultMetricsAddr, "address to serve Prometheus /metrics on (\"\" disables)")
	for _, svc := range daemonServices {
		if svc.flags != nil {
			svc.flags(f)
		}
	}
	return cmd
}

// runDaemon serves until ctx ends. ready, if set, receives the bound API
// and metrics addresses once everything listens (for tests).
func runDaemon(ctx context.Context, o daemonOptions, log *slog.Logger, ready func(api []net.Addr, metrics net.Addr)) error {
	if newBackend == nil {
		return errors.New("this reconciler binary has no local engine to serve (newBackend is not set); build it from the full source tree")
	}
	tlsCfg, err := daemonTLS(o)
	if err != nil {
		return err
	}
	lock, err := rootlock.Acquire(o.root)
	if err != nil {
		return err
	}
	defer lock.Release()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	backend, closeBackend, err := newBackend(o.root, reg)
	if err != nil {
		return fmt.Errorf("open engine on %s: %w", o.root, err)
	}
	defer func() {
		if closeBackend != nil {
			if err := closeBackend(); err != nil {
				log.Error("close engine", "err", err)
			}
		}
	}()
	srv, err := server.New(server.Config{Backend: backend, Version: version, Root: o.root, Logger: log})
	if err != nil {
		return err
	}
	reg.MustRegister(srv.Collectors()...)
	for _, svc := range daemonServices {
		if svc.start == nil {
			continue
		}
		env := daemonEnv{Root: o.root, Backend: backend, Registry: reg, Log: log, Handle: srv.Handle}
		if e, ok := backend.(interface{ Engine() engine.Engine }); ok {
			env.Engine = e.Engine()
		}
		stopSvc, err := svc.start(ctx, env)
		if err != nil {
			return err
		}
		if stopSvc != nil {
			defer stopSvc()
		}
	}

	hosts := o.hosts
	if len(hosts) == 0 {
		hosts = []string{DefaultSocket}
	}
	// Commands given the same --root find the daemon here (engine.go).
	hosts = append(hosts, "unix://"+rootSocket(o.root))
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	warn := func(msg string) { log.Warn(msg); srv.AddWarning(msg) }
	for _, h := range hosts {
		lo := listen.Options{InsecureTCP: o.insecureTCP, Warn: warn}
		if strings.HasPrefix(h, "tcp://") {
			lo.TLS = tlsCfg
		}
		l, err := listen.Listen(h, lo)
		if err != nil {
			return err
		}
		listeners = append(listeners, l)
	}

	errc := make(chan error, len(listeners)+1)
	var addrs []net.Addr
	for i, l := range listeners {
		addrs = append(addrs, l.Addr())
		mode := "plain HTTP"
		if strings.HasPrefix(hosts[i], "tcp://") && tlsCfg != nil {
			mode = "TLS, client certificates required"
		} else if strings.HasPrefix(hosts[i], "unix://") {
			mode = "unix socket"
		}
		log.Info("API listening", "addr", hosts[i], "bound", l.Addr().String(), "mode", mode)
		go func(l net.Listener) { errc <- srv.Serve(l) }(l)
	}
	var metricsAddr net.Addr
	var metricsSrv *http.Server
	if o.metricsAddr != "" {
		ml, err := net.Listen("tcp", o.metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listener (--metrics-addr): %w", err)
		}
		metricsAddr = ml.Addr()
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		log.Info("metrics listening", "addr", "http://"+ml.Addr().String()+"/metrics")
		go func() {
			if err := metricsSrv.Serve(ml); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	if ready != nil {
		ready(addrs, metricsAddr)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-errc:
		log.Error("listener failed, shutting down", "err", runErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if metricsSrv != nil {
		metricsSrv.Shutdown(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// daemonTLS is the listeners' TLS config: nil without --tlsverify.
func daemonTLS(o daemonOptions) (*tls.Config, error) {
	if !o.tlsVerify {
		if o.tlsCert != "" || o.tlsKey != "" || o.tlsCACert != "" {
			return nil, &exitError{code: 2, msg: "Error: --tlscacert/--tlscert/--tlskey need --tlsverify (the daemon serves TLS only with verified client certificates)"}
		}
		return nil, nil
	}
	if o.tlsCACert == "" || o.tlsCert == "" || o.tlsKey == "" {
		return nil, &exitError{code: 2, msg: "Error: --tlsverify needs --tlscacert, --tlscert and --tlskey (make them with: reconciler certs init DIR)"}
	}
	return certs.ServerConfig(o.tlsCACert, o.tlsCert, o.tlsKey)
}
