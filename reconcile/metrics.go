package reconcile

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the controller's collectors; registered on Options.Registry
// when given, so tests and several controllers never collide.
type metrics struct {
	runs        *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	depth       prometheus.Gauge
	retries     prometheus.Counter
	objects     *prometheus.GaugeVec
	drift       *prometheus.CounterVec
	files       prometheus.Gauge
	fileErrors  prometheus.Counter
	watchEvents prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reconciler_reconcile_total", Help: "Reconcile runs by kind and result (success, requeue, error).",
		}, []string{"kind", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "reconciler_reconcile_duration_seconds", Help: "Time one reconcile of one object took.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"kind"}),
		depth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "reconciler_queue_depth", Help: "Keys waiting in the work queue.",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reconciler_queue_retries_total", Help: "Keys requeued with backoff after a failure.",
		}),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "reconciler_objects", Help: "Objects by kind and status.",
		}, []string{"kind", "status"}),
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reconciler_drift_corrections_total", Help: "Objects put back after they were changed behind the controller's back, by reason.",
		}, []string{"reason"}),
		files: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "reconciler_manifest_files", Help: "Manifest files currently loaded.",
		}),
		fileErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reconciler_manifest_errors_total", Help: "Manifest files that failed to parse (their last good objects are kept).",
		}),
		watchEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reconciler_watch_events_total", Help: "Filesystem events seen by the directory watcher.",
		}),
	}
	if reg != nil {
		for _, c := range m.collectors() {
			reg.MustRegister(c)
		}
	}
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.runs, m.duration, m.depth, m.retries, m.objects, m.drift, m.files, m.fileErrors, m.watchEvents}
}

func (m *metrics) observe(kind, result string, d time.Duration) {
	m.runs.WithLabelValues(kind, result).Inc()
	m.duration.WithLabelValues(kind).Observe(d.Seconds())
}

// phaseChanged moves one object between the objects gauge's series.
func (m *metrics) phaseChanged(kind string, old, new Phase) {
	if old != "" {
		m.objects.WithLabelValues(kind, string(old)).Dec()
	}
	if new != "" {
		m.objects.WithLabelValues(kind, string(new)).Inc()
	}
}
