package build

import "github.com/prometheus/client_golang/prometheus"

var (
	stepsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "reconciler_build_steps_total",
		Help: "Dockerfile build steps executed, by cache result (hit: reused a cached image; miss: executed).",
	}, []string{"cache"})
	buildDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "reconciler_build_duration_seconds",
		Help:    "Wall time of Dockerfile builds, by result (success or failure).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12), // 5ms .. ~5min
	}, []string{"result"})
)

// Collectors returns the build metrics for the caller to register.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{stepsTotal, buildDuration}
}
