package dockerapi

import (
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
)

// EventBus keeps the last events and fans new ones out to subscribers, so
// an engine can implement SubscribeEvents by publishing into one. A slow
// subscriber loses events rather than blocking the engine.
type EventBus struct {
	mu     sync.Mutex
	ring   []events.Message
	keep   int
	subs   map[chan events.Message]struct{}
	buffer int
}

// NewEventBus keeps the last keep events (for `events --since`).
func NewEventBus(keep int) *EventBus {
	return &EventBus{keep: keep, subs: map[chan events.Message]struct{}{}, buffer: 256}
}

// Publish records m (setting Time and TimeNano if zero, and scope local)
// and delivers it to every subscriber.
func (b *EventBus) Publish(m events.Message) {
	if m.TimeNano == 0 {
		now := time.Now()
		m.TimeNano = now.UnixNano()
		m.Time = now.Unix()
	}
	if m.Scope == "" {
		m.Scope = "local"
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ring = append(b.ring, m)
	if len(b.ring) > b.keep {
		b.ring = append([]events.Message(nil), b.ring[len(b.ring)-b.keep:]...)
	}
	for ch := range b.subs {
		select {
		case ch <- m:
		default:
		}
	}
}

// SubscribeEvents implements SystemBackend.
func (b *EventBus) SubscribeEvents(since time.Time) ([]events.Message, <-chan events.Message, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var past []events.Message
	if !since.IsZero() {
		for _, m := range b.ring {
			if m.TimeNano >= since.UnixNano() {
				past = append(past, m)
			}
		}
	}
	ch := make(chan events.Message, b.buffer)
	b.subs[ch] = struct{}{}
	var once sync.Once
	return past, ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Subscribers is the number of live subscriptions (NEventsListener).
func (b *EventBus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
