package reconcile

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/spec"
)

// markReady records that key matches obj, prints the transition, and
// applies fn for kind-specific fields. An image or volume becoming Ready
// wakes the containers waiting for it, whoever noticed (its reconcile or
// a resync).
func (c *Controller) markReady(key spec.Key, obj spec.Object, fn func(*ObjectStatus)) {
	var was Phase
	c.status.update(key, func(s *ObjectStatus) {
		was = s.Phase
		s.Phase, s.LastError = Ready, ""
		s.Source, s.ObservedHash, s.DesiredHash, s.converged = obj.Source.File, obj.Hash, obj.Hash, true
		fn(s)
	})
	if was != Ready {
		c.printf("ready %s", name(key))
		c.wakeUsers(key, obj)
	}
}

// wakeUsers queues the desired containers that use an image or volume.
func (c *Controller) wakeUsers(key spec.Key, obj spec.Object) {
	var users []spec.Key
	switch key.Kind {
	case spec.KindImage:
		users = c.desired.containersUsing(key.Host, obj.Image.Spec.Tag, "")
	case spec.KindVolume:
		users = c.desired.containersUsing(key.Host, "", key.Name)
	}
	for _, k := range users {
		c.queue.Add(k)
	}
}

// pendingPrune records keys whose actual objects await pruning, so
// ApplyOnce and Delete know when they are done.
func (c *Controller) pendingPrune(key spec.Key) {
	c.mu.Lock()
	c.pending[key] = true
	c.mu.Unlock()
}

// pruningContainers reports whether containers on host await removal:
// the volumes and images they use are removed after them.
func (c *Controller) pruningContainers(host string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.pending {
		if k.Host == host && k.Kind == spec.KindContainer {
			return true
		}
	}
	return false
}

// donePruning forgets a key nothing declares any more.
func (c *Controller) donePruning(key spec.Key) {
	c.mu.Lock()
	delete(c.pending, key)
	delete(c.explicit, key)
	c.mu.Unlock()
	c.status.remove(key)
}

func joinReasons(r []string) string { return strings.Join(r, "; ") }

// Resync compares every host's managed objects with the declared ones in
// one listing per kind and queues only the keys that differ, so a resync
// of a converged host costs three list calls and changes nothing.
func (c *Controller) Resync(ctx context.Context) {
	hosts := map[string]bool{}
	for _, h := range c.desired.hosts() {
		hosts[h] = true
	}
	c.engMu.Lock()
	for h := range c.engines {
		hosts[h] = true
	}
	c.engMu.Unlock()
	names := make([]string, 0, len(hosts))
	for h := range hosts {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		if ctx.Err() != nil {
			return
		}
		c.resyncHost(ctx, h)
	}
}

// actualState is one host's managed objects by kind and name.
type actualState struct {
	containers map[string][]engine.Container
	images     map[string][]engine.Image
	volumes    map[string][]engine.Volume
}

func (c *Controller) resyncHost(ctx context.Context, host string) {
	keys := c.desired.onHost(host)
	requeueAll := func() {
		for _, k := range keys {
			if k.Kind != spec.KindHost {
				c.queue.Add(k)
			}
		}
	}
	eng, err := c.engine(host)
	if err != nil {
		requeueAll()
		return
	}
	managed := map[string]string{engine.LabelManaged: "true"}
	act := actualState{containers: map[string][]engine.Container{}, images: map[string][]engine.Image{}, volumes: map[string][]engine.Volume{}}
	cs, err1 := eng.Containers(ctx, managed)
	imgs, err2 := eng.Images(ctx, managed)
	vols, err3 := eng.Volumes(ctx, managed)
	if err := errors.Join(err1, err2, err3); err != nil {
		requeueAll()
		return
	}
	for _, x := range cs {
		if x.Labels[engine.LabelKind] == spec.KindContainer {
			act.containers[x.Labels[engine.LabelName]] = append(act.containers[x.Labels[engine.LabelName]], x)
		}
	}
	for _, x := range imgs {
		// Untagged images with our labels are intermediate or superseded.
		if x.Labels[engine.LabelKind] == spec.KindImage && len(x.RepoTags) > 0 {
			act.images[x.Labels[engine.LabelName]] = append(act.images[x.Labels[engine.LabelName]], x)
		}
	}
	for _, x := range vols {
		if x.Labels[engine.LabelKind] == spec.KindVolume {
			act.volumes[x.Labels[engine.LabelName]] = append(act.volumes[x.Labels[engine.LabelName]], x)
		}
	}

	imageIDs := map[string]string{} // ref -> ID now, "" when absent
	imageID := func(ref string) string {
		id, ok := imageIDs[ref]
		if !ok {
			if img, err := eng.InspectImage(ctx, ref); err == nil {
				id = img.ID
			}
			imageIDs[ref] = id
		}
		return id
	}

	for _, k := range keys {
		obj, ok := c.desired.get(k)
		if !ok {
			continue
		}
		if !c.upToDate(obj, act, imageID) {
			c.queue.Add(k)
		}
	}
	// Managed objects nothing declares: prune where allowed.
	prune := func(kind, n string, labels map[string]string) {
		k := spec.Key{Host: host, Kind: kind, Name: n}
		if _, ok := c.desired.get(k); ok || !c.prunable(k, labels[engine.LabelSource]) {
			return
		}
		if kind == spec.KindVolume && labels[LabelReclaim] != spec.ReclaimDelete {
			return // kept; said so when it was first let go
		}
		c.pendingPrune(k)
		c.queue.Add(k)
	}
	for n, l := range act.containers {
		prune(spec.KindContainer, n, l[0].Labels)
	}
	for n, l := range act.images {
		prune(spec.KindImage, n, l[0].Labels)
	}
	for n, l := range act.volumes {
		prune(spec.KindVolume, n, l[0].Labels)
	}
}

// upToDate says whether obj's actual state matches, refreshing its status
// (restarts, Ready after a controller restart) without touching the engine.
func (c *Controller) upToDate(obj spec.Object, act actualState, imageID func(string) string) bool {
	k := obj.Key
	st, _ := c.status.get(k)
	switch k.Kind {
	case spec.KindContainer:
		l := act.containers[k.Name]
		if len(l) != 1 || l[0].Labels[engine.LabelSpecHash] != obj.Hash {
			return false
		}
		ctr := l[0]
		if id := imageID(obj.Container.Spec.Image); id == "" || id != ctr.Labels[engine.LabelImageID] {
			return false
		}
		ok := ctr.State == engine.StateRunning
		if !ok && (ctr.State == engine.StateExited || ctr.State == engine.StateDead) {
			switch restartPolicy(obj.Container) {
			case spec.RestartNever:
				ok = ctr.ExitCode == 0
			case spec.RestartOnFailure:
				ok = ctr.ExitCode == 0
			}
		}
		if !ok {
			return false
		}
		if st.Phase != Ready || st.Restarts != ctr.Restarts || st.ID != ctr.ID {
			c.markReady(k, obj, func(s *ObjectStatus) {
				s.ID, s.Restarts, s.Created = ctr.ID, ctr.Restarts, ctr.Created
				if ctr.State == engine.StateRunning {
					s.Message = "running"
				} else {
					s.Message = "completed"
				}
			})
		}
		return true
	case spec.KindImage:
		tag := obj.Image.Spec.Tag
		id := imageID(tag)
		if id == "" {
			return false
		}
		wantContext := ""
		if b := obj.Image.Spec.Build; b != nil {
			d, _, err := c.contexts.digest(resolve(obj.Source.File, b.Context), b.Dockerfile)
			if err != nil {
				return false
			}
			wantContext = d
		}
		for _, img := range act.images[k.Name] {
			if img.ID == id && img.Labels[engine.LabelSpecHash] == obj.Hash && img.Labels[LabelContext] == wantContext {
				if st.Phase != Ready {
					c.markReady(k, obj, func(s *ObjectStatus) { s.ID, s.Created, s.Message = img.ID, img.Created, "present" })
				}
				return true
			}
		}
		if wantContext == "" && c.imageUpToDate(k, obj, engine.Image{ID: id}) {
			return st.Phase == Ready
		}
		return false
	case spec.KindVolume:
		for _, v := range act.volumes[k.Name] {
			// A volume whose spec changed is kept as it is (never recreated).
			same := v.Labels[engine.LabelSpecHash] == obj.Hash || (st.Phase == Ready && st.ObservedHash == obj.Hash)
			if v.Name == k.Name && same {
				if st.Phase != Ready {
					c.markReady(k, obj, func(s *ObjectStatus) { s.ID, s.Created, s.Message = v.Name, v.CreatedAt, "present" })
				}
				return true
			}
		}
		return false
	case spec.KindHost:
		return st.Phase == Ready
	}
	return false
}
