package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/spec"
)

// volumeReconciler makes a named volume exist. A volume is never
// recreated (its data would go) and is pruned only under reclaimPolicy
// Delete, after the containers using it are gone.
type volumeReconciler struct{ c *Controller }

func (r volumeReconciler) Reconcile(ctx context.Context, key spec.Key) (Result, error) {
	c := r.c
	eng, err := c.engine(key.Host)
	if err != nil {
		return Result{}, err
	}
	actual, err := eng.Volumes(ctx, selector(spec.KindVolume, key.Name))
	if err != nil {
		return Result{}, unreachable{fmt.Errorf("list volumes: %w", err)}
	}
	obj, ok := c.desired.get(key)
	if !ok {
		return r.prune(ctx, eng, key, actual)
	}
	for _, v := range actual {
		if v.Name != key.Name {
			continue
		}
		if h := v.Labels[engine.LabelSpecHash]; h != obj.Hash {
			reasons := specReasons(v.Labels, obj.Volume, obj.Hash)
			c.notice("volspec:"+key.String()+obj.Hash, fmt.Sprintf("keep %s: its spec changed (%s), but a volume is never recreated: its data is kept as it is", name(key), joinReasons(reasons)))
		}
		r.ready(key, obj, v)
		return Result{}, nil
	}
	cfg, err := VolumeConfig(obj)
	if err != nil {
		return Result{}, err
	}
	st, _ := c.status.get(key)
	v, err := eng.EnsureVolume(ctx, cfg)
	if err != nil {
		return Result{}, fmt.Errorf("create volume: %w", err)
	}
	if v.Labels[engine.LabelManaged] != "true" || v.Labels[engine.LabelName] != key.Name {
		return Result{}, fmt.Errorf("a volume named %q already exists on host %s and is not managed by reconciler (no %s label): its data is left alone; rename this object or move the data to a managed volume", key.Name, key.Host, engine.LabelManaged)
	}
	if st.converged && st.ObservedHash == obj.Hash {
		c.drift(key, "removed")
		c.act("recreate", key, "removed behind our back (the old data is gone)")
	} else {
		c.act("create", key)
	}
	r.ready(key, obj, v)
	return Result{}, nil
}

func (r volumeReconciler) ready(key spec.Key, obj spec.Object, v engine.Volume) {
	r.c.markReady(key, obj, func(s *ObjectStatus) { s.ID, s.Created, s.Message = v.Name, v.CreatedAt, "present" })
}

func (r volumeReconciler) prune(ctx context.Context, eng engine.Engine, key spec.Key, actual []engine.Volume) (Result, error) {
	c := r.c
	for _, v := range actual {
		src := v.Labels[engine.LabelSource]
		if !c.prunable(key, src) {
			continue
		}
		if policy := v.Labels[LabelReclaim]; policy != spec.ReclaimDelete {
			c.notice("retain:"+key.String()+v.CreatedAt.String(), fmt.Sprintf("keep %s: reclaimPolicy Retain, its data is kept (remove it by hand when no longer needed)", name(key)))
			continue
		}
		err := eng.RemoveVolume(ctx, v.Name)
		if errors.Is(err, engine.ErrConflict) {
			if c.pruningContainers(key.Host) {
				return Result{RequeueAfter: inUseRetry}, nil // they are on their way out
			}
			return Result{}, fmt.Errorf("remove volume: %w", err)
		}
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			return Result{}, fmt.Errorf("remove volume: %w", err)
		}
		c.act("remove", key, pruneReason(c, key, src)+", reclaimPolicy Delete")
	}
	c.donePruning(key)
	return Result{}, nil
}
