package client

import (
	"context"
	"time"

	"github.com/moby/moby/api/types/events"
	moby "github.com/moby/moby/client"

	"github.com/reconciler/reconciler/engine"
)

// dockerAttributes are actor attributes Docker itself sets; the others on
// container, image and volume events are the object's labels.
var dockerAttributes = map[string]bool{
	"name": true, "image": true, "exitCode": true, "signal": true, "execID": true,
	"driver": true, "container": true, "type": true, "destination": true, "propagation": true,
	"read/write": true,
}

// Events implements engine.Engine: container, image and volume events
// until ctx ends. The error channel reports a lost stream, after which both
// channels close; the caller resubscribes (and resyncs).
func (e *Engine) Events(ctx context.Context) (<-chan engine.Event, <-chan error) {
	f := moby.Filters{}
	f.Add("type", string(events.ContainerEventType), string(events.ImageEventType), string(events.VolumeEventType))
	res := e.api.Events(ctx, moby.EventsListOptions{Filters: f})
	out := make(chan engine.Event, 64)
	errs := make(chan error, 1)
	go func() {
		defer close(out)
		defer close(errs)
		for {
			select {
			case m, ok := <-res.Messages:
				if !ok {
					return
				}
				select {
				case out <- toEvent(m):
				case <-ctx.Done():
					return
				}
			case err := <-res.Err:
				if err != nil && ctx.Err() == nil {
					errs <- e.wrap("events", err)
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errs
}

func toEvent(m events.Message) engine.Event {
	ev := engine.Event{Type: string(m.Type), Action: string(m.Action), ID: m.Actor.ID, Time: time.Unix(0, m.TimeNano)}
	if m.TimeNano == 0 {
		ev.Time = time.Unix(m.Time, 0)
	}
	for k, v := range m.Actor.Attributes {
		if dockerAttributes[k] {
			if ev.Attributes == nil {
				ev.Attributes = map[string]string{}
			}
			ev.Attributes[k] = v
			continue
		}
		if ev.Labels == nil {
			ev.Labels = map[string]string{}
		}
		ev.Labels[k] = v
	}
	return ev
}
