package reconcile

import (
	"context"
	"fmt"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/spec"
)

// hostReconciler checks that a declared host's engine answers; when it
// comes back, the objects on it are queued at once instead of waiting out
// their backoff.
type hostReconciler struct{ c *Controller }

func (r hostReconciler) Reconcile(ctx context.Context, key spec.Key) (Result, error) {
	c := r.c
	obj, ok := c.desired.get(key)
	if !ok {
		c.donePruning(key)
		return Result{}, nil
	}
	eng, err := c.engine(key.Name)
	if err == nil {
		// Listing what matches nothing is the cheapest question an engine answers.
		_, err = eng.Containers(ctx, map[string]string{engine.LabelManaged: "true", engine.LabelKind: "-ping-"})
	}
	if err != nil {
		return Result{}, unreachable{fmt.Errorf("host %s: %w", key.Name, err)}
	}
	prev, _ := c.status.get(key)
	c.markReady(key, obj, func(s *ObjectStatus) { s.Message = "reachable" })
	if prev.Phase != Ready {
		for _, k := range c.desired.onHost(key.Name) {
			c.queue.Add(k)
		}
	}
	return Result{}, nil
}
