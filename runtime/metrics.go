package runtime

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are one Runtime's collectors (never the global registry).
type metrics struct {
	byState       *prometheus.Desc
	starts        prometheus.Counter
	startDuration prometheus.Histogram
	restarts      prometheus.Counter
	oomKills      prometheus.Counter
	exits         *prometheus.CounterVec
	r             *Runtime
}

func newMetrics(r *Runtime) *metrics {
	return &metrics{
		r: r,
		byState: prometheus.NewDesc("reconciler_containers",
			"Containers by state (created, running, restarting, exited, dead).", []string{"state"}, nil),
		starts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reconciler_container_starts_total",
			Help: "Container process starts, by users and by restart policies.",
		}),
		startDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "reconciler_container_start_duration_seconds",
			Help:    "Time from a start request until the container's process runs.",
			Buckets: []float64{.002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reconciler_container_restarts_total",
			Help: "Restarts by restart policies.",
		}),
		oomKills: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "reconciler_container_oom_kills_total",
			Help: "Container processes killed for exceeding their memory limit.",
		}),
		exits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reconciler_container_exits_total",
			Help: "Container exits by exit code (128+N: killed by signal N).",
		}, []string{"code"}),
	}
}

// Collectors are the runtime's Prometheus collectors, for the caller to
// register.
func (r *Runtime) Collectors() []prometheus.Collector {
	m := r.metrics
	return []prometheus.Collector{stateCollector{m}, m.starts, m.startDuration, m.restarts, m.oomKills, m.exits}
}

type stateCollector struct{ m *metrics }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.m.byState }

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	n := map[string]int{StateCreated: 0, StateRunning: 0, StateRestarting: 0, StateExited: 0, StateDead: 0}
	if list, err := c.m.r.List(); err == nil {
		for _, ct := range list {
			n[ct.State.Status]++
		}
	}
	for state, v := range n {
		ch <- prometheus.MustNewConstMetric(c.m.byState, prometheus.GaugeValue, float64(v), state)
	}
}
