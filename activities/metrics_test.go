package activities

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/labelflow/labelflow/internal/faultproxy"
	"github.com/labelflow/labelflow/internal/metrics"
	"github.com/labelflow/labelflow/internal/payout"
)

// counted gives f's activities fresh counters and returns a function that reads them back.
func (f *fixture) counted(t *testing.T) func() metrics.Samples {
	reg := metrics.New()
	f.acts.Metrics = metrics.NewWork(reg)
	srv := httptest.NewServer(reg.Handler())
	t.Cleanup(srv.Close)
	return func() metrics.Samples {
		t.Helper()
		s, err := metrics.Scrape(context.Background(), srv.Client(), srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func wantCount(t *testing.T, s metrics.Samples, name string, labels map[string]string, want float64) {
	t.Helper()
	if got := s.Sum(name, labels); got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// Items are counted when chunked, recorded and delivered; a delivery whose attempts fail through a
// faulty server is counted once, by the attempt that completes.
func TestWorkIsCountedOnceItIsDone(t *testing.T) {
	f := newFixture(t)
	scrape := f.counted(t)
	ctx := context.Background()
	var s testsuite.WorkflowTestSuite
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(f.acts)
	if _, err := aenv.ExecuteActivity(f.acts.SplitManifest, SplitInput{ProjectID: "p1", Source: f.sp.Source, ChunkSize: 2}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	for c, res := range [][]ItemResult{settled(at), settled(at)[:1]} {
		if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: c, Results: res}); err != nil {
			t.Fatal(err)
		}
	}
	proxy, err := faultproxy.Start(f.env.Stack.S3Endpoint, faultproxy.Faults{FailFirst: 2, Every: 3, DropEvery: 2, Methods: []string{"PUT", "POST"}})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	target := f.sp.Delivery
	target.Endpoint, target.Prefix = proxy.URL, "faulty"
	failed := 0
	for c := 0; c < 2; c++ {
		for attempt := 1; ; attempt++ {
			_, err := f.acts.DeliverChunk(ctx, DeliverChunkInput{ProjectID: "p1", Chunk: c, Redelivery: Redelivery{ID: "faulty", Target: &target}})
			if err == nil {
				break
			}
			if failed++; attempt == 20 {
				t.Fatalf("delivery of chunk %d still failing: %v", c, err)
			}
		}
		if _, err := f.acts.DeliverChunk(ctx, DeliverChunkInput{ProjectID: "p1", Chunk: c}); err != nil {
			t.Fatal(err)
		}
	}
	if failed == 0 {
		t.Fatal("no delivery attempt failed: the faults were not injected")
	}

	got := scrape()
	wantCount(t, got, "labelflow_items_chunked_total", nil, 3)
	wantCount(t, got, "labelflow_manifest_lines_rejected_total", nil, 1)
	wantCount(t, got, "labelflow_items_annotated_total", nil, 3)
	wantCount(t, got, "labelflow_items_arbitrated_total", nil, 1)
	wantCount(t, got, "labelflow_ledger_entries_total", map[string]string{"role": "annotation"}, 6)
	wantCount(t, got, "labelflow_ledger_entries_total", map[string]string{"role": "arbitration"}, 1)
	wantCount(t, got, "labelflow_items_delivered_total", nil, 3)
	wantCount(t, got, "labelflow_items_redelivered_total", nil, 3)
}

// failingProvider is a payment API that pays each idempotency key once (a repeated key is
// answered as already paid) and goes away part-way through its first batch, after `first`
// payouts.
type failingProvider struct {
	first  int
	failed bool
	paid   map[string]bool
}

func (p *failingProvider) Pay(_ context.Context, _ string, payouts []payout.Payout) ([]payout.Outcome, error) {
	var out []payout.Outcome
	for i, po := range payouts {
		if !p.failed && i == p.first {
			p.failed = true
			return out, errors.New("payment API went away")
		}
		out = append(out, payout.Outcome{Payout: po, AlreadyPaid: p.paid[po.IdempotencyKey]})
		p.paid[po.IdempotencyKey] = true
	}
	return out, nil
}

// A payroll run whose provider fails part-way counts what it recorded; its retry counts the rest,
// so each payout is counted once.
func TestPayoutsAreCountedOnceAcrossAFailedAttempt(t *testing.T) {
	f := newFixture(t)
	f.acts.Clock = func() time.Time { return time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC) }
	f.financeTables(t, []string{"2026-11"}, "ann-a", "ann-b", "rev")
	f.recordChunk0(t, time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))
	f.aggregate(t, "2026-11")
	scrape := f.counted(t)
	f.acts.Payouts = &failingProvider{first: 1, paid: map[string]bool{}}
	ctx := context.Background()

	if _, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"}); err == nil {
		t.Fatal("the first attempt did not fail")
	}
	wantCount(t, scrape(), "labelflow_payouts_total", nil, 1)
	res, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"})
	if err != nil || res.Payouts != 2 {
		t.Fatalf("retry = %+v, %v", res, err)
	}
	if again, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"}); err != nil || again.Payouts != 0 {
		t.Fatalf("third run = %+v, %v", again, err)
	}
	got := scrape()
	wantCount(t, got, "labelflow_payouts_total", nil, 3)
	wantCount(t, got, "labelflow_paid_minor_units_total", map[string]string{"currency": "KES"}, 700+700+1000)
	wantCount(t, got, "labelflow_payouts_rejected_total", nil, 0)
}
