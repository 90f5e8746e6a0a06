package reconcile

import (
	"sort"
	"sync"
	"time"

	"github.com/reconciler/reconciler/spec"
)

// Phase is where an object stands, as `get` shows it.
type Phase string

// Phases, in the order users care about them.
const (
	Ready       Phase = "Ready"
	Progressing Phase = "Progressing"
	Failed      Phase = "Failed"
	Unknown     Phase = "Unknown" // its host cannot be reached
)

// ObjectStatus is what the controller knows about one object.
type ObjectStatus struct {
	Key    spec.Key `json:"key"`
	Source string   `json:"source,omitempty"`
	Phase  Phase    `json:"phase"`
	// Message says what is happening or, when Failed, the last error.
	Message      string    `json:"message,omitempty"`
	LastError    string    `json:"lastError,omitempty"`
	ObservedHash string    `json:"observedHash,omitempty"`
	DesiredHash  string    `json:"desiredHash,omitempty"`
	ID           string    `json:"id,omitempty"`
	Restarts     int       `json:"restarts"`
	Created      time.Time `json:"created,omitzero"`
	Updated      time.Time `json:"updated"`
	// converged records that the object once matched DesiredHash, so a later
	// mismatch is drift rather than a rollout.
	converged bool
}

// statusBook holds every object's status; safe for concurrent use.
type statusBook struct {
	mu      sync.Mutex
	m       map[spec.Key]*ObjectStatus
	changed func(spec.Key, Phase, Phase) // old and new phase, for metrics and waiters
}

func newStatusBook() *statusBook { return &statusBook{m: map[spec.Key]*ObjectStatus{}} }

// update applies fn to key's status (created on first use) and stamps it.
func (b *statusBook) update(key spec.Key, fn func(*ObjectStatus)) ObjectStatus {
	b.mu.Lock()
	s, ok := b.m[key]
	if !ok {
		s = &ObjectStatus{Key: key}
		b.m[key] = s
	}
	old := s.Phase
	fn(s)
	if s.Phase == "" {
		s.Phase = Progressing
	}
	s.Updated = time.Now()
	out := *s
	changed := b.changed
	b.mu.Unlock()
	if changed != nil && old != out.Phase {
		changed(key, old, out.Phase)
	}
	return out
}

func (b *statusBook) get(key spec.Key) (ObjectStatus, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.m[key]
	if !ok {
		return ObjectStatus{}, false
	}
	return *s, true
}

func (b *statusBook) remove(key spec.Key) {
	b.mu.Lock()
	s, ok := b.m[key]
	delete(b.m, key)
	changed := b.changed
	b.mu.Unlock()
	if ok && changed != nil {
		changed(key, s.Phase, "")
	}
}

// list returns every status sorted by host, kind order, name.
func (b *statusBook) list() []ObjectStatus {
	b.mu.Lock()
	out := make([]ObjectStatus, 0, len(b.m))
	for _, s := range b.m {
		out = append(out, *s)
	}
	b.mu.Unlock()
	SortStatuses(out)
	return out
}

// kindOrder is the order objects are set up in: hosts, then what
// containers use, then containers.
var kindOrder = map[string]int{spec.KindHost: 0, spec.KindVolume: 1, spec.KindImage: 2, spec.KindContainer: 3}

// SortStatuses orders statuses by host, kind (setup order) and name.
func SortStatuses(s []ObjectStatus) {
	sort.Slice(s, func(i, j int) bool { return keyLess(s[i].Key, s[j].Key) })
}

func keyLess(a, b spec.Key) bool {
	if a.Host != b.Host {
		return a.Host < b.Host
	}
	if a.Kind != b.Kind {
		return kindOrder[a.Kind] < kindOrder[b.Kind]
	}
	return a.Name < b.Name
}
