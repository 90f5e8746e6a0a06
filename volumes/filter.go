package volumes

import (
	"fmt"
	"strconv"
	"strings"
)

// Filter selects volumes, like docker volume ls --filter. Every condition
// set must hold.
type Filter struct {
	// Labels are "key" (the label is present) or "key=value".
	Labels []string
	// Dangling, if set, selects volumes no container uses (true) or volumes
	// some container uses (false).
	Dangling *bool
	// Name selects volumes whose name contains it.
	Name string
	// Driver selects volumes of that driver.
	Driver string
}

// ParseFilter parses docker-style filter expressions: "label=KEY",
// "label=KEY=VALUE", "dangling=true|false", "name=PART", "driver=local".
func ParseFilter(exprs []string) (Filter, error) {
	var f Filter
	for _, e := range exprs {
		key, val, ok := strings.Cut(e, "=")
		if !ok || val == "" {
			return f, fmt.Errorf("%w: bad format of filter %q (expected name=value)", ErrInvalid, e)
		}
		switch strings.ToLower(key) {
		case "label":
			f.Labels = append(f.Labels, val)
		case "dangling":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return f, fmt.Errorf("%w: invalid filter 'dangling=%s': use true or false", ErrInvalid, val)
			}
			f.Dangling = &b
		case "name":
			f.Name = val
		case "driver":
			f.Driver = val
		default:
			return f, fmt.Errorf("%w: invalid filter %q: supported are label, dangling, name and driver", ErrInvalid, key)
		}
	}
	return f, nil
}

// Match reports whether v satisfies every condition of f.
func (f Filter) Match(v *Volume) bool {
	for _, l := range f.Labels {
		key, want, hasValue := strings.Cut(l, "=")
		got, ok := v.Labels[key]
		if !ok || (hasValue && got != want) {
			return false
		}
	}
	if f.Dangling != nil && *f.Dangling != (len(v.Users) == 0) {
		return false
	}
	if f.Name != "" && !strings.Contains(v.Name, f.Name) {
		return false
	}
	return f.Driver == "" || f.Driver == v.Driver
}
