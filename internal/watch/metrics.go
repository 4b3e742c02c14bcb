package watch

import (
	"net"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are watch's Prometheus metrics. Every label takes values from a
// set bounded by construction: layer (4 values and ""), action (3),
// syscall (the syscall names of the ABIs, a few hundred), arch (the ABIs
// a process can use), role (the roles in session_roles, else "").
type Metrics struct {
	Registry   *prometheus.Registry
	violations *prometheus.CounterVec
	lost       prometheus.Counter
	overflows  prometheus.Counter
	unplaced   prometheus.Counter
	processes  *prometheus.GaugeVec
	up         prometheus.Gauge
	starts     prometheus.Counter
	outdated   *outdated
}

// NewMetrics registers watch's metrics in a registry of their own.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pgseccomp_violations_total",
			Help: "Seccomp audit records of the cluster's processes, by the layer that decided them, action, syscall, ABI and role (roles listed in pgseccomp.session_roles only, else empty).",
		}, []string{"layer", "action", "syscall", "arch", "role"}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pgseccomp_audit_records_lost_total",
			Help: "Increase of the kernel's audit lost counter while watching: records of any process on the host that the audit subsystem dropped.",
		}),
		overflows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pgseccomp_audit_capture_overflows_total",
			Help: "Times the watch's audit socket overflowed (the kernel dropped records for it).",
		}),
		unplaced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pgseccomp_unplaced_records_total",
			Help: "Records of PostgreSQL processes that had exited before they were seen and that the server log does not name: they may be this cluster's or another's.",
		}),
		processes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pgseccomp_processes",
			Help: "Processes of the cluster, by whether they run under a seccomp filter with no_new_privs (what pgseccomp status checks).",
		}, []string{"confined"}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pgseccomp_server_up",
			Help: "1 when the watched cluster's postmaster runs.",
		}),
		starts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pgseccomp_server_starts_total",
			Help: "Postmasters seen starting (a new pid in postmaster.pid) while watching, the first one included.",
		}),
	}
	m.outdated = &outdated{desc: prometheus.NewDesc("pgseccomp_filters_outdated",
		"1 when the server runs session filters older than its configuration (its last reload was rejected by pgseccomp), 0 when they are current; absent when the server does not say (pgseccomp off, or an extension that writes no status file).", nil, nil)}
	m.outdated.state.Store(-1)
	m.Registry.MustRegister(m.violations, m.lost, m.overflows, m.unplaced, m.processes, m.up, m.starts, m.outdated)
	return m
}

// outdated is pgseccomp_filters_outdated: exported only while the
// server says (procs.ReloadStateFile), never a value it cannot know.
type outdated struct {
	desc  *prometheus.Desc
	state atomic.Int32 // -1 unknown, 0 current, 1 outdated
}

func (o *outdated) Describe(ch chan<- *prometheus.Desc) { ch <- o.desc }

func (o *outdated) Collect(ch chan<- prometheus.Metric) {
	if v := o.state.Load(); v >= 0 {
		ch <- prometheus.MustNewConstMetric(o.desc, prometheus.GaugeValue, float64(v))
	}
}

// setOutdated records whether the server runs session filters older than
// its configuration (known false: unknown).
func (m *Metrics) setOutdated(outdated, known bool) {
	switch {
	case !known:
		m.outdated.state.Store(-1)
	case outdated:
		m.outdated.state.Store(1)
	default:
		m.outdated.state.Store(0)
	}
}

// Serve serves the metrics on address (host:port) until the listener is
// closed; it returns the listener, already bound, so that a bad address
// fails at start.
func (m *Metrics) Serve(address string) (net.Listener, error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	go http.Serve(ln, mux)
	return ln, nil
}
