package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, r *Registry) Samples {
	t.Helper()
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	s, err := Scrape(context.Background(), srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWorkCountsWhatItIsTold(t *testing.T) {
	r := New()
	w := NewWork(r)
	w.Chunked(120, 3)
	w.Recorded(50, 7, map[string]int{"annotation": 100, "arbitration": 7, "gold": 4})
	w.Recorded(70, 2, map[string]int{"annotation": 140, "arbitration": 2})
	w.Delivered(120, false)
	w.Delivered(50, true)
	w.Paid(4, map[string]int64{"USD": 1234, "KES": 500}, 1)
	w.Webhook("chunk.delivered", true)
	w.Webhook("chunk.delivered", false)
	w.Webhook("project.completed", false)

	s := scrape(t, r)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"labelflow_items_chunked_total", nil, 120},
		{"labelflow_manifest_lines_rejected_total", nil, 3},
		{"labelflow_items_annotated_total", nil, 120},
		{"labelflow_items_arbitrated_total", nil, 9},
		{"labelflow_ledger_entries_total", nil, 253},
		{"labelflow_ledger_entries_total", map[string]string{"role": "arbitration"}, 9},
		{"labelflow_items_delivered_total", nil, 120},
		{"labelflow_items_redelivered_total", nil, 50},
		{"labelflow_payouts_total", nil, 4},
		{"labelflow_paid_minor_units_total", map[string]string{"currency": "USD"}, 1234},
		{"labelflow_payouts_rejected_total", nil, 1},
		{"labelflow_webhooks_sent_total", nil, 1},
		{"labelflow_webhook_failures_total", nil, 2},
		{"labelflow_webhook_failures_total", map[string]string{"event": "project.completed"}, 1},
	} {
		if got := s.Sum(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestNilWorkCountsNothing(t *testing.T) {
	var w *Work
	w.Chunked(1, 1)
	w.Recorded(1, 1, map[string]int{"annotation": 1})
	w.Delivered(1, false)
	w.Paid(1, map[string]int64{"USD": 1}, 0)
	w.Webhook("chunk.delivered", false)
}

func TestRequestsByRouteAndStatus(t *testing.T) {
	r := New()
	q := NewRequests(r)
	q.Started()("GET /v1/me", http.StatusOK, 3*time.Millisecond)
	q.Started()("GET /v1/me", http.StatusOK, 40*time.Millisecond)
	q.Started()("GET /v1/me", http.StatusUnauthorized, time.Millisecond)
	q.Started()("", http.StatusTooManyRequests, time.Microsecond)
	pending := q.Started()

	s := scrape(t, r)
	if got := s.Sum("labelflow_http_requests_total", map[string]string{"route": "GET /v1/me", "code": "200"}); got != 2 {
		t.Errorf("GET /v1/me 200 = %v, want 2", got)
	}
	if got := s.Sum("labelflow_http_request_duration_seconds", map[string]string{"route": "GET /v1/me"}); got != 3 {
		t.Errorf("latency observations of GET /v1/me = %v, want 3", got)
	}
	if got := s.Sum("labelflow_http_requests_total", map[string]string{"route": Unrouted, "code": "429"}); got != 1 {
		t.Errorf("unrouted 429 = %v, want 1", got)
	}
	if got := s.Sum("labelflow_http_requests_in_flight", nil); got != 1 {
		t.Errorf("in flight = %v, want 1", got)
	}
	pending("GET /healthz", http.StatusOK, time.Millisecond)
	if got := scrape(t, r).Sum("labelflow_http_requests_in_flight", nil); got != 0 {
		t.Errorf("in flight after the last answer = %v, want 0", got)
	}
}

// The SDK's metrics reach every component's scrape: counters as counters, timers as histograms
// in seconds, with the tags as labels.
func TestTemporalSDKMetricsAreServed(t *testing.T) {
	h := Temporal().WithTags(map[string]string{"task_queue": "labelflow-io-test"})
	h.Counter("temporal_test_polls").Inc(3)
	h.Timer("temporal_test_latency").Record(250 * time.Millisecond)
	h.Gauge("temporal_test_slots").Update(5)

	s := scrape(t, New())
	if got := s.Sum("temporal_test_polls_total", map[string]string{"task_queue": "labelflow-io-test"}); got != 3 {
		t.Errorf("temporal_test_polls_total = %v, want 3 (families: %v)", got, s.Names())
	}
	if got := s.Sum("temporal_test_latency_seconds", map[string]string{"task_queue": "labelflow-io-test"}); got != 1 {
		t.Errorf("temporal_test_latency_seconds observations = %v, want 1 (families: %v)", got, s.Names())
	}
	if got := s.Sum("temporal_test_slots", nil); got != 5 {
		t.Errorf("temporal_test_slots = %v, want 5", got)
	}
	if !s.Has("go_goroutines") || !s.Has("process_cpu_seconds_total") {
		t.Errorf("the process's own metrics are missing: %v", s.Names())
	}
	for _, n := range s.Names() {
		if strings.HasPrefix(n, "labelflow_") {
			t.Errorf("an empty component registry serves %s", n)
		}
	}
}
