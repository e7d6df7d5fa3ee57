package tracing

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
)

// collector is an OTLP/HTTP trace receiver: it keeps the name and trace id of every span sent.
type collector struct {
	mu    sync.Mutex
	spans map[string]string // span name → trace id
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := io.Reader(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var req collectortrace.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &req)
	}
	if err != nil || r.URL.Path != "/v1/traces" {
		http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans[s.GetName()] = hex.EncodeToString(s.GetTraceId())
			}
		}
	}
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = io.Copy(w, bytes.NewReader(out))
}

func (c *collector) names() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.spans)
}

func Probe(context.Context) (string, error) { return "ok", nil }

func ProbeWorkflow(ctx workflow.Context) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, Probe).Get(ctx, &out)
	return out, err
}

func TestNothingIsTracedWithoutAnEndpoint(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tr, err := Start(context.Background(), "labelflow")
	if err != nil || tr != nil {
		t.Fatalf("Start without an endpoint = %v, %v; want nil, nil", tr, err)
	}
	if len(tr.Interceptors()) != 0 || tr.Shutdown() != nil {
		t.Fatal("a nil Tracing must add no interceptor and shut down cleanly")
	}
}

// One trace follows a workflow start through the workflow into its activity, on a real server.
func TestWorkflowAndActivityShareOneTrace(t *testing.T) {
	env := devstacktest.Start(t)
	col := &collector{spans: map[string]string{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_SERVICE_NAME", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tr, err := Start(ctx, "labelflow-test")
	if err != nil || tr == nil {
		t.Fatalf("Start: %v, %v", tr, err)
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: env.Stack.TemporalAddress, Interceptors: tr.Interceptors()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, "tracing-probe", worker.Options{})
	w.RegisterWorkflow(ProbeWorkflow)
	w.RegisterActivity(Probe)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "tracing-probe", TaskQueue: "tracing-probe"}, ProbeWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.Shutdown(); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	got := col.names()
	want := []string{"StartWorkflow:ProbeWorkflow", "RunWorkflow:ProbeWorkflow", "StartActivity:Probe", "RunActivity:Probe"}
	trace := got[want[0]]
	for _, name := range want {
		if id, ok := got[name]; !ok || id != trace {
			names := slices.Sorted(maps.Keys(got))
			t.Fatalf("span %q in trace %q, want it in the start's trace %q; spans received: %v", name, id, trace, names)
		}
	}
}
