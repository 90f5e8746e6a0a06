package main

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// results maps a package and a benchmark name to its metrics by unit;
// the key of a package alone is present once its benchmarks ran.
type results map[string]map[string]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse reads `go test -bench` output lines of package pkg. A benchmark
// run more than once (-count) gets the median of each of its metrics.
func (r results) parse(pkg string, lines []string) {
	r[pkg] = nil
	runs := map[string]map[string][]float64{}
	for _, l := range lines {
		mm := benchLine.FindStringSubmatch(l)
		if mm == nil {
			continue
		}
		key := pkg + " " + mm[1]
		if runs[key] == nil {
			runs[key] = map[string][]float64{}
		}
		f := strings.Fields(mm[2])
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				runs[key][f[i+1]] = append(runs[key][f[i+1]], v)
			}
		}
	}
	for key, units := range runs {
		r[key] = map[string]float64{}
		for unit, vs := range units {
			slices.Sort(vs)
			r[key][unit] = vs[len(vs)/2]
		}
	}
}

// ms returns the metric in milliseconds.
func (r results) ms(m metric) (float64, bool) {
	v, ok := r[m.pkg+" "+m.bench][m.unit]
	if !ok {
		return 0, false
	}
	if m.unit == "ns/op" {
		return v / 1e6, true
	}
	return v, true
}

// ran says whether the benchmarks of pkg were run.
func (r results) ran(pkg string) bool {
	_, ok := r[pkg]
	return ok
}
