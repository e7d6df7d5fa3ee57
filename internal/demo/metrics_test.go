package demo

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/devstack"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/metrics"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/webhook"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// The metrics test runs a worker and a gateway of its own on the shared stack: the worker polls
// task queues no other worker polls, so that everything the test's project and payroll do is done
// by it, and its counters can be held to their outcome exactly.
const (
	metricsWorkflowQueue = "labelflow-workflows-metrics"
	metricsActivityQueue = "labelflow-io-metrics"
	// metricsPayMonth is a month that is over and that no other test pays.
	metricsPayMonth = "2026-02"
)

func TestWorkerAndGatewayMetricsMatchTheOutcome(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	sw := newStoreGate(t, env.Stack.S3Endpoint)
	a := metricsApp(t, sw.url)
	health := startMetricsWorker(t, a)
	c := &http.Client{Timeout: 30 * time.Second}
	waitStatus(t, c, health+"/readyz", http.StatusOK)

	g, err := gateway.New(a)
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(g.Handler())
	t.Cleanup(gw.Close)
	e := &Env{Cfg: a.Cfg, Stack: env.Stack, App: a, GatewayURL: gw.URL}

	hooks := newFailingChunkHooks(t)
	o := RunOptions{ProjectID: "it-metrics", Items: 60, ChunkSize: 20, Seed: 17, WebhookURL: hooks.url, WebhookSecret: "it-hook"}
	status := runMetricsProject(ctx, t, e, o)
	pay := payMetricsMonth(ctx, t, a)

	w, err := metrics.Scrape(ctx, c, health+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]float64{}
	for _, en := range ledgerEntries(t, time.Now().In(monthZone(a)).Format("2006-01"), o.ProjectID) {
		entries[en.Role]++
	}
	want := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"labelflow_items_chunked_total", nil, float64(status.Items)},
		{"labelflow_manifest_lines_rejected_total", nil, float64(status.Rejects)},
		{"labelflow_items_annotated_total", nil, float64(status.Done.Items)},
		{"labelflow_items_arbitrated_total", nil, float64(status.Done.Arbitrated)},
		{"labelflow_items_delivered_total", nil, float64(status.Done.Delivered)},
		{"labelflow_items_redelivered_total", nil, 0},
		{"labelflow_ledger_entries_total", map[string]string{"role": "annotation"}, entries["annotation"]},
		{"labelflow_ledger_entries_total", map[string]string{"role": "arbitration"}, entries["arbitration"]},
		{"labelflow_ledger_entries_total", map[string]string{"role": "gold"}, entries["gold"]},
		{"labelflow_webhook_failures_total", map[string]string{"event": webhook.EventChunkDelivered}, float64(hooks.received(webhook.EventChunkDelivered))},
		{"labelflow_webhooks_sent_total", map[string]string{"event": webhook.EventProjectCompleted}, 1},
		{"labelflow_payouts_total", nil, float64(pay.Payout.Payouts)},
	}
	for cur, v := range pay.Payout.Paid {
		want = append(want, struct {
			name   string
			labels map[string]string
			want   float64
		}{"labelflow_paid_minor_units_total", map[string]string{"currency": cur}, float64(v)})
	}
	for _, c := range want {
		if got := w.Sum(c.name, c.labels); got != c.want {
			t.Errorf("worker %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if status.Items == 0 || status.Done.Delivered != status.Items || status.Rejects == 0 || status.Done.Arbitrated == 0 ||
		hooks.received(webhook.EventChunkDelivered) != status.Chunks {
		t.Errorf("the project did not exercise every counter: %d items, %d delivered, %d rejects, %d arbitrated, %d chunk events for %d chunks",
			status.Items, status.Done.Delivered, status.Rejects, status.Done.Arbitrated, hooks.received(webhook.EventChunkDelivered), status.Chunks)
	}
	if !w.Has("go_goroutines") {
		t.Errorf("the worker's /metrics lacks the process's metrics: %v", w.Names())
	}
	// The SDK's metrics, from the client app.Open dials (client.Options.MetricsHandler).
	recorded := w.Sum("temporal_activity_execution_latency_seconds", map[string]string{"task_queue": metricsActivityQueue, "activity_type": "RecordChunk"})
	if recorded < float64(status.Chunks) {
		t.Errorf("the SDK timed %v RecordChunk executions on %s for %d chunks: is metrics.Temporal() the Temporal client's MetricsHandler?",
			recorded, metricsActivityQueue, status.Chunks)
	}
	if w.Sum("temporal_workflow_completed_total", map[string]string{"task_queue": metricsWorkflowQueue}) == 0 {
		t.Errorf("the SDK counted no workflow completed on %s", metricsWorkflowQueue)
	}
	t.Logf("%d items (%d rejected lines) in %d chunks, %d arbitrated; %d payouts; %d SDK metric families",
		status.Items, status.Rejects, status.Chunks, status.Done.Arbitrated, pay.Payout.Payouts, countPrefixed(w, "temporal_"))

	checkGatewayMetrics(ctx, t, c, gw.URL, status)
	checkReadinessFollowsTheStore(t, c, health, sw)
}

// metricsApp is the shared stack's app with the test's task queues, a health listener, and the
// platform store reached through storeURL.
func metricsApp(t *testing.T, storeURL string) *app.App {
	t.Helper()
	st, err := store.New(store.Options{Endpoint: storeURL, AccessKey: env.Stack.AccessKey, SecretKey: env.Stack.SecretKey,
		Region: env.Cfg.StoreRegion, Bucket: env.Cfg.StoreBucket})
	if err != nil {
		t.Fatal(err)
	}
	port, err := devstack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	a := *env.App
	a.Store, a.Roster = st, workforce.Roster{Store: st, Pepper: env.App.Roster.Pepper}
	a.Cfg.WorkflowTaskQueue, a.Cfg.ActivityTaskQueue = metricsWorkflowQueue, metricsActivityQueue
	a.Cfg.WorkerHealthListen = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return &a
}

// startMetricsWorker runs a's worker until the test ends and returns its health server's URL.
func startMetricsWorker(t *testing.T, a *app.App) string {
	t.Helper()
	wctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.RunWorker(wctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	return "http://" + a.Cfg.WorkerHealthListen
}

// runMetricsProject launches o, lets a simulated crowd work it through e's gateway and returns
// its final status once delivered.
func runMetricsProject(ctx context.Context, t *testing.T, e *Env, o RunOptions) app.ProjectView {
	t.Helper()
	p, _, err := LaunchProject(ctx, e, o)
	if err != nil {
		t.Fatal(err)
	}
	sim := simulate.Options{GatewayURL: e.GatewayURL, Project: p.ID, Annotators: 6, Reviewers: 2, Accuracy: 0.75,
		ReviewerAccuracy: 0.95, Seed: o.Seed, Languages: []string{"en"}, Idle: 50 * time.Millisecond}
	crowd := registerCrowd(ctx, t, e.App, sim)
	simDone := make(chan error, 1)
	go func() {
		_, err := simulate.Run(ctx, sim, e.App.Store, crowd)
		simDone <- err
	}()
	status, err := e.App.WaitProject(ctx, p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-simDone; err != nil {
		t.Fatal(err)
	}
	if status.Stage != workflows.StageCompleted {
		t.Fatalf("project ended at stage %s: %s", status.Stage, status.Error)
	}
	return status
}

// payMetricsMonth writes a month of ledger for a crowd of its own and pays it through the test's
// worker.
func payMetricsMonth(ctx context.Context, t *testing.T, a *app.App) workflows.PayrollStatus {
	t.Helper()
	crowd := registerCrowd(ctx, t, a, simulate.Options{Project: "it-metrics-pay", Annotators: 5, Reviewers: 2})
	if err := writeCrowdLedger(ctx, a.Store, "it-metrics-pay", metricsPayMonth, crowd); err != nil {
		t.Fatal(err)
	}
	if err := SeedFinanceTables(ctx, a.Store, metricsPayMonth); err != nil {
		t.Fatal(err)
	}
	st, err := RunAndApprovePayroll(ctx, a, metricsPayMonth, signIn(ctx, t, a, FinanceDemo))
	if err != nil {
		t.Fatal(err)
	}
	if st.Stage != workflows.PayrollPaid {
		t.Fatalf("payroll of %s: stage %s: %+v", metricsPayMonth, st.Stage, st)
	}
	// The embedded stack pays its simulated people, so that payouts are counted here.
	if st.Payout.Payouts != len(crowd) {
		t.Errorf("payroll of %s: %d payouts for %d people: %+v", metricsPayMonth, st.Payout.Payouts, len(crowd), st.Payout)
	}
	return st
}

// checkGatewayMetrics holds the gateway's request counts to the work the crowd did through it.
func checkGatewayMetrics(ctx context.Context, t *testing.T, c *http.Client, base string, status app.ProjectView) {
	t.Helper()
	s, err := metrics.Scrape(ctx, c, base+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	const claim, submit = "POST /v1/projects/{project}/claim", "POST /v1/projects/{project}/suites/{suite}/submit"
	submitted := s.Sum("labelflow_http_requests_total", map[string]string{"route": submit, "code": "200"})
	// Every accepted answer came in one submission of a suite; a suite holds one or more answers.
	answers := float64(status.Done.Annotations + status.Done.Arbitrated)
	if submitted == 0 || submitted > answers {
		t.Errorf("gateway: %v submissions answered 200 for %v accepted answers", submitted, answers)
	}
	if got := s.Sum("labelflow_http_requests_total", map[string]string{"route": claim}); got < submitted {
		t.Errorf("gateway: %v claims for %v submissions", got, submitted)
	}
	if got := s.Sum("labelflow_http_request_duration_seconds", map[string]string{"route": submit, "code": "200"}); got != submitted {
		t.Errorf("gateway: %v latency observations of submissions, %v submissions", got, submitted)
	}
	for _, n := range s.Names() {
		if n == "labelflow_items_delivered_total" {
			t.Errorf("the gateway serves the worker's counters")
		}
	}
}

// checkReadinessFollowsTheStore takes the store away from the worker and back: its readiness
// follows, naming the store, while its liveness stays.
func checkReadinessFollowsTheStore(t *testing.T, c *http.Client, health string, sw *storeGate) {
	t.Helper()
	sw.down.Store(true)
	rd := waitStatus(t, c, health+"/readyz", http.StatusServiceUnavailable)
	if rd.Checks["store"] == "ok" || rd.Checks["temporal"] != "ok" || rd.Checks["pollers"] != "ok" {
		t.Errorf("worker readiness with the store down = %+v, want the store named, Temporal and the pollers ok", rd)
	}
	waitStatus(t, c, health+"/healthz", http.StatusOK)
	sw.down.Store(false)
	waitStatus(t, c, health+"/readyz", http.StatusOK)
}

// waitStatus polls url until it answers want (readiness readings are reused for a couple of
// seconds), and returns the readiness it read.
func waitStatus(t *testing.T, c *http.Client, url string, want int) app.Readiness {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rd app.Readiness
		status, err := getJSON(c, url, &rd)
		if err == nil && status == want {
			return rd
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %d %+v (%v), want %d", url, status, rd, err, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func getJSON(c *http.Client, url string, v any) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
}

func countPrefixed(s metrics.Samples, prefix string) int {
	n := 0
	for _, name := range s.Names() {
		if strings.HasPrefix(name, prefix) {
			n++
		}
	}
	return n
}

func monthZone(a *app.App) *time.Location {
	loc, err := time.LoadLocation(a.Cfg.MonthTimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// storeGate stands between a worker and the S3 server; while down, it closes every connection
// without an answer, as an unreachable server would.
type storeGate struct {
	down atomic.Bool
	url  string
}

func newStoreGate(t *testing.T, target string) *storeGate {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	sw := &storeGate{}
	rp := httputil.NewSingleHostReverseProxy(u) // keeps the Host the client signed
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sw.down.Load() {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	sw.url = srv.URL
	return sw
}

// chunkHooks is a client's webhook endpoint that refuses chunk events for good (400: no retry)
// and accepts the project's completion.
type chunkHooks struct {
	url    string
	mu     sync.Mutex
	counts map[string]int
}

func newFailingChunkHooks(t *testing.T) *chunkHooks {
	h := &chunkHooks{counts: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e webhook.Event
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		h.mu.Lock()
		h.counts[e.Type]++
		h.mu.Unlock()
		if e.Type == webhook.EventChunkDelivered {
			http.Error(w, "no such hook", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/labelflow"
	return h
}

func (h *chunkHooks) received(event string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[event]
}
