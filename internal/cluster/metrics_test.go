//go:build linux

package cluster

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/labelflow/labelflow/internal/metrics"
	"github.com/labelflow/labelflow/internal/webhook"
)

// metricsBook keeps the last scrape of every run of every LabelFlow process, as Prometheus
// would: a process killed with SIGKILL keeps the reading taken before it died, and its restart
// counts from zero under a run of its own. Summed over all runs, the counters are what the
// cluster did.
type metricsBook struct {
	hc *http.Client

	mu       sync.Mutex // held through a scrape, so that readings of one run are kept in order
	readings map[string]reading
}

type reading struct {
	role    string
	samples metrics.Samples
}

func newMetricsBook() *metricsBook {
	return &metricsBook{hc: &http.Client{Timeout: 5 * time.Second}, readings: map[string]reading{}}
}

// scrape reads m's /metrics and keeps it as the latest reading of m's current run.
func (b *metricsBook) scrape(ctx context.Context, m *Member) (metrics.Samples, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	run := fmt.Sprintf("%s#%d", m.name, m.runs())
	s, err := metrics.Scrape(ctx, b.hc, m.URL+"/metrics")
	if err == nil {
		b.readings[run] = reading{role: m.Role, samples: s}
	}
	return s, err
}

// follow scrapes every running member each second until ctx ends, and reads its peak RSS. A process being killed does
// not answer; its reading taken just before the kill stays.
func (b *metricsBook) follow(ctx context.Context, members []*Member) {
	for ctx.Err() == nil {
		for _, m := range members {
			if m.running() {
				_, _ = b.scrape(ctx, m)
				m.sample()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// sum adds up a counter over the kept readings of every run of processes of the given roles.
func (b *metricsBook) sum(name string, labels map[string]string, roles ...string) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	total := 0.0
	for _, r := range b.readings {
		for _, role := range roles {
			if r.role == role {
				total += r.samples.Sum(name, labels)
			}
		}
	}
	return total
}

// runsOf is how many process runs of a role have a reading.
func (b *metricsBook) runsOf(role string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, r := range b.readings {
		if r.role == role {
			n++
		}
	}
	return n
}

// counterWant is a counter's expected sum, and how far it may be off: work counted by a killed
// worker between its last scrape and the kill is lost, and work it finished but could not report
// is done and counted again by another (docs/ARCHITECTURE.md, Counters and retries).
type counterWant struct {
	name   string
	labels map[string]string
	want   float64
	slack  float64
}

// outcome is what the cluster did, read from the project, the delivery, the ledger and payroll.
type outcome struct {
	run                                   projectRun
	annotationEntries, arbitrationEntries int
	payouts                               int
	paid                                  map[string]int64
}

// checkWorkerCounters holds the workers' counters, summed over every run of every worker, to the
// outcome.
func checkWorkerCounters(t *testing.T, b *metricsBook, o outcome) {
	t.Helper()
	st := o.run.Status
	wants := []counterWant{
		{"labelflow_items_chunked_total", nil, float64(st.Items), 0},
		{"labelflow_manifest_lines_rejected_total", nil, float64(st.Rejects), 0},
		{"labelflow_items_annotated_total", nil, float64(st.Done.Items), chunkSize},
		{"labelflow_items_arbitrated_total", nil, float64(st.Done.Arbitrated), chunkSize},
		{"labelflow_items_delivered_total", nil, float64(st.Done.Delivered), chunkSize},
		{"labelflow_ledger_entries_total", map[string]string{"role": "annotation"}, float64(o.annotationEntries), 2 * chunkSize},
		{"labelflow_ledger_entries_total", map[string]string{"role": "arbitration"}, float64(o.arbitrationEntries), chunkSize},
		{"labelflow_webhook_failures_total", map[string]string{"event": webhook.EventChunkDelivered}, 0, 0},
		{"labelflow_payouts_total", nil, float64(o.payouts), 0},
	}
	for cur, v := range o.paid {
		wants = append(wants, counterWant{"labelflow_paid_minor_units_total", map[string]string{"currency": cur}, float64(v), 0})
	}
	for _, w := range wants {
		got := b.sum(w.name, w.labels, RoleActivities, RoleAll)
		t.Logf("metrics: %s%s = %.0f over %d activity worker runs, outcome %.0f", w.name, labelText(w.labels), got, b.runsOf(RoleActivities), w.want)
		if math.Abs(got-w.want) > w.slack {
			t.Errorf("activity workers' %s%s sum to %.0f, the outcome is %.0f (allowed off by %.0f for the kill)", w.name, labelText(w.labels), got, w.want, w.slack)
		}
		if got := b.sum(w.name, w.labels, RoleWorkflows); got != 0 {
			t.Errorf("workflow workers counted %.0f %s: they run no activity", got, w.name)
		}
	}
	// Each role does its own kind of task, as the SDK's metrics tell.
	if got := b.sum("temporal_activity_execution_latency_seconds", nil, RoleWorkflows); got != 0 {
		t.Errorf("workflow workers executed %.0f activities", got)
	}
	if got := b.sum("temporal_workflow_task_execution_latency_seconds", nil, RoleActivities); got != 0 {
		t.Errorf("activity workers executed %.0f workflow tasks", got)
	}
	if got := b.sum("temporal_workflow_task_execution_latency_seconds", nil, RoleWorkflows); got == 0 {
		t.Errorf("workflow workers executed no workflow task")
	}
	t.Logf("metrics: workflow workers failed %.0f workflow tasks (the SDK's temporal_workflow_task_execution_failed_total)",
		b.sum("temporal_workflow_task_execution_failed_total", nil, RoleWorkflows))
	if b.sum("temporal_workflow_completed_total", map[string]string{"workflow_type": "ChunkWorkflow"}, RoleWorkflows) == 0 && st.Chunks > 0 {
		t.Errorf("workflow workers completed no chunk workflow for %d chunks", st.Chunks)
	}
}

// Routes the gateway counts requests by.
const (
	claimRoute  = "POST /v1/projects/{project}/claim"
	submitRoute = "POST /v1/projects/{project}/suites/{suite}/submit"
)

// checkGatewayCounters holds the gateways' request counts, summed over every run of both, to
// what the crowd saw: each submission answered 200 is one the crowd counted. A gateway killed
// with submissions in flight may have counted some whose answer never left; those people send
// them again, and they are answered 200 again (a submission is accepted once).
func checkGatewayCounters(t *testing.T, b *metricsBook, o outcome, inFlight int) {
	t.Helper()
	ok := map[string]string{"route": submitRoute, "code": "200"}
	submitted := b.sum("labelflow_http_requests_total", ok, RoleGateway)
	t.Logf("metrics: gateways answered %.0f submissions with 200 over %d gateway runs; the crowd counted %d accepted suites",
		submitted, b.runsOf(RoleGateway), o.run.Crowd.Suites)
	if math.Abs(submitted-float64(o.run.Crowd.Suites)) > float64(inFlight) {
		t.Errorf("gateways answered %.0f submissions with 200, the crowd counted %d (allowed off by %d in flight at the kill)", submitted, o.run.Crowd.Suites, inFlight)
	}
	// A suite comes from a claim or with the submission before it (the crowd, as the workbench,
	// asks for the next suite when it submits), so claims may be fewer than submissions; but
	// every claim the crowd found empty was served by a gateway.
	if claims := b.sum("labelflow_http_requests_total", map[string]string{"route": claimRoute}, RoleGateway); claims+float64(inFlight) < float64(o.run.Crowd.EmptyClaims) {
		t.Errorf("gateways served %.0f claims; the crowd counted %d claims that found no suite", claims, o.run.Crowd.EmptyClaims)
	}
	if got := b.sum("labelflow_items_delivered_total", nil, RoleGateway); got != 0 {
		t.Errorf("a gateway serves the workers' counters (%.0f items delivered)", got)
	}
}

// labelText is labels as Prometheus writes them: {k="v"}, or nothing.
func labelText(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	parts := make([]string, 0, len(labels))
	for k, v := range labels {
		parts = append(parts, fmt.Sprintf("%s=%q", k, v))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// latency is what a gateway's request duration histogram holds for a route's 200 answers.
type latency struct{ seconds, count float64 }

// routeLatency reads a gateway's request durations of route answered 200.
func routeLatency(ctx context.Context, b *metricsBook, m *Member, route string) (latency, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/metrics", nil)
	if err != nil {
		return latency{}, err
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return latency{}, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return latency{}, err
	}
	var l latency
	for _, s := range fams["labelflow_http_request_duration_seconds"].GetMetric() {
		labels := map[string]string{}
		for _, lp := range s.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		if labels["route"] == route && labels["code"] == "200" {
			l.seconds += s.GetHistogram().GetSampleSum()
			l.count += float64(s.GetHistogram().GetSampleCount())
		}
	}
	return l, nil
}

// logLatency logs the mean time a gateway took to answer claims and submissions between two
// readings: each is an Update of a chunk workflow, so this is the round trip a person waits.
func logLatency(t *testing.T, phase string, m *Member, claimBefore, claimAfter, submitBefore, submitAfter latency) {
	t.Helper()
	mean := func(before, after latency) string {
		n := after.count - before.count
		if n == 0 {
			return "none"
		}
		return fmt.Sprintf("%.0f ms over %.0f", 1000*(after.seconds-before.seconds)/n, n)
	}
	t.Logf("latency: %s, %s: claim %s, submit %s", phase, m.Name(), mean(claimBefore, claimAfter), mean(submitBefore, submitAfter))
}
