package volumes

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Bounds on the per-scrape size walk: a volume is measured at most once a
// minute, and one with more than a million entries is not measured at all
// (its bytes series is absent rather than wrong).
const (
	sizeTTL        = time.Minute
	sizeMaxEntries = 1_000_000
)

var (
	descVolumes = prometheus.NewDesc("reconciler_volumes",
		"Number of volumes.", nil, nil)
	descInUse = prometheus.NewDesc("reconciler_volumes_in_use",
		"Number of volumes at least one container uses.", nil, nil)
	descBytes = prometheus.NewDesc("reconciler_volume_used_bytes",
		"Bytes used by a volume's data, measured at scrape time (cached for a minute).", []string{"volume"}, nil)
	descScrapeErrors = prometheus.NewDesc("reconciler_volumes_scrape_error",
		"1 if listing volumes failed during this scrape.", nil, nil)
)

// Collectors returns the manager's metrics, computed when scraped, for the
// caller to register: volume counts, volumes in use, and bytes per volume.
func (m *Manager) Collectors() []prometheus.Collector {
	return []prometheus.Collector{collector{m}}
}

type collector struct{ m *Manager }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descVolumes
	ch <- descInUse
	ch <- descBytes
	ch <- descScrapeErrors
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	vols, err := c.m.List(Filter{})
	failed := 0.0
	if err != nil {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(descScrapeErrors, prometheus.GaugeValue, failed)
	if err != nil {
		return
	}
	inUse := 0
	for _, v := range vols {
		if len(v.Users) > 0 {
			inUse++
		}
		if b, ok := c.m.sizes.get(v.Name, v.Mountpoint, sizeTTL, sizeMaxEntries); ok {
			ch <- prometheus.MustNewConstMetric(descBytes, prometheus.GaugeValue, float64(b), v.Name)
		}
	}
	ch <- prometheus.MustNewConstMetric(descVolumes, prometheus.GaugeValue, float64(len(vols)))
	ch <- prometheus.MustNewConstMetric(descInUse, prometheus.GaugeValue, float64(inUse))
}
