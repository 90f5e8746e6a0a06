package reconcile

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/reconciler/reconciler/spec"
)

// desiredSet is the union of every source's objects. A key declared by two
// sources belongs to the first source (by name) and is an error on the
// other, so the object is still managed while the clash is reported.
type desiredSet struct {
	mu       sync.RWMutex
	bySource map[string][]spec.Object
	byKey    map[spec.Key]spec.Object
	clashes  map[string][]string    // source -> messages
	known    map[string]bool        // every source ever set, for pruning
	images   map[string]spec.Object // host\x00normalized tag -> Image object
	users    map[string][]spec.Key  // host\x00i|v\x00image or volume -> containers
	hostObjs map[string]spec.Object // host name -> Host object
}

func newDesiredSet() *desiredSet {
	return &desiredSet{bySource: map[string][]spec.Object{}, byKey: map[spec.Key]spec.Object{}, clashes: map[string][]string{}, known: map[string]bool{}}
}

// set replaces source's objects and returns the keys whose desired state
// changed (added, removed, or with another hash or source).
func (d *desiredSet) set(source string, objs []spec.Object) []spec.Key {
	d.mu.Lock()
	defer d.mu.Unlock()
	before := d.byKey
	if len(objs) == 0 {
		delete(d.bySource, source)
	} else {
		d.bySource[source] = append([]spec.Object(nil), objs...)
	}
	d.known[source] = true
	d.rebuild()
	var changed []spec.Key
	for k, o := range d.byKey {
		if p, ok := before[k]; !ok || p.Hash != o.Hash || p.Source.File != o.Source.File {
			changed = append(changed, k)
		}
	}
	for k := range before {
		if _, ok := d.byKey[k]; !ok {
			changed = append(changed, k)
		}
	}
	sort.Slice(changed, func(i, j int) bool { return keyLess(changed[i], changed[j]) })
	return changed
}

func (d *desiredSet) rebuild() {
	sources := make([]string, 0, len(d.bySource))
	for s := range d.bySource {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	byKey := make(map[spec.Key]spec.Object, len(d.byKey))
	clashes := map[string][]string{}
	for _, s := range sources {
		for _, o := range d.bySource[s] {
			if prev, ok := byKey[o.Key]; ok {
				clashes[s] = append(clashes[s], fmt.Sprintf("%s: %s is already declared by %s", where(o.Source), o.Key, where(prev.Source)))
				continue
			}
			byKey[o.Key] = o
		}
	}
	d.byKey, d.clashes = byKey, clashes
	d.images, d.users, d.hostObjs = map[string]spec.Object{}, map[string][]spec.Key{}, map[string]spec.Object{}
	for k, o := range byKey {
		switch {
		case o.HostObj != nil:
			d.hostObjs[k.Name] = o
		case o.Image != nil:
			d.images[k.Host+"\x00"+normalizeRef(o.Image.Spec.Tag)] = o
		case o.Container != nil:
			ik := k.Host + "\x00i\x00" + normalizeRef(o.Container.Spec.Image)
			d.users[ik] = append(d.users[ik], k)
			seen := map[string]bool{}
			for _, v := range o.Container.Spec.Volumes {
				if !seen[v.Name] {
					seen[v.Name] = true
					vk := k.Host + "\x00v\x00" + v.Name
					d.users[vk] = append(d.users[vk], k)
				}
			}
		}
	}
}

func where(s spec.Source) string {
	if s.Document > 0 {
		return fmt.Sprintf("%s: document %d", s.File, s.Document)
	}
	return s.File
}

func (d *desiredSet) get(k spec.Key) (spec.Object, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	o, ok := d.byKey[k]
	return o, ok
}

// all returns every desired object in setup order.
func (d *desiredSet) all() []spec.Object {
	d.mu.RLock()
	out := make([]spec.Object, 0, len(d.byKey))
	for _, o := range d.byKey {
		out = append(out, o)
	}
	d.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return keyLess(out[i].Key, out[j].Key) })
	return out
}

// isKnown reports whether source was ever set.
func (d *desiredSet) isKnown(source string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.known[source]
}

// clashErrors returns the duplicate-declaration messages of every source.
func (d *desiredSet) clashErrors() []string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []string
	for _, m := range d.clashes {
		out = append(out, m...)
	}
	sort.Strings(out)
	return out
}

// hosts returns every host some desired object lives on.
func (d *desiredSet) hosts() []string {
	d.mu.RLock()
	seen := map[string]bool{}
	for k := range d.byKey {
		seen[k.Host] = true
	}
	d.mu.RUnlock()
	out := make([]string, 0, len(seen))
	for h := range seen {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// hostObject finds the Host object declaring host, if any.
func (d *desiredSet) hostObject(host string) (spec.Object, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	o, ok := d.hostObjs[host]
	return o, ok
}

// onHost returns the desired keys on host.
func (d *desiredSet) onHost(host string) []spec.Key {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []spec.Key
	for k := range d.byKey {
		if k.Host == host {
			out = append(out, k)
		}
	}
	return out
}

// containersUsing returns the desired containers on host that use the
// image tag or volume name given (one of them empty).
func (d *desiredSet) containersUsing(host, imageTag, volume string) []spec.Key {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if imageTag != "" {
		return append([]spec.Key(nil), d.users[host+"\x00i\x00"+normalizeRef(imageTag)]...)
	}
	return append([]spec.Key(nil), d.users[host+"\x00v\x00"+volume]...)
}

// imageFor finds the desired Image object on host whose tag ref names.
func (d *desiredSet) imageFor(host, ref string) (spec.Object, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	o, ok := d.images[host+"\x00"+normalizeRef(ref)]
	return o, ok
}

// sameImage compares references, reading "name" as "name:latest".
func sameImage(a, b string) bool { return normalizeRef(a) == normalizeRef(b) }

func normalizeRef(r string) string {
	return spec.NormalizeRef(strings.TrimPrefix(r, "docker.io/library/"))
}
