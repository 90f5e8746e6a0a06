package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/spec"
)

// imageReconciler makes an image tag present, built (or imported, or
// pulled) from its current spec, and rebuilds it when the spec changes.
type imageReconciler struct{ c *Controller }

// inUseRetry is how soon a prune refused because of users is tried again.
const inUseRetry = 500 * time.Millisecond

func (r imageReconciler) Reconcile(ctx context.Context, key spec.Key) (Result, error) {
	c := r.c
	eng, err := c.engine(key.Host)
	if err != nil {
		return Result{}, err
	}
	obj, ok := c.desired.get(key)
	if !ok {
		return r.prune(ctx, eng, key)
	}
	src, err := ImageSource(obj)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", where(obj.Source), err)
	}
	var sums map[string]string
	if src.Build != nil {
		var digest string
		if digest, sums, err = c.contexts.digest(src.Build.Context, src.Build.Dockerfile); err != nil {
			return Result{}, err
		}
		src.Labels[LabelContext] = digest
	}
	cur, err := eng.InspectImage(ctx, src.Tag)
	found := err == nil
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return Result{}, unreachable{fmt.Errorf("inspect image %s: %w", src.Tag, err)}
	}
	st, _ := c.status.get(key)
	sameContext := src.Build == nil || cur.Labels[LabelContext] == src.Labels[LabelContext]
	if found && c.imageUpToDate(key, obj, cur) && sameContext {
		r.ready(key, obj, cur)
		return Result{}, nil
	}
	verb, reasons := verbOf(src), []string(nil)
	switch {
	case found && cur.Labels[engine.LabelSpecHash] == obj.Hash:
		verb, reasons = "re"+verb, []string{contextReason(c.contexts.changed(src.Build.Context, sums))}
	case found && cur.Labels[engine.LabelSpecHash] != "":
		verb, reasons = "re"+verb, specReasons(cur.Labels, obj.Image, obj.Hash)
	case found:
		verb, reasons = "re"+verb, []string{"tag " + src.Tag + " exists but was not made from this spec"}
	case st.converged && st.ObservedHash == obj.Hash:
		c.drift(key, "removed")
		reasons = []string{"removed behind our back"}
	}
	c.status.update(key, func(s *ObjectStatus) { s.Phase, s.Message = Progressing, verb+"ing" })
	c.act(verb, key, reasons...)
	progress := &linePrefixer{c: c, prefix: "  " + name(key) + " | "}
	img, err := eng.EnsureImage(ctx, src, progress)
	progress.Flush()
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", verb, err)
	}
	c.mu.Lock()
	c.images[key] = appliedImage{hash: obj.Hash, id: img.ID}
	c.mu.Unlock()
	if src.Build != nil {
		c.contexts.record(src.Build.Context, sums)
	}
	r.ready(key, obj, img)
	return Result{}, nil
}

func verbOf(src engine.ImageSource) string {
	switch {
	case src.Build != nil:
		return "build"
	case src.Import != nil:
		return "import"
	}
	return "pull"
}

// imageUpToDate: the tag's image carries this spec's hash or, for engines
// that keep no labels on pulled or imported images, this process made it
// from this spec.
func (c *Controller) imageUpToDate(key spec.Key, obj spec.Object, cur engine.Image) bool {
	if cur.Labels[engine.LabelSpecHash] == obj.Hash {
		return true
	}
	c.mu.Lock()
	rec, ok := c.images[key]
	c.mu.Unlock()
	return ok && rec.hash == obj.Hash && rec.id == cur.ID
}

// ready marks the image Ready and, when its ID is new to the containers
// using it, queues them (markReady does on the way to Ready).
func (r imageReconciler) ready(key spec.Key, obj spec.Object, img engine.Image) {
	c := r.c
	prev, _ := c.status.get(key)
	c.markReady(key, obj, func(s *ObjectStatus) { s.ID, s.Created, s.Message = img.ID, img.Created, "present" })
	if prev.Phase == Ready && prev.ID != img.ID {
		c.wakeUsers(key, obj)
	}
}

// prune removes managed images of this name that may be pruned; an image
// still used by a container is kept until it is not.
func (r imageReconciler) prune(ctx context.Context, eng engine.Engine, key spec.Key) (Result, error) {
	c := r.c
	imgs, err := eng.Images(ctx, selector(spec.KindImage, key.Name))
	if err != nil {
		return Result{}, unreachable{fmt.Errorf("list images: %w", err)}
	}
	for _, img := range imgs {
		src := img.Labels[engine.LabelSource]
		// Untagged ones are a build's intermediate images or superseded
		// builds: they go with the tagged image, or with an image prune.
		if len(img.RepoTags) == 0 || !c.prunable(key, src) {
			continue
		}
		for _, tag := range img.RepoTags {
			err := eng.RemoveImage(ctx, tag)
			if errors.Is(err, engine.ErrConflict) {
				if c.pruningContainers(key.Host) {
					c.notice("inuse:"+img.ID, fmt.Sprintf("keep %s until the containers using it are removed", name(key)))
					return Result{RequeueAfter: inUseRetry}, nil
				}
				return Result{}, fmt.Errorf("remove image %s: %w", tag, err)
			}
			if err != nil && !errors.Is(err, engine.ErrNotFound) {
				return Result{}, fmt.Errorf("remove image %s: %w", tag, err)
			}
		}
		c.act("remove", key, pruneReason(c, key, src))
	}
	c.mu.Lock()
	delete(c.images, key)
	c.mu.Unlock()
	c.donePruning(key)
	return Result{}, nil
}

// linePrefixer writes an engine's progress to the controller's output,
// one prefixed line at a time.
type linePrefixer struct {
	c      *Controller
	prefix string
	mu     sync.Mutex
	buf    bytes.Buffer
}

var _ io.Writer = (*linePrefixer)(nil)

func (w *linePrefixer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line) // incomplete: keep for later
			return len(p), nil
		}
		w.c.printf("%s%s", w.prefix, line[:len(line)-1])
	}
}

// Flush writes a last line without newline.
func (w *linePrefixer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() > 0 {
		w.c.printf("%s%s", w.prefix, w.buf.String())
		w.buf.Reset()
	}
}
