package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/dockerapi/client"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/reconcile/source"
	"github.com/reconciler/reconciler/spec"
)

// openEngine opens the engine of a host ("local" is this machine) for a
// command that ends soon (apply) or runs on (longLived: watch). The
// integrator sets it (cmd/reconciler/engine.go) to the local engine over
// --root, or a Docker-API client for remote hosts; an engine that is an
// io.Closer is closed when the command ends.
var openEngine func(host string, longLived bool) (engine.Engine, error)

func init() {
	commands = append(commands, newApplyCmd)
}

// engines opens each host's engine once per command and closes them all.
type engines struct {
	longLived bool // the command runs on (see openEngine)
	mu        sync.Mutex
	open      map[string]engine.Engine
}

// get opens a host's engine: a host declared by a Host object through
// the Docker Engine API at its address, others with openEngine.
func (e *engines) get(host string, decl *spec.Host) (engine.Engine, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if eng, ok := e.open[host]; ok {
		return eng, nil
	}
	var eng engine.Engine
	var err error
	switch {
	case decl != nil:
		eng, err = openDeclared(decl)
	case openEngine == nil:
		return nil, fmt.Errorf("no engine available for host %s", host)
	default:
		eng, err = openEngine(host, e.longLived)
	}
	if err != nil {
		return nil, err
	}
	if e.open == nil {
		e.open = map[string]engine.Engine{}
	}
	e.open[host] = eng
	return eng, nil
}

// enginesWith serves spec.LocalHost from localEng and declared hosts over
// the Docker Engine API: what the daemon's --watch gives watchController.
func enginesWith(localEng engine.Engine) reconcile.EngineFunc {
	return func(host string, decl *spec.Host) (engine.Engine, error) {
		switch {
		case decl != nil:
			return openDeclared(decl)
		case host == spec.LocalHost:
			return localEng, nil
		}
		return nil, fmt.Errorf("no engine available for host %s: declare it with a Host object", host)
	}
}

// openDeclared connects to the engine a Host object declares.
func openDeclared(h *spec.Host) (engine.Engine, error) {
	var tlsFiles *client.TLSFiles
	if t := h.Spec.TLS; t != nil {
		tlsFiles = &client.TLSFiles{CA: t.CAFile, Cert: t.CertFile, Key: t.KeyFile}
	}
	var timeout time.Duration
	if h.Spec.Timeout != nil {
		timeout = h.Spec.Timeout.Duration
	}
	return client.Open(h.Spec.Address, tlsFiles, timeout)
}

func (e *engines) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, eng := range e.open {
		if c, ok := eng.(io.Closer); ok {
			c.Close()
		}
	}
	e.open = nil
}

// loadSources reads the manifests of mf with absolute source paths (so
// io.reconciler.source names a file the same from any folder) and
// returns the objects and every file read. Problems are printed one per
// line on stderr and end the command with exit code 1.
func (m *manifestFlags) loadSources(cmd *cobra.Command) ([]spec.Object, []string, error) {
	if len(m.files) == 0 {
		return nil, nil, usageError(cmd, "no manifests given: use -f FILE, -f FOLDER or -f - for stdin")
	}
	objs, files, err := source.Files(m.files, m.recursive, cmd.InOrStdin())
	var list spec.ErrorList
	if errors.As(err, &list) {
		w := cmd.ErrOrStderr()
		for _, e := range list {
			fmt.Fprintln(w, e)
		}
		fmt.Fprintf(w, "%s in %s\n", plural(len(list), "problem"), plural(len(list.Files()), "file"))
		return nil, nil, &exitError{code: 1}
	}
	return objs, files, err
}

// pruneScope is what --prune may remove: objects whose source is one of
// the files given or lies in one of the folders given.
func (m *manifestFlags) pruneScope() func(string) bool {
	var roots []string
	for _, p := range m.files {
		if p != "-" {
			roots = append(roots, source.Abs(p))
		}
	}
	return func(src string) bool {
		for _, r := range roots {
			if src == r || source.Under(r, src) {
				return true
			}
		}
		return false
	}
}

func never(string) bool { return false }

// signalContext ends on Ctrl-C or SIGTERM, and after timeout if > 0.
func signalContext(cmd *cobra.Command, timeout time.Duration) (context.Context, context.CancelFunc) {
	parent := cmd.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	if timeout <= 0 {
		return ctx, stop
	}
	tctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("--timeout %v", timeout))
	return tctx, func() { cancel(); stop() }
}

func newApplyCmd() *cobra.Command {
	var mf manifestFlags
	var dryRun, prune bool
	var timeout time.Duration
	var workers int
	cmd := &cobra.Command{
		Use:   "apply -f PATH... [-R] [--dry-run] [--prune] [--timeout D]",
		Short: "Make the hosts match the manifests, once",
		Long: `Apply converges the hosts to the objects the manifests declare: images are
built, imported or pulled, volumes created, containers created, recreated
(when their spec or image changed, saying which fields) or started. It prints
each action as it happens and exits 0 once every object is Ready, or 1 with
the objects that failed.

Objects that are no longer declared are left alone unless --prune is given:
then managed objects whose manifest file is among (or in the folders of) the
paths given are removed. Volumes are removed only under reclaimPolicy Delete.`,
		Example: `  reconciler apply -f examples/
  reconciler apply -R -f manifests/ --prune
  reconciler apply -f app.yaml --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, files, err := mf.loadSources(cmd)
			if err != nil {
				return err
			}
			var eng engines
			defer eng.close()
			out := cmd.OutOrStdout()
			opts := reconcile.Options{Engines: eng.get, Workers: workers, Out: out, Prunable: never}
			if prune {
				opts.Prunable = mf.pruneScope()
			}
			c, err := reconcile.New(opts)
			if err != nil {
				return err
			}
			ctx, cancel := signalContext(cmd, timeout)
			defer cancel()
			if dryRun {
				acts, err := c.Plan(ctx, objs, files)
				for _, a := range acts {
					fmt.Fprintf(out, "%s (dry run)\n", a)
				}
				if len(acts) == 0 && err == nil {
					fmt.Fprintln(out, "nothing to do (dry run)")
				}
				if err != nil {
					return &exitError{code: 1, msg: "Error: " + err.Error()}
				}
				return nil
			}
			st, err := c.ApplyOnce(ctx, objs, files)
			if err != nil {
				return &exitError{code: 1, msg: "Error: " + err.Error()}
			}
			fmt.Fprintf(out, "%s ready\n", plural(len(st), "object"))
			return nil
		},
	}
	mf.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "print what would be done, change nothing")
	f.BoolVar(&prune, "prune", false, "remove managed objects whose manifests (among the paths given) no longer declare them")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long (0: no limit)")
	f.IntVar(&workers, "workers", 8, "objects reconciled in parallel")
	return cmd
}
