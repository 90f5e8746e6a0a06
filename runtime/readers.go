package runtime

import (
	"sync"
	"time"
)

// readers counts, by container, what still reads it: the Attach streams
// reading its log (a removal right after the exit, docker run --rm, waits
// for them, or it could delete a log file a slow stream has not opened
// yet), the views of its root (cp, export) still open, or those of them
// that hold a run's root.
type readers struct {
	mu   sync.Mutex
	n    map[string]int
	idle map[string]chan struct{} // closed when n drops to 0
}

// add counts a reader of container id; the returned func uncounts it.
func (a *readers) add(id string) (done func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n, a.idle = map[string]int{}, map[string]chan struct{}{}
	}
	if a.n[id] == 0 {
		a.idle[id] = make(chan struct{})
	}
	a.n[id]++
	return func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.n[id]--; a.n[id] == 0 {
			close(a.idle[id])
			delete(a.n, id)
			delete(a.idle, id)
		}
	}
}

// wait returns once nothing reads container id (true), or after max
// (false), for a client that stopped reading.
func (a *readers) wait(id string, max time.Duration) bool {
	a.mu.Lock()
	idle := a.idle[id]
	a.mu.Unlock()
	if idle == nil {
		return true
	}
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-idle:
		return true
	case <-t.C:
		return false
	}
}

// any reports whether something still reads container id.
func (a *readers) any(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[id] > 0
}
