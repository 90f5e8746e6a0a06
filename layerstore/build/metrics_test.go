package build

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// gather returns the build metrics as name{label} -> value (counters) or
// sample count (histograms).
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName() + "{" + m.GetLabel()[0].GetValue() + "}"
			if h := m.GetHistogram(); h != nil {
				out[key] = float64(h.GetSampleCount())
			} else {
				out[key] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(Collectors()...)
	s := openStore(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f": "f"})
	stepsTotal.WithLabelValues("hit")
	stepsTotal.WithLabelValues("miss")
	buildDuration.WithLabelValues("success")
	buildDuration.WithLabelValues("failure")
	before := gather(t, reg)
	mustBuild(t, s, dir, "FROM scratch\nCOPY f /\nENV A=1\n", Options{})
	mustBuild(t, s, dir, "", Options{})
	build(t, s, dir, "FROM scratch\nCOPY missing /\n", Options{})
	after := gather(t, reg)
	for k, want := range map[string]float64{
		"reconciler_build_steps_total{miss}":         2,
		"reconciler_build_steps_total{hit}":          2,
		"reconciler_build_duration_seconds{success}": 2,
		"reconciler_build_duration_seconds{failure}": 1,
	} {
		if got := after[k] - before[k]; got != want {
			t.Errorf("%s grew by %v, want %v", k, got, want)
		}
	}
}
