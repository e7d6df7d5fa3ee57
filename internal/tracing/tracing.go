// Package tracing sends OpenTelemetry traces of a process's Temporal calls, workflows and
// activities to an OTLP collector, when the operator names one with the standard
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) setting. The SDK's
// tracing interceptor carries the span context in Temporal headers, so one trace follows a
// project from the gateway's Update through the chunk workflow into the activities, across
// processes. Without an endpoint nothing is traced and nothing is sent.
package tracing

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Tracing is a process's tracer provider and the Temporal interceptor that uses it.
type Tracing struct {
	provider    *sdktrace.TracerProvider
	interceptor interceptor.ClientInterceptor
}

// Configured reports whether the environment names an OTLP endpoint for traces.
func Configured() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Start sets up tracing for the process named service (OTEL_SERVICE_NAME overrides it) when an
// endpoint is configured; it returns nil otherwise. The exporter reads the other standard
// OTEL_EXPORTER_OTLP_* settings (headers, TLS, timeout) itself.
func Start(ctx context.Context, service string) (*Tracing, error) {
	if !Configured() {
		return nil, nil
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("configuration: OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	res, err := resource.Merge(
		resource.NewSchemaless(semconv.ServiceName(service)),
		resource.Environment(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil {
		return nil, fmt.Errorf("configuration: OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	ic, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer: provider.Tracer("github.com/labelflow/labelflow"),
		// Queries are read-only polls (project status); tracing them would drown the rest.
		DisableQueryTracing: true,
	})
	if err != nil {
		return nil, err
	}
	return &Tracing{provider: provider, interceptor: ic}, nil
}

// Interceptors are the client interceptors to add to the Temporal client options; a worker
// built on that client traces its workflows and activities with them too. None when t is nil.
func (t *Tracing) Interceptors() []interceptor.ClientInterceptor {
	if t == nil {
		return nil
	}
	return []interceptor.ClientInterceptor{t.interceptor}
}

// Shutdown sends the spans still buffered, waiting at most a few seconds.
func (t *Tracing) Shutdown() error {
	if t == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return t.provider.Shutdown(ctx)
}
