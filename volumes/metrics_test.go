package volumes

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCollectors(t *testing.T) {
	m := openT(t, t.TempDir())
	v := mustCreate(t, m, "data", nil)
	os.WriteFile(filepath.Join(v.Mountpoint, "f"), make([]byte, 4096), 0o644)
	mustCreate(t, m, "other", nil)
	m.Use("other", "c1")

	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m.Collectors()[0]); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			key := f.GetName()
			for _, l := range mt.GetLabel() {
				key += "{" + l.GetValue() + "}"
			}
			got[key] = mt.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"reconciler_volumes":                  2,
		"reconciler_volumes_in_use":           1,
		"reconciler_volume_used_bytes{data}":  4096,
		"reconciler_volume_used_bytes{other}": 0,
		"reconciler_volumes_scrape_error":     0,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
	// Sizes are cached between scrapes, and forgotten with the volume.
	m.Release("other", "c1")
	if err := m.Remove("other", false); err != nil {
		t.Fatal(err)
	}
	families, _ = reg.Gather()
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetValue() == "other" {
					t.Errorf("removed volume still reported: %s", f.GetName())
				}
			}
		}
	}
}
