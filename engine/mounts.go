package engine

import (
	"cmp"
	"maps"
	"path"
	"slices"
	"strings"
)

// WithAnonymousVolumes adds a volume mount with no source (a new
// anonymous volume) at each of paths that no mount in ms has as its
// target, as Docker does for an image's VOLUME paths and docker run -v
// /path, and orders the mounts so a folder is mounted before the mounts
// beneath it. With nothing to add it returns ms as it is.
func WithAnonymousVolumes(ms []Mount, paths map[string]struct{}) []Mount {
	covered := make(map[string]bool, len(ms)+len(paths))
	for _, m := range ms {
		covered[path.Clean(m.Target)] = true
	}
	out := slices.Clone(ms)
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		p = path.Join("/", p)
		if covered[p] || p == "/" {
			continue
		}
		covered[p] = true
		out = append(out, Mount{Type: MountVolume, Target: p})
	}
	if len(out) == len(ms) {
		return ms
	}
	SortMounts(out)
	return out
}

// SortMounts orders mounts so a folder is mounted before the mounts
// beneath it (by the depth of their targets), keeping the order given
// otherwise.
func SortMounts(ms []Mount) {
	depth := func(m Mount) int { return strings.Count(path.Clean(m.Target), "/") }
	slices.SortStableFunc(ms, func(a, b Mount) int { return cmp.Compare(depth(a), depth(b)) })
}
