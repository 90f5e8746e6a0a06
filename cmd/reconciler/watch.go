package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
)

func init() {
	commands = append(commands, newWatchCmd)
}

func newWatchCmd() *cobra.Command {
	var resync, poll time.Duration
	var workers int
	var metricsAddr string
	cmd := &cobra.Command{
		Use:   "watch DIR",
		Short: "Keep the hosts matching a folder of manifests (foreground controller)",
		Long: `Watch runs the controller in the foreground on a folder and its subfolders:
a manifest dropped in is applied, an edit is rolled out, a removed file's
objects are pruned (volumes only under reclaimPolicy Delete). Drift on the
hosts is put back as soon as their engines report it, and at the latest at
the next resync. A file that fails to parse is reported and its objects
are kept as they were. Stop it with Ctrl-C: what it made keeps running.`,
		Example: `  reconciler watch /etc/reconciler/manifests
  reconciler watch examples/ --metrics-addr 127.0.0.1:9100`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(cmd, "watch takes one folder: reconciler watch DIR")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := &lockedWriter{w: cmd.OutOrStdout()}
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			eng := engines{longLived: true}
			defer eng.close()
			_, run, err := watchController(args[0], reconcile.Options{
				Engines: eng.get, Workers: workers, Resync: resync, Out: out, Registry: reg,
			}, poll)
			if err != nil {
				return &exitError{code: 1, msg: "Error: " + err.Error()}
			}
			ctx, cancel := signalContext(cmd, 0)
			defer cancel()
			if metricsAddr != "" {
				ln, err := net.Listen("tcp", metricsAddr)
				if err != nil {
					return &exitError{code: 1, msg: fmt.Sprintf("Error: --metrics-addr: %v", err)}
				}
				srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
				go srv.Serve(ln)
				defer srv.Close()
				fmt.Fprintf(out, "metrics on http://%s/metrics\n", ln.Addr())
			}
			return run(ctx)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&resync, "resync", 30*time.Second, "full comparison of hosts with manifests at least this often")
	f.DurationVar(&poll, "poll", 5*time.Second, "full rescan of the folder at least this often")
	f.IntVar(&workers, "workers", 8, "objects reconciled in parallel")
	f.StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address (host:port)")
	return cmd
}

// watchController returns a controller fed by a watcher of dir, and the
// function running both until ctx ends. Objects from files under dir that
// are removed are pruned (Volumes only under reclaimPolicy Delete). The
// daemon's --watch uses it with its own engines, output and registry;
// Status on the controller serves its API.
func watchController(dir string, opts reconcile.Options, poll time.Duration) (*reconcile.Controller, func(context.Context) error, error) {
	var w *source.Watcher
	opts.Prunable = func(s string) bool { return w.Prunable(s) }
	c, err := reconcile.New(opts)
	if err != nil {
		return nil, nil, err
	}
	files, fileErrors, events := c.ManifestMetrics()
	resync := make(chan struct{}, 1)
	w, err = source.NewWatcher(source.WatchOptions{
		Dir: dir, Sink: c, Poll: poll, Out: opts.Out,
		Files: files, Errors: fileErrors, WatchEvents: events,
		// A changed build context in the folder rebuilds its image now,
		// not at the next periodic resync.
		Changed: func() {
			select {
			case resync <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		return nil, nil, err
	}
	run := func(ctx context.Context) error {
		// Read the manifests before the first resync, so nothing they
		// declare looks undeclared.
		w.Scan()
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-resync:
					c.Resync(ctx)
				}
			}
		}()
		if opts.Out != nil {
			fmt.Fprintf(opts.Out, "watching %s\n", w.Dir())
		}
		done := make(chan error, 1)
		go func() { done <- c.Run(ctx) }()
		werr := w.Run(ctx)
		return errors.Join(werr, <-done)
	}
	return c, run, nil
}

// lockedWriter serializes the controller's and the watcher's lines.
type lockedWriter struct {
	mu sync.Mutex
	w  interface{ Write([]byte) (int, error) }
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
