package reconcile

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reconciler/reconciler/spec"
)

// settleRetries is how many failed attempts make ApplyOnce give up on an
// object (about a second of backoff), so one broken object fails the
// apply quickly while transient errors still get retried.
const settleRetries = 3

// ApplyOnce declares objs (by their source file; sources lists every file
// read, including those that now declare nothing), converges them, and
// returns once every object is Ready or has failed settleRetries times and
// every prunable leftover is gone, or when ctx ends. It returns the
// applied objects' statuses and an error naming those not Ready.
func (c *Controller) ApplyOnce(ctx context.Context, objs []spec.Object, sources []string) ([]ObjectStatus, error) {
	bySource := map[string][]spec.Object{}
	for _, o := range objs {
		bySource[o.Source.File] = append(bySource[o.Source.File], o)
	}
	for _, s := range sources {
		if _, ok := bySource[s]; !ok {
			bySource[s] = nil
		}
	}
	for s, l := range bySource {
		c.SetObjects(s, l)
	}
	keys := make([]spec.Key, 0, len(objs))
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	stop := c.runWorkers(ctx)
	defer stop()
	c.Resync(ctx)
	return c.waitSettled(ctx, keys)
}

// Delete removes the managed objects of keys (Retain volumes excepted)
// and waits until they are gone. Keys still declared by a source are left
// alone and reported.
func (c *Controller) Delete(ctx context.Context, keys []spec.Key) error {
	var declared []string
	for _, k := range keys {
		if _, ok := c.desired.get(k); ok {
			declared = append(declared, name(k))
			continue
		}
		c.mu.Lock()
		c.explicit[k] = true
		c.pending[k] = true
		c.mu.Unlock()
	}
	// Containers first, so the volumes and images they use can go.
	sorted := append([]spec.Key(nil), keys...)
	sort.Slice(sorted, func(i, j int) bool { return kindOrder[sorted[i].Kind] > kindOrder[sorted[j].Kind] })
	for _, k := range sorted {
		c.queue.Add(k)
	}
	stop := c.runWorkers(ctx)
	defer stop()
	_, err := c.waitSettled(ctx, nil)
	if len(declared) > 0 {
		return fmt.Errorf("still declared by a watched source, not deleted: %s", strings.Join(declared, ", "))
	}
	return err
}

// runWorkers starts workers unless Run is running; stop ends them.
func (c *Controller) runWorkers(ctx context.Context) (stop func()) {
	c.engMu.Lock()
	running := c.runCtx != nil
	c.engMu.Unlock()
	if running {
		return func() {}
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := 0; i < c.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.work(wctx)
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// waitSettled polls until keys are Ready or failed for good and nothing
// awaits pruning.
func (c *Controller) waitSettled(ctx context.Context, keys []spec.Key) ([]ObjectStatus, error) {
	// Woken after every reconcile, but a check costs a pass over every
	// key: at most one a millisecond; the ticker makes the last one.
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	var last time.Time
	for {
		if time.Since(last) >= time.Millisecond {
			last = time.Now()
			out, bad, done := c.settled(keys)
			if done {
				if len(bad) > 0 {
					return out, fmt.Errorf("%d of %d objects not ready:\n  %s", len(bad), len(keys), strings.Join(bad, "\n  "))
				}
				return out, nil
			}
		}
		select {
		case <-ctx.Done():
			out, _, _ := c.settled(keys)
			var waiting []string
			for _, s := range out {
				if s.Phase != Ready {
					waiting = append(waiting, fmt.Sprintf("%s: %s %s", name(s.Key), s.Phase, s.Message))
				}
			}
			c.mu.Lock()
			for k := range c.pending {
				waiting = append(waiting, name(k)+": awaiting removal")
			}
			c.mu.Unlock()
			sort.Strings(waiting)
			return out, fmt.Errorf("timed out (%v) with %d objects not done:\n  %s", context.Cause(ctx), len(waiting), strings.Join(waiting, "\n  "))
		case <-c.progress:
		case <-t.C:
		}
	}
}

func (c *Controller) settled(keys []spec.Key) (out []ObjectStatus, bad []string, done bool) {
	// Work in hand may still change a Ready object (a rebuilt image queues
	// its containers).
	done = !c.queue.Busy()
	for _, k := range keys {
		s, ok := c.status.get(k)
		if !ok {
			s = ObjectStatus{Key: k, Phase: Progressing, Message: "queued"}
		}
		out = append(out, s)
		switch s.Phase {
		case Ready:
		case Failed, Unknown:
			// A failure not being retried (exit code under restartPolicy
			// Never) is final at once; others after a few attempts.
			if n := c.queue.Failures(k); n != 0 && n < settleRetries {
				done = false
			}
			bad = append(bad, fmt.Sprintf("%s: %s: %s", name(k), s.Phase, s.Message))
		default:
			done = false
		}
	}
	c.mu.Lock()
	for k := range c.pending {
		if c.queue.Failures(k) < settleRetries {
			done = false
		} else {
			bad = append(bad, name(k)+": could not be removed: "+c.lastErr[k])
		}
	}
	c.mu.Unlock()
	SortStatuses(out)
	return out, bad, done
}
