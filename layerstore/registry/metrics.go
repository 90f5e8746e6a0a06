package registry

import "github.com/prometheus/client_golang/prometheus"

var (
	pulls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "reconciler_image_pulls_total", Help: "Image pulls from registries, by result (ok, error).",
	}, []string{"result"})
	pushes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "reconciler_image_pushes_total", Help: "Image pushes to registries, by result (ok, error).",
	}, []string{"result"})
	pullBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "reconciler_image_pull_bytes_total", Help: "Layer bytes downloaded by pulls (layers already stored are not downloaded).",
	})
	pushBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "reconciler_image_push_bytes_total", Help: "Bytes uploaded by pushes.",
	})
)

// Collectors are this package's Prometheus collectors, for the caller to
// register (nothing is registered globally).
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{pulls, pushes, pullBytes, pushBytes}
}

func countOp(c *prometheus.CounterVec, err error) {
	if err != nil {
		c.WithLabelValues("error").Inc()
		return
	}
	c.WithLabelValues("ok").Inc()
}
