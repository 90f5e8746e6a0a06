package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/reconciler/reconciler/engine"
)

// bus fans engine events out to subscribers. A subscriber that falls
// behind loses events rather than stalling the engine: the controller's
// periodic resync covers what it missed.
type bus struct {
	mu     sync.Mutex
	subs   map[chan engine.Event]struct{}
	closed bool
}

func newBus() *bus { return &bus{subs: map[chan engine.Event]struct{}{}} }

func (b *bus) subscribe(ctx context.Context) <-chan engine.Event {
	ch := make(chan engine.Event, 256)
	b.mu.Lock()
	if b.closed {
		close(ch)
		b.mu.Unlock()
		return ch
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
		b.mu.Unlock()
	}()
	return ch
}

func (b *bus) publish(ev engine.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

func (b *bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		close(ch)
		delete(b.subs, ch)
	}
}

func (e *Engine) publish(typ, action, id string, labels map[string]string) {
	e.bus.publish(engine.Event{Type: typ, Action: action, ID: id, Labels: labels, Time: time.Now()})
}

// forwardContainerEvents puts the runtime's container events on the bus.
func (e *Engine) forwardContainerEvents() {
	for ev := range e.containers.Subscribe(context.Background()) {
		e.bus.publish(engine.Event{Type: engine.EventContainer, Action: ev.Action, ID: ev.ID, Labels: ev.Labels, Attributes: ev.Attributes, Time: ev.Time})
	}
}

// Events streams container, image and volume events until ctx ends.
func (e *Engine) Events(ctx context.Context) (<-chan engine.Event, <-chan error) {
	errs := make(chan error)
	return e.bus.subscribe(ctx), errs
}

func newContainerID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var _ engine.Engine = (*Engine)(nil)
