// Package reconcile is the controller: it makes hosts match the objects
// declared in manifests and keeps them that way.
//
// It is level-based, in the manner of controller-runtime: a key (host,
// kind, name) enters a de-duplicating work queue from any trigger — a
// manifest change, an engine event, the periodic resync — and a worker
// reads desired state (the objects given by SetObjects) and actual state
// (the engine's objects, found by their io.reconciler.* labels) fresh and
// makes them agree. The controller keeps no database: after a restart it
// finds its objects by label, and the spec-hash label tells what changed.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/reconcile/queue"
	"github.com/reconciler/reconciler/spec"
)

// EngineFunc returns the engine of a host. decl is the Host object naming
// it, or nil when none is declared (as for spec.LocalHost).
type EngineFunc func(host string, decl *spec.Host) (engine.Engine, error)

// Engines serves engines from a map, for tests and single-host setups.
func Engines(m map[string]engine.Engine) EngineFunc {
	return func(host string, _ *spec.Host) (engine.Engine, error) {
		if e, ok := m[host]; ok {
			return e, nil
		}
		return nil, fmt.Errorf("no engine available for host %q", host)
	}
}

// Options configure a Controller. Only Engines is required.
type Options struct {
	Engines EngineFunc
	// Workers reconcile keys in parallel; default 8.
	Workers int
	// Resync is how often actual state is compared with desired state in
	// full, healing drift that no event reported; default 30s.
	Resync time.Duration
	// Out receives one line per action and error; nil discards them.
	Out io.Writer
	// Registry receives the controller's metrics; nil registers nothing.
	Registry prometheus.Registerer
	// Prunable says whether a managed object created from source (its
	// io.reconciler.source label) may be removed when no source declares it
	// any more. Default: sources this controller was given.
	Prunable func(source string) bool
	// BaseBackoff and MaxBackoff bound per-key retry delays; default 100ms, 1m.
	BaseBackoff, MaxBackoff time.Duration
}

// Result tells the worker whether to look at a key again.
type Result struct {
	// RequeueAfter > 0 reconciles the key again after that long, without
	// counting as a failure (waiting for a dependency, for instance).
	RequeueAfter time.Duration
}

// Reconciler reconciles the objects of one kind.
type Reconciler interface {
	Reconcile(ctx context.Context, key spec.Key) (Result, error)
}

// Controller drives engines towards the declared objects.
type Controller struct {
	opts    Options
	desired *desiredSet
	status  *statusBook
	queue   *queue.Queue[spec.Key]
	metrics *metrics
	kinds   map[string]Reconciler

	engMu   sync.Mutex
	engines map[string]*hostEngine
	runCtx  context.Context // set while Run runs: event watches live in it

	mu       sync.Mutex
	explicit map[spec.Key]bool         // keys asked to be deleted (delete -f)
	pending  map[spec.Key]bool         // keys with objects awaiting pruning
	images   map[spec.Key]appliedImage // images ensured by this process
	notices  map[string]bool           // one-time messages already printed
	lastErr  map[spec.Key]string       // last error printed per key
	onAct    func(Action)              // set by Plan to collect actions
	progress chan struct{}             // signalled after each reconcile, for waiters
	contexts *contextHasher            // build context digests
	outMu    sync.Mutex
}

type hostEngine struct {
	eng      engine.Engine
	declHash string
	stop     context.CancelFunc
}

// appliedImage remembers which spec-hash produced which image ID, for
// engines that cannot label the images they pull or import.
type appliedImage struct {
	hash, id string
}

// New returns a controller; call Run to start it, or use ApplyOnce.
func New(opts Options) (*Controller, error) {
	if opts.Engines == nil {
		return nil, errors.New("reconcile: Options.Engines is required")
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Resync <= 0 {
		opts.Resync = 30 * time.Second
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	c := &Controller{
		opts:     opts,
		desired:  newDesiredSet(),
		status:   newStatusBook(),
		metrics:  newMetrics(opts.Registry),
		engines:  map[string]*hostEngine{},
		explicit: map[spec.Key]bool{},
		pending:  map[spec.Key]bool{},
		images:   map[spec.Key]appliedImage{},
		notices:  map[string]bool{},
		lastErr:  map[spec.Key]string{},
		progress: make(chan struct{}, 1),
		contexts: newContextHasher(),
	}
	if c.opts.Prunable == nil {
		c.opts.Prunable = c.desired.isKnown
	}
	c.status.changed = func(k spec.Key, old, new Phase) { c.metrics.phaseChanged(k.Kind, old, new) }
	c.queue = queue.New[spec.Key](queue.Options{
		BaseDelay: opts.BaseBackoff, MaxDelay: opts.MaxBackoff,
		OnDepth: func(n int) { c.metrics.depth.Set(float64(n)) },
		OnRetry: c.metrics.retries.Inc,
	})
	c.kinds = map[string]Reconciler{
		spec.KindHost:      hostReconciler{c},
		spec.KindVolume:    volumeReconciler{c},
		spec.KindImage:     imageReconciler{c},
		spec.KindContainer: containerReconciler{c},
	}
	return c, nil
}

// SetObjects replaces the objects declared by source (a file path, "-"
// for stdin) and queues every object whose declaration changed. An empty
// list withdraws the source: its objects are pruned.
func (c *Controller) SetObjects(source string, objs []spec.Object) {
	for _, k := range c.desired.set(source, objs) {
		o, ok := c.desired.get(k)
		if !ok {
			c.pendingPrune(k)
		} else {
			c.mu.Lock()
			delete(c.pending, k) // declared again before it was pruned
			c.mu.Unlock()
			c.status.update(k, func(s *ObjectStatus) {
				s.Source = o.Source.File
				s.DesiredHash = o.Hash
				if s.ObservedHash != o.Hash {
					s.Phase, s.Message = Progressing, "queued"
				}
			})
		}
		c.queue.Add(k)
	}
	for _, msg := range c.desired.clashErrors() {
		c.notice(msg, "error: "+msg)
	}
}

// Objects returns every object currently declared, in setup order.
func (c *Controller) Objects() []spec.Object { return c.desired.all() }

// Status returns every object's status, by host, kind and name.
func (c *Controller) Status() []ObjectStatus { return c.status.list() }

// Collectors returns the controller's metrics, for callers that register
// them themselves instead of passing Options.Registry.
func (c *Controller) Collectors() []prometheus.Collector { return c.metrics.collectors() }

// ManifestMetrics lets sources report file counts, parse errors and
// watch events on the controller's metrics.
func (c *Controller) ManifestMetrics() (files prometheus.Gauge, errors, watchEvents prometheus.Counter) {
	return c.metrics.files, c.metrics.fileErrors, c.metrics.watchEvents
}

// Run reconciles until ctx ends: workers, a watch of each host's engine
// events and the periodic resync.
func (c *Controller) Run(ctx context.Context) error {
	c.engMu.Lock()
	if c.runCtx != nil {
		c.engMu.Unlock()
		return errors.New("reconcile: controller already running")
	}
	c.runCtx = ctx
	for host, he := range c.engines {
		c.watchLocked(host, he)
	}
	c.engMu.Unlock()
	defer func() {
		c.engMu.Lock()
		c.runCtx = nil
		c.engMu.Unlock()
	}()

	var wg sync.WaitGroup
	for i := 0; i < c.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.work(ctx)
		}()
	}
	c.Resync(ctx)
	t := time.NewTicker(c.opts.Resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c.queue.ShutDown()
			wg.Wait()
			return nil
		case <-t.C:
			c.Resync(ctx)
		}
	}
}

// work runs one worker until ctx ends.
func (c *Controller) work(ctx context.Context) {
	for {
		key, ok := c.queue.Get(ctx)
		if !ok {
			return
		}
		c.process(ctx, key)
		c.queue.Done(key)
		select {
		case c.progress <- struct{}{}:
		default:
		}
	}
}

// process reconciles one key and schedules what follows: a retry with
// backoff after an error, a plain requeue when asked.
func (c *Controller) process(ctx context.Context, key spec.Key) {
	r, ok := c.kinds[key.Kind]
	if !ok {
		c.printf("error: %s: unknown kind %q", key, key.Kind)
		return
	}
	start := time.Now()
	res, err := r.Reconcile(ctx, key)
	switch {
	case err != nil && ctx.Err() != nil:
		return // shutting down: the next run starts over
	case err != nil:
		c.metrics.observe(key.Kind, "error", time.Since(start))
		c.queue.AddRateLimited(key) // before fail: ApplyOnce reads the count with the status
		c.fail(key, err)
	case res.RequeueAfter > 0:
		c.metrics.observe(key.Kind, "requeue", time.Since(start))
		c.queue.Forget(key)
		c.queue.AddAfter(key, res.RequeueAfter)
	default:
		c.metrics.observe(key.Kind, "success", time.Since(start))
		c.queue.Forget(key)
		c.mu.Lock()
		delete(c.lastErr, key)
		c.mu.Unlock()
	}
}

// fail records err on key's status and prints it once per distinct error.
func (c *Controller) fail(key spec.Key, err error) {
	msg := err.Error()
	if _, ok := c.desired.get(key); ok {
		c.status.update(key, func(s *ObjectStatus) {
			s.Phase, s.Message, s.LastError = Failed, msg, msg
			var u unreachable
			if errors.As(err, &u) || errors.Is(err, engine.ErrUnavailable) {
				s.Phase = Unknown // the host, not the object, is at fault
			}
		})
	}
	c.mu.Lock()
	repeat := c.lastErr[key] == msg
	c.lastErr[key] = msg
	c.mu.Unlock()
	if !repeat {
		c.printf("error: %s: %s", name(key), msg)
	}
}

// unreachable marks errors reaching a host (status Unknown, not Failed).
type unreachable struct{ err error }

func (u unreachable) Error() string { return u.err.Error() }
func (u unreachable) Unwrap() error { return u.err }

// engine returns host's engine, connecting on first use and watching its
// events while the controller runs.
func (c *Controller) engine(host string) (engine.Engine, error) {
	var decl *spec.Host
	var declHash string
	if o, ok := c.desired.hostObject(host); ok {
		decl, declHash = o.HostObj, o.Hash
	}
	c.engMu.Lock()
	defer c.engMu.Unlock()
	if he, ok := c.engines[host]; ok && he.declHash == declHash {
		return he.eng, nil
	}
	eng, err := c.opts.Engines(host, decl)
	if err != nil {
		return nil, unreachable{fmt.Errorf("host %s: %w", host, err)}
	}
	if eng == nil {
		return nil, unreachable{fmt.Errorf("no engine available for host %q", host)}
	}
	if old, ok := c.engines[host]; ok && old.stop != nil {
		old.stop()
	}
	he := &hostEngine{eng: eng, declHash: declHash}
	c.engines[host] = he
	if c.runCtx != nil {
		c.watchLocked(host, he)
	}
	return eng, nil
}

// watchLocked follows host's engine events, queueing the managed object
// each event is about. Call with engMu held and runCtx set.
func (c *Controller) watchLocked(host string, he *hostEngine) {
	ctx, cancel := context.WithCancel(c.runCtx)
	he.stop = cancel
	// Subscribe before returning, so that no change made after the
	// engine is first listed goes unseen.
	events, errs := he.eng.Events(ctx)
	go func() {
		for {
			c.follow(ctx, host, events, errs)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			// The stream broke: events may have been missed.
			events, errs = he.eng.Events(ctx)
			c.Resync(ctx)
		}
	}()
}

func (c *Controller) follow(ctx context.Context, host string, events <-chan engine.Event, errs <-chan error) {
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-errs:
			if ok && err != nil && ctx.Err() == nil {
				c.notice("events:"+host+err.Error(), fmt.Sprintf("warning: host %s: event stream: %v (resyncing)", host, err))
			}
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Labels[engine.LabelManaged] != "true" {
				continue
			}
			kind, n := ev.Labels[engine.LabelKind], ev.Labels[engine.LabelName]
			if kind != "" && n != "" {
				c.queue.Add(spec.Key{Host: host, Kind: kind, Name: n})
			}
		}
	}
}

// printf writes one line to Out.
func (c *Controller) printf(format string, args ...any) {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	fmt.Fprintf(c.opts.Out, format+"\n", args...)
}

// notice prints msg the first time id is seen.
func (c *Controller) notice(id, msg string) {
	c.mu.Lock()
	seen := c.notices[id]
	c.notices[id] = true
	c.mu.Unlock()
	if !seen {
		c.printf("%s", msg)
	}
}

// act prints an action with its reasons: `recreate container/web: a; b`.
func (c *Controller) act(verb string, key spec.Key, reasons ...string) {
	a := Action{Verb: verb, Key: key, Reasons: reasons}
	if c.onAct != nil {
		c.onAct(a)
		return
	}
	c.printf("%s", a)
}

// Action is one change the controller makes (or, in a plan, would make),
// with the reasons it can name.
type Action struct {
	Verb    string   `json:"verb"` // create, recreate, start, remove, build, rebuild, ...
	Key     spec.Key `json:"key"`
	Reasons []string `json:"reasons,omitempty"`
}

func (a Action) String() string {
	line := a.Verb + " " + name(a.Key)
	if len(a.Reasons) > 0 {
		line += ": " + strings.Join(a.Reasons, "; ")
	}
	return line
}

// name is how output names an object: kind/name, with its host if remote.
func name(k spec.Key) string {
	s := strings.ToLower(k.Kind) + "/" + k.Name
	if k.Host != "" && k.Host != spec.LocalHost {
		s += " on " + k.Host
	}
	return s
}

// prunable says whether a managed object of key, created from source, may
// be removed now that nothing declares it.
func (c *Controller) prunable(key spec.Key, source string) bool {
	c.mu.Lock()
	explicit := c.explicit[key]
	c.mu.Unlock()
	return explicit || c.opts.Prunable(source)
}

// drift counts and reports a correction of something changed behind the
// controller's back.
func (c *Controller) drift(key spec.Key, reason string) {
	c.metrics.drift.WithLabelValues(reason).Inc()
	c.printf("drift %s: %s behind our back; putting it back", name(key), reason)
}
