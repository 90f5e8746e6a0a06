package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/reconciler/reconciler/reconcile"
)

// The daemon's --watch: the controller runs beside the API on the engine
// the daemon serves, keeping it matching a folder of manifests (kubelet
// static pods, GitOps checkouts).
func init() {
	var dir string
	var resync, poll time.Duration
	var workers int
	daemonServices = append(daemonServices, daemonService{
		flags: func(f *pflag.FlagSet) {
			f.StringVar(&dir, "watch", "", "keep this host matching the manifests in this folder and its subfolders")
			f.DurationVar(&resync, "resync", 30*time.Second, "with --watch: full comparison of hosts with manifests at least this often")
			f.DurationVar(&poll, "poll", 5*time.Second, "with --watch: full rescan of the folder at least this often")
			f.IntVar(&workers, "workers", 8, "with --watch: objects reconciled in parallel")
		},
		start: func(ctx context.Context, env daemonEnv) (func(), error) {
			if dir == "" {
				return nil, nil
			}
			if env.Engine == nil {
				return nil, errors.New("--watch: this daemon's backend offers no engine to drive")
			}
			c, run, err := watchController(dir, reconcile.Options{
				Engines: enginesWith(env.Engine), Workers: workers, Resync: resync,
				Out: &lockedWriter{w: os.Stderr}, Registry: env.Registry,
			}, poll)
			if err != nil {
				return nil, fmt.Errorf("--watch %s: %w", dir, err)
			}
			if env.Handle != nil {
				env.Handle("GET "+statusPath, statusHandler(c))
			}
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				if err := run(ctx); err != nil && ctx.Err() == nil {
					env.Log.Error("controller stopped", "watch", dir, "err", err)
				}
			}()
			env.Log.Info("controller watching", "dir", dir)
			return func() { cancel(); <-done }, nil
		},
	})
}

// statusPath serves the controller's status on the daemon's API sockets,
// for `get`: a JSON list of reconcile.ObjectStatus (key, phase, message,
// last error, observed hash, restarts, created, source), sorted as the
// controller sorts them. Only a daemon with --watch answers it; others
// give 404.
const statusPath = "/reconciler/v1/status"

func statusHandler(c *reconcile.Controller) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := json.Marshal(c.Status())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
}
