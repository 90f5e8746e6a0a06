package dockerapi

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/events"

	"github.com/reconciler/reconciler/engine"
)

// Filters is the decoded `filters` query parameter: key -> set of values,
// e.g. {"label":{"app=web":true},"status":{"running":true}}.
type Filters map[string]map[string]bool

// ParseFilters decodes a filters parameter; both the current form
// {"k":{"v":true}} and the legacy {"k":["v"]} are accepted. An empty
// string gives no filters. Errors wrap engine.ErrInvalid.
func ParseFilters(s string) (Filters, error) {
	f := Filters{}
	if s == "" {
		return f, nil
	}
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("%w: invalid filters %q: %v", engine.ErrInvalid, s, err)
	}
	for k, v := range raw {
		set := map[string]bool{}
		if err := json.Unmarshal(v, &set); err != nil {
			var list []string
			if err2 := json.Unmarshal(v, &list); err2 != nil {
				return nil, fmt.Errorf("%w: invalid filter %q: %v", engine.ErrInvalid, k, err)
			}
			for _, x := range list {
				set[x] = true
			}
		}
		f[k] = set
	}
	return f, nil
}

// Add adds value to key, for clients building a query.
func (f Filters) Add(key, value string) Filters {
	if f[key] == nil {
		f[key] = map[string]bool{}
	}
	f[key][value] = true
	return f
}

// Values are the values of key, sorted.
func (f Filters) Values(key string) []string {
	var out []string
	for v, on := range f[key] {
		if on {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

// Validate refuses keys not in allowed, like dockerd ("invalid filter").
func (f Filters) Validate(allowed ...string) error {
	for k := range f {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return fmt.Errorf("%w: invalid filter '%s'", engine.ErrInvalid, k)
		}
	}
	return nil
}

// Match reports whether value is one of key's values, or key is absent.
func (f Filters) Match(key, value string) bool {
	set := f[key]
	return len(set) == 0 || set[value]
}

// MatchPrefix is Match where a filter value may be a prefix of value (IDs).
func (f Filters) MatchPrefix(key, value string) bool {
	if len(f[key]) == 0 {
		return true
	}
	for v := range f[key] {
		if strings.HasPrefix(value, v) {
			return true
		}
	}
	return false
}

// MatchLabels checks the "label" key: every "k" must be present and every
// "k=v" equal. "label!" values must not match.
func (f Filters) MatchLabels(labels map[string]string) bool {
	for v := range f["label"] {
		if !labelMatch(labels, v) {
			return false
		}
	}
	for v := range f["label!"] {
		if labelMatch(labels, v) {
			return false
		}
	}
	return true
}

func labelMatch(labels map[string]string, expr string) bool {
	k, want, hasValue := strings.Cut(expr, "=")
	got, ok := labels[k]
	return ok && (!hasValue || got == want)
}

// String encodes the filters for a query parameter.
func (f Filters) String() string {
	b, _ := json.Marshal(map[string]map[string]bool(f))
	return string(b)
}

// MatchEvent applies the filters of GET /events: type, event (action),
// container (ID prefix or name), image, volume, label (on the actor's
// attributes, where engines put the object's labels) and scope.
func (f Filters) MatchEvent(m events.Message) bool {
	if !f.Match("type", string(m.Type)) || !f.Match("scope", m.Scope) {
		return false
	}
	if !f.Match("event", string(m.Action)) && !f.Match("event", strings.SplitN(string(m.Action), ":", 2)[0]) {
		return false
	}
	attrs := m.Actor.Attributes
	if len(f["container"]) > 0 {
		if m.Type != events.ContainerEventType || !(f.MatchPrefix("container", m.Actor.ID) || f.Match("container", attrs["name"])) {
			return false
		}
	}
	if len(f["image"]) > 0 {
		img := attrs["image"]
		if m.Type == events.ImageEventType {
			img = attrs["name"]
		}
		if !(f.Match("image", img) || f.MatchPrefix("image", m.Actor.ID)) {
			return false
		}
	}
	if len(f["volume"]) > 0 && (m.Type != events.VolumeEventType || !f.Match("volume", m.Actor.ID)) {
		return false
	}
	return f.MatchLabels(attrs)
}
