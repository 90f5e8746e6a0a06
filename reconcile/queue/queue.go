// Package queue is the controller's work queue, in the manner of client-go's
// workqueue: a key added many times before a worker takes it is processed
// once; a key being processed is never handed to a second worker, and if it
// is added meanwhile it comes back once the first worker is Done. Failed
// keys come back after a per-key exponential backoff.
package queue

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Options tune a Queue. Zero values take the defaults.
type Options struct {
	BaseDelay time.Duration // first retry delay; default 100ms
	MaxDelay  time.Duration // retry delay cap; default 1m
	// OnDepth is called with the number of waiting keys whenever it changes.
	OnDepth func(int)
	// OnRetry is called whenever a key is requeued after a failure.
	OnRetry func()
}

// Queue is a de-duplicating, rate-limited work queue of keys K.
type Queue[K comparable] struct {
	opts Options

	mu         sync.Mutex
	cond       *sync.Cond
	order      []K             // keys ready to hand out, FIFO
	dirty      map[K]bool      // keys waiting (in order, or re-added while processing)
	processing map[K]bool      // keys a worker holds
	failures   map[K]int       // consecutive failures, for backoff
	delayed    delayHeap[K]    // keys to add later
	waiting    map[K]time.Time // earliest pending delayed add per key
	shutdown   bool
	timer      *time.Timer
}

// New returns an empty queue.
func New[K comparable](opts Options) *Queue[K] {
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = 100 * time.Millisecond
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = time.Minute
	}
	q := &Queue[K]{
		opts:       opts,
		dirty:      map[K]bool{},
		processing: map[K]bool{},
		failures:   map[K]int{},
		waiting:    map[K]time.Time{},
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add makes key due now. A key already waiting is not added twice.
func (q *Queue[K]) Add(key K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(key)
}

func (q *Queue[K]) addLocked(key K) {
	if q.shutdown || q.dirty[key] {
		return
	}
	q.dirty[key] = true
	if q.processing[key] {
		return // Done puts it back
	}
	q.order = append(q.order, key)
	q.depthChanged()
	q.cond.Signal()
}

func (q *Queue[K]) depthChanged() {
	if q.opts.OnDepth != nil {
		q.opts.OnDepth(len(q.order))
	}
}

// AddAfter makes key due after d. Of several pending delayed adds of one
// key, the earliest wins.
func (q *Queue[K]) AddAfter(key K, d time.Duration) {
	if d <= 0 {
		q.Add(key)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	at := time.Now().Add(d)
	if prev, ok := q.waiting[key]; ok && !prev.After(at) {
		return
	}
	q.waiting[key] = at
	heap.Push(&q.delayed, delayed[K]{key: key, at: at})
	q.armLocked()
}

// AddRateLimited requeues key after its backoff: BaseDelay doubled for each
// consecutive failure, capped at MaxDelay. It returns the delay chosen.
func (q *Queue[K]) AddRateLimited(key K) time.Duration {
	q.mu.Lock()
	n := q.failures[key]
	q.failures[key] = n + 1
	q.mu.Unlock()
	d := q.opts.BaseDelay
	for i := 0; i < n && d < q.opts.MaxDelay; i++ {
		d *= 2
	}
	if d > q.opts.MaxDelay {
		d = q.opts.MaxDelay
	}
	if q.opts.OnRetry != nil {
		q.opts.OnRetry()
	}
	q.AddAfter(key, d)
	return d
}

// Forget resets key's backoff after a success.
func (q *Queue[K]) Forget(key K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.failures, key)
}

// Failures is the number of consecutive failures recorded for key.
func (q *Queue[K]) Failures(key K) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failures[key]
}

// armLocked (re)sets the timer for the earliest delayed key.
func (q *Queue[K]) armLocked() {
	if len(q.delayed) == 0 {
		return
	}
	d := time.Until(q.delayed[0].at)
	if q.timer == nil {
		q.timer = time.AfterFunc(d, q.promote)
		return
	}
	q.timer.Reset(d)
}

// promote moves due delayed keys into the queue.
func (q *Queue[K]) promote() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	for len(q.delayed) > 0 && !q.delayed[0].at.After(now) {
		d := heap.Pop(&q.delayed).(delayed[K])
		if at, ok := q.waiting[d.key]; ok && at.Equal(d.at) {
			delete(q.waiting, d.key)
			q.addLocked(d.key)
		}
	}
	q.armLocked()
}

// Get blocks until a key is due, then hands it to the caller, who must call
// Done with it. ok is false once the queue is shut down or ctx ends.
func (q *Queue[K]) Get(ctx context.Context) (key K, ok bool) {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.order) == 0 && !q.shutdown && ctx.Err() == nil {
		q.cond.Wait()
	}
	if q.shutdown || ctx.Err() != nil {
		return key, false
	}
	key = q.order[0]
	var zero K
	q.order[0] = zero
	q.order = q.order[1:]
	delete(q.dirty, key)
	q.processing[key] = true
	q.depthChanged()
	return key, true
}

// Done ends processing of key; if it was added meanwhile it is due again.
func (q *Queue[K]) Done(key K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, key)
	if q.dirty[key] && !q.shutdown {
		q.order = append(q.order, key)
		q.depthChanged()
		q.cond.Signal()
	}
}

// Len is the number of keys due now.
func (q *Queue[K]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order)
}

// Idle reports whether nothing is due, delayed or being processed.
func (q *Queue[K]) Idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order) == 0 && len(q.processing) == 0 && len(q.waiting) == 0
}

// Busy reports whether a key is due now or being processed (keys waiting
// out a delay do not count).
func (q *Queue[K]) Busy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order) > 0 || len(q.processing) > 0
}

// ShutDown wakes every Get with ok=false; later adds are ignored.
func (q *Queue[K]) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	if q.timer != nil {
		q.timer.Stop()
	}
	q.cond.Broadcast()
}

type delayed[K comparable] struct {
	key K
	at  time.Time
}

type delayHeap[K comparable] []delayed[K]

func (h delayHeap[K]) Len() int           { return len(h) }
func (h delayHeap[K]) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h delayHeap[K]) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *delayHeap[K]) Push(x any)        { *h = append(*h, x.(delayed[K])) }
func (h *delayHeap[K]) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
