package spec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// checkSchema walks a decoded document (from json.Decoder with UseNumber)
// against the Go type it will be unmarshaled into, and reports every field
// the type does not have and every value of the wrong type, with its path.
// It prunes what it reports (deletes the field, or nulls the list item),
// so the rest of the document still decodes and can be validated in the
// same run. It returns false if v itself must be pruned.
//
// encoding/json alone would stop at the first problem, name no path, and
// match field names case-insensitively; manifests must be exact.
func checkSchema(v any, t reflect.Type, path string, errs *fieldErrs) bool {
	if v == nil { // null: the field is absent
		return true
	}
	bad := func(format string, args ...any) bool {
		errs.add(path, format, args...)
		return false
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		raw, _ := json.Marshal(v)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return bad("%s", err.Error())
		}
		return true
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkSchema(v, t.Elem(), path, errs)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return bad("must be a mapping of fields, not %s", describe(v))
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(m) {
			f, ok := fields[k]
			if !ok {
				errs.add(child(path, k), "unknown field%s", suggest(k, fields))
				delete(m, k)
			} else if !checkSchema(m[k], f.Type, child(path, k), errs) {
				delete(m, k)
			}
		}
	case reflect.Slice:
		items, ok := v.([]any)
		if !ok {
			return bad("must be a list, not %s", describe(v))
		}
		for i, item := range items {
			if !checkSchema(item, t.Elem(), index(path, i), errs) {
				items[i] = nil
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return bad("must be a mapping, not %s", describe(v))
		}
		for _, k := range sortedKeys(m) {
			if !checkSchema(m[k], t.Elem(), child(path, k), errs) {
				delete(m, k)
			}
		}
	case reflect.String:
		switch v.(type) {
		case string:
		case json.Number, bool:
			return bad("must be a string, not %s: put the value in quotes", describe(v))
		default:
			return bad("must be a string, not %s", describe(v))
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return bad("must be true or false, not %s", describe(v))
		}
	case reflect.Int, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return bad("must be a whole number, not %s", describe(v))
		}
		if _, err := n.Int64(); err != nil {
			return bad("must be a whole number, not %s", n)
		}
	default:
		panic(fmt.Sprintf("spec: checkSchema: unsupported kind %s at %s", t.Kind(), path))
	}
	return true
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// jsonFields maps JSON names to struct fields, flattening embedded structs
// as encoding/json does.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

// suggest offers the known field closest to a misspelled one.
func suggest(k string, fields map[string]reflect.StructField) string {
	best, bestDist := "", 3
	for name := range fields {
		d := editDistance(strings.ToLower(k), strings.ToLower(name))
		if d < bestDist || d == bestDist && name < best {
			best, bestDist = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance, bounded for long inputs.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe names a JSON value's type for an error message.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case bool:
		return fmt.Sprintf("the boolean %v", v)
	case json.Number:
		return fmt.Sprintf("the number %s", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
