// Package metrics holds LabelFlow's Prometheus metrics: the Temporal SDK's, the gateway's
// requests, and the work the activities complete.
//
// What belongs to a whole process (the Go runtime, the process's resources and the Temporal
// client, which one process shares between its worker and its gateway) lives in one registry per
// process. What belongs to a component (a worker's work, a gateway's requests) lives in that
// component's Registry, so that each component counts only what it did. A component's /metrics
// serves both.
package metrics

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Namespace prefixes every metric LabelFlow defines itself.
const Namespace = "labelflow"

// latencyBuckets are the bucket bounds, in seconds, of every latency histogram: from a cached
// answer (milliseconds) to a long poll of Temporal (a minute) and a long activity.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

// processMetrics are the metrics of the process as a whole.
type processMetrics struct {
	reg      *prometheus.Registry
	temporal client.MetricsHandler
}

var process = sync.OnceValue(newProcessMetrics)

func newProcessMetrics() *processMetrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// The exporter registers one collector into a registry of its own: it cannot clash.
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		panic("metrics: the Temporal SDK's exporter: " + err.Error())
	}
	buckets := sdkmetric.NewView(sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: latencyBuckets}})
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(buckets))
	handler := temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: provider.Meter("temporal-sdk-go"),
		// Counters that only go up are exported as Prometheus counters (…_total).
		UseMonotonicCounters: true,
		// A metric the SDK cannot record must not stop a worker: it is reported, not raised.
		OnError: otel.Handle,
	})
	return &processMetrics{reg: reg, temporal: handler}
}

// Temporal is the metrics handler of this process's Temporal client (client.Options
// MetricsHandler): the SDK's requests, polls, task latencies and slots, under temporal_*.
func Temporal() client.MetricsHandler { return process().temporal }

// Registry holds one component's metrics.
type Registry struct {
	reg *prometheus.Registry
}

// New returns an empty registry for one component.
func New() *Registry { return &Registry{reg: prometheus.NewRegistry()} }

// Handler serves the component's metrics and the process's in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers{process().reg, r.reg},
		promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
