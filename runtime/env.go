package runtime

import "strings"

// MergeEnv is base with over applied, as Docker merges an image's
// environment with a container's (and a container's with an exec's): a
// KEY=value of over replaces base's KEY in place, a new KEY is appended.
// Neither slice is modified.
func MergeEnv(base, over []string) []string {
	out := append([]string{}, base...)
	index := map[string]int{}
	for i, kv := range out {
		index[envKey(kv)] = i
	}
	for _, kv := range over {
		if i, ok := index[envKey(kv)]; ok {
			out[i] = kv
			continue
		}
		index[envKey(kv)] = len(out)
		out = append(out, kv)
	}
	return out
}

func envKey(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	return k
}
