package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Unrouted is the route of requests answered before routing (refused by a limit or for their
// size): their path is the client's to choose, so it is never a label.
const Unrouted = "unrouted"

// Requests are an HTTP server's request counts and latencies, by route pattern and status.
// Routes are the server's patterns ("POST /v1/projects/{project}/claim"), never raw paths, so
// the series stay as few as the routes.
type Requests struct {
	count    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// NewRequests registers the request metrics in r; call it once per registry.
func NewRequests(r *Registry) *Requests {
	q := &Requests{
		count: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code."}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: "http_request_duration_seconds",
			Help: "Time to answer an HTTP request, by route pattern and status code.", Buckets: latencyBuckets}, []string{"route", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "http_requests_in_flight",
			Help: "HTTP requests being answered now."}),
	}
	r.reg.MustRegister(q.count, q.latency, q.inFlight)
	return q
}

// Started counts a request in flight until the returned func records its outcome.
func (q *Requests) Started() (done func(route string, status int, took time.Duration)) {
	q.inFlight.Inc()
	return func(route string, status int, took time.Duration) {
		q.inFlight.Dec()
		if route == "" {
			route = Unrouted
		}
		code := strconv.Itoa(status)
		q.count.WithLabelValues(route, code).Inc()
		q.latency.WithLabelValues(route, code).Observe(took.Seconds())
	}
}
