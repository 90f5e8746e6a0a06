// Package localbackend serves the local engine through the Docker Engine
// API: it implements dockerapi.Backend over engine/local, translating
// Docker's request and response types to the engine's, so the real docker
// CLI and our own CLI see the same containers, images and volumes.
package localbackend

import (
	"context"
	"sync"

	"github.com/moby/moby/api/types/events"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/local"
)

// Backend is dockerapi.Backend over a local engine.
type Backend struct {
	dockerapi.FixedNetworks

	e   *local.Engine
	bus *dockerapi.EventBus

	mu    sync.Mutex
	execs map[string]*execution

	ctx  context.Context // ends at Close
	stop context.CancelFunc
	// removals are the --rm containers being waited for or removed
	// (autoRemove), which Close waits for.
	removals sync.WaitGroup
}

var _ dockerapi.Backend = (*Backend)(nil)

// New serves e. Close stops its background work (not e).
func New(e *local.Engine) *Backend {
	ctx, cancel := context.WithCancel(context.Background())
	b := &Backend{e: e, bus: dockerapi.NewEventBus(1024), execs: map[string]*execution{}, ctx: ctx, stop: cancel}
	b.FixedNetworks.Attached, b.FixedNetworks.Created = b.networkAttachments, born(e.Root())
	evs, _ := e.Events(ctx)
	go b.forwardEvents(evs)
	return b
}

// Engine is the engine served, for in-process users beside the API (the
// daemon's controller).
func (b *Backend) Engine() engine.Engine { return b.e }

// Close stops forwarding events and waiting for --rm containers to exit,
// and returns once the removals under way are done.
func (b *Backend) Close() error {
	b.stop()
	b.removals.Wait()
	return nil
}

// forwardEvents turns the engine's events into Docker's event messages,
// with the actor attributes docker's CLI shows (name, image, labels).
func (b *Backend) forwardEvents(evs <-chan engine.Event) {
	for ev := range evs {
		attrs := map[string]string{}
		for k, v := range ev.Labels {
			attrs[k] = v
		}
		for k, v := range ev.Attributes {
			attrs[k] = v
		}
		if ev.Type == engine.EventVolume {
			attrs["driver"] = "local"
		}
		b.bus.Publish(events.Message{
			Type:     events.Type(ev.Type),
			Action:   events.Action(ev.Action),
			Actor:    events.Actor{ID: ev.ID, Attributes: attrs},
			Scope:    "local",
			Time:     ev.Time.Unix(),
			TimeNano: ev.Time.UnixNano(),
		})
	}
}
