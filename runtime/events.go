package runtime

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/reconciler/reconciler/runtime/internal/shim"
)

// Event is a container event in Docker's words: create, start, die (with
// Attributes["exitCode"]), oom, kill (with "signal"), stop, restart,
// destroy, "exec_start: CMD ARGS", exec_die (with "exitCode"), rename
// (with "oldName"), update.
type Event struct {
	Action string
	ID     string
	Name   string
	Image  string
	Labels map[string]string
	// Attributes are Docker's actor attributes beyond the labels: name,
	// image, exitCode, signal.
	Attributes map[string]string
	Time       time.Time
}

// Subscribe delivers events until ctx ends; the channel is then closed.
// A subscriber that falls more than 256 events behind loses events.
func (r *Runtime) Subscribe(ctx context.Context) <-chan Event {
	return r.events.subscribe(ctx)
}

type broker struct {
	mu     sync.Mutex
	subs   map[chan Event]struct{}
	closed bool
}

func newBroker() *broker { return &broker{subs: map[chan Event]struct{}{}} }

func (b *broker) subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, 256)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch
	}
	b.subs[ch] = struct{}{}
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	})
	return ch
}

func (b *broker) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}

func (r *Runtime) event(c *Container, action string, attrs map[string]string) Event {
	e := Event{Action: action, ID: c.ID, Name: c.Name, Image: c.Spec.ImageRef, Labels: c.Spec.Labels, Time: time.Now(),
		Attributes: map[string]string{"name": c.Name, "image": c.Spec.ImageRef}}
	for k, v := range attrs {
		e.Attributes[k] = v
	}
	return e
}

func (r *Runtime) emit(id, action string, attrs map[string]string) {
	cfg, err := r.config(id)
	if err != nil {
		return
	}
	r.events.publish(r.event(&Container{ID: id, Name: cfg.Spec.Name, Spec: cfg.Spec}, action, attrs))
}

// watcher notices what shims do (starts, exits, restarts) by watching the
// state files (see stateChanges), with a 1 s rescan as a safety net, turns
// the transitions into events and metrics, and wakes Wait.
type watcher struct {
	r   *Runtime
	src stateChanges

	obsMu sync.Mutex // serializes observe

	mu   sync.Mutex
	seen map[string]counts
	// recovering: the ExitCount of the lost-shim exit last restarted
	recovering map[string]int
	changes    chan struct{} // closed and replaced on every observed change
	done       chan struct{}
}

// recover restarts a container whose shim was lost, once per loss, if its
// policy says so.
func (w *watcher) recover(id string) {
	dir := w.r.dir(id)
	st, err := w.r.readState(id)
	if err != nil || !st.ShimLost {
		return
	}
	cfg, err := shim.ReadConfig(dir)
	if err != nil || !restartLost(cfg, st) {
		return
	}
	w.mu.Lock()
	if w.recovering[id] == st.ExitCount {
		w.mu.Unlock()
		return // already tried for this loss
	}
	w.recovering[id] = st.ExitCount
	w.mu.Unlock()
	go w.r.Start(context.Background(), id)
}

// counts are what the watcher last saw of a container's counters.
type counts struct{ starts, exits, restarts int }

func newWatcher(r *Runtime) (*watcher, error) {
	var src stateChanges
	if r.opts.ShortLived {
		src = newPollChanges()
	} else {
		in, err := newInotifyChanges()
		if err != nil {
			return nil, fmt.Errorf("watch container states: %w", err)
		}
		src = in
	}
	w := &watcher{r: r, src: src, seen: map[string]counts{}, recovering: map[string]int{}, changes: make(chan struct{}), done: make(chan struct{})}
	r.mu.Lock()
	for _, id := range r.names {
		st, _ := r.readState(id)
		w.seen[id] = counts{st.StartCount, st.ExitCount, st.RestartCount}
		if !r.opts.ShortLived { // which watches only what it acts on
			w.ensure(id)
		}
	}
	r.mu.Unlock()
	go w.loop()
	return w, nil
}

func (w *watcher) loop() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-w.done:
			return
		case id := <-w.src.changed():
			w.observe(id)
		case <-tick.C:
			w.mu.Lock()
			ids := make([]string, 0, len(w.seen))
			for id := range w.seen {
				ids = append(ids, id)
			}
			w.mu.Unlock()
			for _, id := range ids {
				// A shim killed meanwhile is noticed here: its loss is
				// recorded (an exit), observed, and the policy applied.
				w.r.reconcileShim(id)
				w.observe(id)
				w.recover(id)
			}
		}
	}
}

func (w *watcher) close() {
	select {
	case <-w.done:
	default:
		close(w.done)
		w.src.close()
	}
}

func (w *watcher) add(id string) {
	w.mu.Lock()
	w.seen[id] = counts{}
	w.mu.Unlock()
	w.ensure(id)
}

// ensure has src report the container's changes from now on (again, if
// it does already): they then wake waiters at once, not at the next
// rescan.
func (w *watcher) ensure(id string) { w.src.watch(id, w.r.dir(id)) }

func (w *watcher) forget(id string) {
	w.mu.Lock()
	delete(w.seen, id)
	delete(w.recovering, id)
	w.mu.Unlock()
	w.src.unwatch(id, w.r.dir(id))
	w.notify()
}

// changed returns a channel closed at the next observed change.
func (w *watcher) changed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changes
}

func (w *watcher) notify() {
	w.mu.Lock()
	close(w.changes)
	w.changes = make(chan struct{})
	w.mu.Unlock()
}

// observe compares a container's state with what was last seen and emits
// the events in between, in order: start, then (oom and) die, per run. It
// returns the state it read (read false if it could read none).
func (w *watcher) observe(id string) (st State, read bool) {
	// One observer at a time, from reading the state to publishing: an
	// observe that returns has published everything up to what it read
	// (Start relies on it for "start" before it returns).
	w.obsMu.Lock()
	defer w.obsMu.Unlock()
	st, err := w.r.readState(id)
	if err != nil {
		if os.IsNotExist(err) {
			w.notify()
		}
		return st, false
	}
	w.mu.Lock()
	prev, ok := w.seen[id]
	if !ok {
		w.mu.Unlock()
		return st, true
	}
	w.seen[id] = counts{st.StartCount, st.ExitCount, st.RestartCount}
	w.mu.Unlock()
	if prev == w.seen[id] {
		w.notify()
		return st, true
	}
	cfg, err := w.r.config(id)
	if err != nil {
		return st, true
	}
	c := &Container{ID: id, Name: cfg.Spec.Name, Spec: cfg.Spec}
	m := w.r.metrics
	// The last RestartCount-prev.restarts of the new starts were made by
	// the restart policy: each is reported as start, then restart.
	newStarts := st.StartCount - prev.starts
	policy := st.RestartCount - prev.restarts
	if policy < 0 { // a user start reset the count
		policy = st.RestartCount
	}
	for j := 1; prev.starts < st.StartCount || prev.exits < st.ExitCount; {
		if prev.starts < st.StartCount && (prev.starts <= prev.exits || prev.exits >= st.ExitCount) {
			prev.starts++
			m.starts.Inc()
			w.r.events.publish(w.r.event(c, "start", nil))
			if j > newStarts-policy {
				m.restarts.Inc()
				w.r.events.publish(w.r.event(c, "restart", nil))
			}
			j++
			continue
		}
		prev.exits++
		code := st.ExitCode
		if prev.exits == st.ExitCount && st.OOMKilled {
			m.oomKills.Inc()
			w.r.events.publish(w.r.event(c, "oom", nil))
		}
		m.exits.WithLabelValues(fmt.Sprint(code)).Inc()
		w.r.events.publish(w.r.event(c, "die", map[string]string{"exitCode": fmt.Sprint(code)}))
	}
	w.notify()
	return st, true
}
