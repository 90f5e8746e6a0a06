package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/spec"
)

// containerReconciler makes one container match its declaration: created
// once its image and volumes are ready, recreated when its spec or image
// changed, started when it should run, removed when no longer declared.
type containerReconciler struct{ c *Controller }

// crashLoopRestarts is how many engine restarts make a restarting
// container Failed rather than Progressing.
const crashLoopRestarts = 3

// waitRetry is how soon a key waiting on a dependency looks again; the
// dependency queues it earlier when it becomes ready.
const waitRetry = time.Second

func (r containerReconciler) Reconcile(ctx context.Context, key spec.Key) (Result, error) {
	c := r.c
	eng, err := c.engine(key.Host)
	if err != nil {
		return Result{}, err
	}
	actual, err := eng.Containers(ctx, selector(spec.KindContainer, key.Name))
	if err != nil {
		return Result{}, unreachable{fmt.Errorf("list containers: %w", err)}
	}
	obj, ok := c.desired.get(key)
	if !ok {
		return r.prune(ctx, eng, key, actual)
	}
	return r.converge(ctx, eng, key, obj, actual)
}

// prune removes the managed containers of key that may be pruned.
func (r containerReconciler) prune(ctx context.Context, eng engine.Engine, key spec.Key, actual []engine.Container) (Result, error) {
	c := r.c
	for _, a := range actual {
		src := a.Labels[engine.LabelSource]
		if !c.prunable(key, src) {
			continue
		}
		anon, err := anonymousMounts(ctx, eng, a, nil)
		if err != nil {
			return Result{}, err
		}
		if err := removeContainer(ctx, eng, a, graceLabel(a.Labels)); err != nil {
			return Result{}, err
		}
		reasons := []string{pruneReason(c, key, src)}
		if len(anon) > 0 {
			data := "its data"
			if len(anon) > 1 {
				data = "their data"
			}
			reasons = append(reasons, "kept its anonymous "+volumeList(anon)+" with "+data+" (volume prune removes unused anonymous volumes)")
		}
		c.act("remove", key, reasons...)
	}
	c.donePruning(key)
	return Result{}, nil
}

func pruneReason(c *Controller, key spec.Key, src string) string {
	c.mu.Lock()
	explicit := c.explicit[key]
	c.mu.Unlock()
	if explicit {
		return "deleted"
	}
	return "no longer declared by " + src
}

func graceLabel(l map[string]string) time.Duration {
	if d, err := time.ParseDuration(l[LabelStopGrace]); err == nil {
		return d
	}
	return DefaultStopGrace
}

// removeContainer stops a container with its grace period and removes it.
func removeContainer(ctx context.Context, eng engine.Engine, ctr engine.Container, grace time.Duration) error {
	if ctr.State == engine.StateRunning || ctr.State == engine.StateRestarting {
		if err := eng.StopContainer(ctx, ctr.ID, grace); err != nil && !errors.Is(err, engine.ErrNotFound) {
			return fmt.Errorf("stop container %s: %w", ctr.Name, err)
		}
	}
	err := eng.RemoveContainer(ctx, ctr.ID, false)
	if errors.Is(err, engine.ErrConflict) {
		// Its restart policy brought it back between stop and remove.
		err = eng.RemoveContainer(ctx, ctr.ID, true)
	}
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return fmt.Errorf("remove container %s: %w", ctr.Name, err)
	}
	return nil
}

func (r containerReconciler) converge(ctx context.Context, eng engine.Engine, key spec.Key, obj spec.Object, actual []engine.Container) (Result, error) {
	c := r.c
	decl := obj.Container
	if wait, err := r.dependencies(key, obj); wait != "" || err != nil {
		if err != nil {
			return Result{}, err
		}
		c.status.update(key, func(s *ObjectStatus) { s.Phase, s.Message = Progressing, wait })
		return Result{RequeueAfter: waitRetry}, nil
	}
	img, err := eng.InspectImage(ctx, decl.Spec.Image)
	if errors.Is(err, engine.ErrNotFound) {
		if im, ok := c.desired.imageFor(key.Host, decl.Spec.Image); ok {
			// Declared and once made, now gone: have it made again.
			c.queue.Add(im.Key)
			c.status.update(key, func(s *ObjectStatus) { s.Phase, s.Message = Progressing, "waiting for image "+decl.Spec.Image })
			return Result{RequeueAfter: waitRetry}, nil
		}
		return Result{}, fmt.Errorf("image %q is not on host %s: declare an Image object with tag %q, or pull or load it", decl.Spec.Image, key.Host, decl.Spec.Image)
	}
	if err != nil {
		return Result{}, fmt.Errorf("inspect image %q: %w", decl.Spec.Image, err)
	}
	cfg, err := ContainerConfig(obj, img.ID)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", where(obj.Source), err)
	}
	st, _ := c.status.get(key)
	wasConverged := st.converged && st.ObservedHash == obj.Hash

	// The container carrying the object's name is the current one. Others
	// of the object are predecessors: an old container a recreate renamed
	// and was interrupted before removing (it holds the anonymous volumes
	// the new one takes over), or one renamed by hand.
	var cur *engine.Container
	var preds []engine.Container
	for i := range actual {
		if actual[i].Name == cfg.Name && cur == nil {
			cur = &actual[i]
		} else {
			preds = append(preds, actual[i])
		}
	}

	if cur == nil {
		verb, reasons := "create", []string(nil)
		switch {
		case len(preds) > 0:
			verb, reasons = "recreate", []string{"replacing " + names(preds)}
		case wasConverged:
			c.drift(key, "removed")
			verb, reasons = "recreate", []string{"removed behind our back"}
		}
		return r.replace(ctx, eng, key, obj, cfg, preds, verb, reasons)
	}
	// The current container was made with the predecessors' volumes.
	for _, p := range preds {
		if err := removeContainer(ctx, eng, p, graceLabel(p.Labels)); err != nil {
			return Result{}, err
		}
		c.act("remove", key, "duplicate container "+p.Name)
	}

	var reasons []string
	if cur.Labels[engine.LabelSpecHash] != obj.Hash {
		reasons = specReasons(cur.Labels, decl, obj.Hash)
		if wasConverged {
			c.drift(key, "changed")
		}
	}
	if old := cur.Labels[engine.LabelImageID]; old != img.ID {
		reasons = append(reasons, fmt.Sprintf("image %s changed: %s -> %s", decl.Spec.Image, short(old), short(img.ID)))
	}
	if len(reasons) > 0 {
		c.status.update(key, func(s *ObjectStatus) { s.Phase, s.Message = Progressing, "recreating" })
		old, err := retire(ctx, eng, *cur)
		if err != nil {
			return Result{}, err
		}
		return r.replace(ctx, eng, key, obj, cfg, []engine.Container{old}, "recreate", reasons)
	}

	switch cur.State {
	case engine.StateRunning:
		r.ready(key, obj, cur.ID, cur.Restarts, cur.Created, "running")
		return Result{}, nil
	case engine.StateRestarting:
		// Its engine restarts it after each crash; after a few crashes in a
		// row it is failing, not progressing (apply stops waiting for it).
		phase, msg := Progressing, fmt.Sprintf("restarting after exit code %d", cur.ExitCode)
		if cur.Restarts >= crashLoopRestarts {
			phase, msg = Failed, fmt.Sprintf("crash-looping: exited with code %d, restarted %d times", cur.ExitCode, cur.Restarts)
		}
		c.status.update(key, func(s *ObjectStatus) {
			s.Phase, s.Message, s.Restarts, s.ID = phase, msg, cur.Restarts, cur.ID
			s.ObservedHash, s.Created = obj.Hash, cur.Created
			if phase == Failed {
				s.LastError = msg
			}
		})
		return Result{RequeueAfter: waitRetry}, nil
	case engine.StateCreated:
		return r.start(ctx, eng, key, obj, cur, "created but not started")
	}
	// Exited or dead: whether to start it depends on its restart policy.
	policy := restartPolicy(decl)
	if policy == spec.RestartAlways || (policy == spec.RestartOnFailure && cur.ExitCode != 0) {
		// Engines report a container their restart policy will bring back
		// as restarting, so an exited one was stopped for good (by hand, or
		// its engine gave up): start it.
		if wasConverged {
			c.drift(key, "stopped")
		}
		return r.start(ctx, eng, key, obj, cur, fmt.Sprintf("%s (exit code %d), restartPolicy %s", cur.State, cur.ExitCode, policy))
	}
	if cur.ExitCode == 0 {
		r.ready(key, obj, cur.ID, cur.Restarts, cur.Created, "completed")
		return Result{}, nil
	}
	msg := fmt.Sprintf("exited with code %d (restartPolicy %s)", cur.ExitCode, policy)
	c.status.update(key, func(s *ObjectStatus) {
		s.Phase, s.Message, s.LastError = Failed, msg, msg
		s.ObservedHash, s.ID, s.Restarts, s.Created = obj.Hash, cur.ID, cur.Restarts, cur.Created
	})
	return Result{}, nil
}

// dependencies says what key waits for (its Image and Volume objects), or
// fails when one of them failed.
func (r containerReconciler) dependencies(key spec.Key, obj spec.Object) (string, error) {
	c := r.c
	s := obj.Container.Spec
	if im, ok := c.desired.imageFor(key.Host, s.Image); ok {
		st, _ := c.status.get(im.Key)
		switch {
		case st.Phase == Failed:
			return "", fmt.Errorf("image %s failed: %s", s.Image, st.Message)
		case st.Phase != Ready || st.ObservedHash != im.Hash:
			return "waiting for image " + s.Image, nil
		}
	}
	for _, v := range s.Volumes {
		vk := spec.Key{Host: key.Host, Kind: spec.KindVolume, Name: v.Name}
		if _, ok := c.desired.get(vk); !ok {
			continue // not ours to make: the engine says whether it exists
		}
		st, _ := c.status.get(vk)
		switch st.Phase {
		case Ready:
		case Failed:
			return "", fmt.Errorf("volume %s failed: %s", v.Name, st.Message)
		default:
			return "waiting for volume " + v.Name, nil
		}
	}
	return "", nil
}

// replace creates key's container from cfg in place of preds (none, or
// the containers it succeeds, renamed), with their anonymous volumes (an
// image VOLUME's data, as compose carries them over), removes them and
// starts it. At every step some container holds those volumes, so an
// interrupted replace is finished by the next reconcile, of this process
// or another.
func (r containerReconciler) replace(ctx context.Context, eng engine.Engine, key spec.Key, obj spec.Object, cfg engine.ContainerConfig, preds []engine.Container, verb string, reasons []string) (Result, error) {
	c := r.c
	kept, err := carryOver(ctx, eng, preds, &cfg)
	if err != nil {
		return Result{}, err
	}
	if kept != "" {
		reasons = append(reasons, kept)
	}
	c.status.update(key, func(s *ObjectStatus) { s.Phase, s.Message = Progressing, "creating" })
	id, err := eng.CreateContainer(ctx, cfg)
	if errors.Is(err, engine.ErrConflict) {
		return Result{}, clash(ctx, eng, key, cfg.Name, err)
	}
	if err != nil {
		return Result{}, fmt.Errorf("create: %w", err)
	}
	for _, p := range preds {
		if err := removeContainer(ctx, eng, p, graceLabel(p.Labels)); err != nil {
			return Result{}, err
		}
	}
	if err := eng.StartContainer(ctx, id); err != nil {
		if kept != "" {
			// It holds the anonymous volumes now: keep it (created), so
			// the next attempt carries them on from it.
			return Result{}, fmt.Errorf("start: %w (the container stays created, holding its anonymous volumes)", err)
		}
		// Leave nothing half made: the retry creates it afresh.
		if rerr := eng.RemoveContainer(ctx, id, true); rerr != nil && !errors.Is(rerr, engine.ErrNotFound) {
			return Result{}, fmt.Errorf("start: %w (and removing it: %v)", err, rerr)
		}
		return Result{}, fmt.Errorf("start: %w", err)
	}
	c.act(verb, key, reasons...)
	r.ready(key, obj, id, 0, time.Now(), "running")
	return Result{}, nil
}

// names lists containers' names for a message.
func names(ctrs []engine.Container) string {
	ns := make([]string, len(ctrs))
	for i, ctr := range ctrs {
		ns[i] = ctr.Name
	}
	return strings.Join(ns, ", ")
}

// clash turns a name conflict into an error that names the other owner.
func clash(ctx context.Context, eng engine.Engine, key spec.Key, n string, cause error) error {
	all, err := eng.Containers(ctx, nil)
	if err == nil {
		for _, o := range all {
			if o.Name != n {
				continue
			}
			if o.Labels[engine.LabelManaged] != "true" {
				return fmt.Errorf("a container named %q already exists on host %s and is not managed by reconciler (no %s label): rename or remove it, or rename this object", n, key.Host, engine.LabelManaged)
			}
			return fmt.Errorf("container name %q is taken by %s/%s on host %s: rename one of them", n, o.Labels[engine.LabelKind], o.Labels[engine.LabelName], key.Host)
		}
	}
	return fmt.Errorf("create: %w", cause)
}

func (r containerReconciler) start(ctx context.Context, eng engine.Engine, key spec.Key, obj spec.Object, cur *engine.Container, why string) (Result, error) {
	if err := eng.StartContainer(ctx, cur.ID); err != nil {
		return Result{}, fmt.Errorf("start: %w", err)
	}
	r.c.act("start", key, why)
	r.ready(key, obj, cur.ID, cur.Restarts, cur.Created, "running")
	return Result{}, nil
}

func (r containerReconciler) ready(key spec.Key, obj spec.Object, id string, restarts int, created time.Time, msg string) {
	r.c.markReady(key, obj, func(s *ObjectStatus) {
		s.ID, s.Restarts, s.Created, s.Message = id, restarts, created, msg
	})
}
