package reconcile

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/google/go-cmp/cmp"
)

// Why explains, field by field, how the document new differs from old:
// `spec.env[PORT]: "8080" -> "9090"`. Both are compared as their JSON
// form, so the paths are the ones users write in manifests. Lists of
// named things (env, volumes, mounts, ulimits, host aliases by ip) are
// compared by name, not position,
// so a reordered or inserted entry names only what changed. A nil old
// (unknown) yields nil.
func Why(old, new any) []string {
	if old == nil || (reflect.ValueOf(old).Kind() == reflect.Pointer && reflect.ValueOf(old).IsNil()) {
		return nil
	}
	a, errA := normalize(old)
	b, errB := normalize(new)
	if errA != nil || errB != nil {
		return nil
	}
	var r reasonReporter
	cmp.Equal(a, b, cmp.Reporter(&r))
	sort.Strings(r.reasons)
	return r.reasons
}

// keyed is a list of objects re-indexed by their identifying field; the
// reporter prints its keys as [KEY] instead of .field.
type keyed map[string]any

// scalars is a list of plain values compared (and printed) as a whole.
type scalars string

// normalize turns a value into generic JSON with keyed lists.
func normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var g any
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, err
	}
	return rekey(g), nil
}

func rekey(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = rekey(x)
		}
		return t
	case []any:
		if allScalars(t) {
			b, _ := json.Marshal(t)
			return scalars(b)
		}
		for _, field := range []string{"name", "mountPath", "hostPath", "ip"} {
			if m, ok := byField(t, field); ok {
				return m
			}
		}
		for i, x := range t {
			t[i] = rekey(x)
		}
		return t
	}
	return v
}

func allScalars(l []any) bool {
	for _, x := range l {
		switch x.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// byField indexes a list of objects by a unique string field. Objects that
// are just {name, value} (environment variables) map name to value.
func byField(l []any, field string) (keyed, bool) {
	m := keyed{}
	for _, x := range l {
		o, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		k, ok := o[field].(string)
		if !ok {
			return nil, false
		}
		if _, dup := m[k]; dup {
			return nil, false
		}
		if v, ok := o["value"]; ok && len(o) == 2 && field == "name" {
			m[k] = v
			continue
		}
		m[k] = rekey(o)
	}
	return m, true
}

// reasonReporter collects one line per differing leaf.
type reasonReporter struct {
	path    cmp.Path
	reasons []string
}

func (r *reasonReporter) PushStep(ps cmp.PathStep) { r.path = append(r.path, ps) }
func (r *reasonReporter) PopStep()                 { r.path = r.path[:len(r.path)-1] }

func (r *reasonReporter) Report(rs cmp.Result) {
	if rs.Equal() {
		return
	}
	vx, vy := r.path.Last().Values()
	r.reasons = append(r.reasons, fmt.Sprintf("%s: %s -> %s", renderPath(r.path), render(vx), render(vy)))
}

func renderPath(p cmp.Path) string {
	var b strings.Builder
	var parent reflect.Type
	for _, step := range p {
		switch s := step.(type) {
		case cmp.MapIndex:
			k := fmt.Sprint(s.Key().Interface())
			if parent == reflect.TypeOf(keyed{}) {
				b.WriteString("[" + k + "]")
			} else {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(k)
			}
		case cmp.SliceIndex:
			ix, iy := s.SplitKeys()
			i := ix
			if i < 0 {
				i = iy
			}
			fmt.Fprintf(&b, "[%d]", i)
		}
		if t := step.Type(); t != nil && t.Kind() != reflect.Interface {
			parent = t
		}
	}
	return b.String()
}

func render(v reflect.Value) string {
	if !v.IsValid() {
		return "<unset>"
	}
	x := v.Interface()
	if s, ok := x.(scalars); ok {
		return string(s)
	}
	b, err := json.Marshal(unkey(x))
	if err != nil {
		return fmt.Sprint(x)
	}
	return string(b)
}

// unkey turns normalized values back into plain JSON-able ones for printing.
func unkey(x any) any {
	switch t := x.(type) {
	case scalars:
		return json.RawMessage(t)
	case keyed:
		m := map[string]any{}
		for k, v := range t {
			m[k] = unkey(v)
		}
		return m
	case map[string]any:
		m := map[string]any{}
		for k, v := range t {
			m[k] = unkey(v)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			out[i] = unkey(v)
		}
		return out
	}
	return x
}
