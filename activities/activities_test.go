package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/testsuite"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/egress"
	"github.com/labelflow/labelflow/internal/faultproxy"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/pseudonym"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/results"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/workforce"
)

// fixture is a project with one stored chunk of two items.
type fixture struct {
	env  *devstacktest.Env
	acts *Activities
	sp   spec.Project
}

// testPseudonyms names people in the fixture's deliveries.
func testPseudonyms(t *testing.T) *pseudonym.Namer {
	n, err := pseudonym.New("activities-test-pseudonym-key-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newFixture(t *testing.T) *fixture {
	env := devstacktest.Start(t)
	nairobi, _ := time.LoadLocation("Africa/Nairobi")
	f := &fixture{env: env, acts: &Activities{Store: env.Store, Targets: env.Profiles, Payouts: &payout.FileProvider{Store: env.Store, Details: payout.InventedDetails{}, Debtor: testDebtor},
		MaxLineBytes: 1 << 16, Months: nairobi, Log: zerolog.Nop(), Boundary: testBoundary(t, egress.Guard{AllowPrivate: true}),
		Pseudonyms: testPseudonyms(t)}}
	f.sp = spec.Project{ID: "p1", Client: "acme", Source: "s3://intake/acme/p1.manifest",
		Annotation: spec.Annotation{Type: "single-label", Taxonomy: []string{"cat", "dog"}, Instructions: "x"},
		ChunkSize:  2, SuiteSize: 2, AnnotatorsPerItem: 2, Lease: "1m", ReviewerRole: "reviewer",
		Delivery: spec.Delivery{Bucket: devstacktest.ClientBucket, Prefix: "out", Region: "us-east-1", Endpoint: env.Stack.S3Endpoint, Credentials: "dev"},
		Pay:      spec.Pay{Currency: "KES", PerAnnotation: "3.50", PerArbitration: "10"}}
	ctx := context.Background()
	manifest := "{\"id\":\"i1\",\"source\":\"a cat\"}\n{\"id\":\"i2\",\"source\":\"a dog\"}\nnot json\n{\"id\":\"i3\",\"source\":\"a third\"}\n"
	if err := env.Store.PutIn(ctx, devstacktest.IntakeBucket, "acme/p1.manifest", []byte(manifest)); err != nil {
		t.Fatal(err)
	}
	// Activities that heartbeat need an activity context: run them through the test environment.
	var s testsuite.WorkflowTestSuite
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(f.acts)
	if err := f.acts.PrepareProject(ctx, PrepareProjectInput{Spec: f.sp}); err != nil {
		t.Fatal(err)
	}
	v, err := aenv.ExecuteActivity(f.acts.SplitManifest, SplitInput{ProjectID: "p1", Source: f.sp.Source, ChunkSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var split SplitResult
	if err := v.Get(&split); err != nil {
		t.Fatal(err)
	}
	if split.Items != 3 || split.Chunks != 2 || split.Rejects != 1 || split.Lines != 4 {
		t.Fatalf("split = %+v", split)
	}
	return f
}

func settled(at time.Time) []ItemResult {
	c := func(w, a string, d time.Duration) Contribution {
		return Contribution{Worker: w, Answer: label.Answer(a), SubmittedAt: at.Add(d), Seconds: 20}
	}
	rev := c("rev", `"dog"`, 3*time.Minute)
	return []ItemResult{
		{Item: 0, Final: label.Answer(`"cat"`), Method: "agreed", Annotations: []Contribution{c("ann-a", `"cat"`, 0), c("ann-b", `"cat"`, time.Minute)}},
		{Item: 1, Final: label.Answer(`"dog"`), Method: "arbitrated", Annotations: []Contribution{c("ann-a", `"dog"`, 0), c("ann-b", `"cat"`, time.Minute)}, Arbitration: &rev},
	}
}

func TestRecordAndDeliverAreIdempotent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// 20:58 UTC on 31 October is 23:58 in Nairobi: the agreed item falls in October there; the
	// arbitrated one, settled three minutes later, in November.
	at := time.Date(2026, 10, 31, 20, 58, 0, 0, time.UTC)
	in := RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: settled(at)}
	first, err := f.acts.RecordChunk(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	resultsBytes, _ := f.env.Store.Get(ctx, first.ResultsKey)
	second, err := f.acts.RecordChunk(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := f.env.Store.Get(ctx, second.ResultsKey)
	if !bytes.Equal(resultsBytes, again) || first.LedgerEntries != 5 || second.LedgerEntries != 5 {
		t.Fatalf("retry changed the results or ledger: %d/%d entries", first.LedgerEntries, second.LedgerEntries)
	}
	if len(first.LedgerKeys) != 2 || !strings.Contains(first.LedgerKeys[0], "ledger/2026-10/") || !strings.Contains(first.LedgerKeys[1], "ledger/2026-11/") {
		t.Fatalf("ledger keys = %v", first.LedgerKeys)
	}
	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(resultsBytes), []byte{'\n'}) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	meta := lines[1]["label-metadata"].(map[string]any)
	if lines[0]["id"] != "i1" || lines[1]["label"] != "dog" || meta["reviewer"] != "rev" || meta["method"] != "arbitrated" {
		t.Fatalf("results = %v", lines)
	}
	// Arbitrated 2 of 2 classes with 0.8/0.8/0.9 accuracies: posterior 0.9.
	if meta["confidence"].(float64) != 0.9 {
		t.Fatalf("confidence = %v", meta["confidence"])
	}
	var entries []ledger.Entry
	for _, k := range first.LedgerKeys {
		data, _ := f.env.Store.Get(ctx, k)
		for _, l := range bytes.Split(bytes.TrimSpace(data), []byte{'\n'}) {
			var e ledger.Entry
			_ = json.Unmarshal(l, &e)
			entries = append(entries, e)
		}
	}
	var total int64
	for _, e := range entries {
		total += e.Amount
	}
	if total != 4*350+1000 || entries[0].Currency != "KES" {
		t.Fatalf("ledger total %d (%+v)", total, entries)
	}

	r1, err := f.acts.DeliverChunk(ctx, DeliverChunkInput{ProjectID: "p1", Chunk: 0})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := f.acts.DeliverChunk(ctx, DeliverChunkInput{ProjectID: "p1", Chunk: 0})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r1, r2) || r1.Items != 2 || r1.Key != "out/p1/labels/chunk-000000.jsonl" {
		t.Fatalf("receipts %+v / %+v", r1, r2)
	}
	// The manifest waits for every chunk.
	if _, err := f.acts.WriteDeliveryManifest(ctx, DeliveryManifestInput{ProjectID: "p1", Chunks: 2, CompletedAt: at}); err == nil || !strings.Contains(err.Error(), "chunk 1") {
		t.Fatalf("manifest written without chunk 1: %v", err)
	}
	res, err := f.acts.WriteDeliveryManifest(ctx, DeliveryManifestInput{ProjectID: "p1", Chunks: 1, CompletedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects != 3 || res.Items != 2 {
		t.Fatalf("manifest result = %+v", res)
	}
}

func TestPayrollPaysEachPersonOnce(t *testing.T) {
	f := newFixture(t)
	f.acts.Clock = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) } // November is not over
	ctx := context.Background()
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: settled(at)}); err != nil {
		t.Fatal(err)
	}
	// A month that pays nobody needs no finance tables.
	// People missing from the roster are not paid: their entries are left out and reported.
	if nobody, err := f.acts.AggregatePayroll(ctx, "2026-11"); err != nil || nobody.People != 0 || nobody.Entries != 0 || nobody.Refused == nil ||
		nobody.Refused.Entries != 5 || !strings.Contains(strings.Join(nobody.Refused.Examples, "\n"), `worker "ann-a" is not in the roster`) {
		t.Fatalf("payroll for people missing from the roster: %+v, %v", nobody, err)
	}
	var people []workforce.Person
	for _, id := range []string{"ann-a", "ann-b", "ann-c", "rev"} {
		people = append(people, workforce.Person{ID: id, Name: id, Country: "KE", Role: "annotator", PayoutMethod: "mobile-money"})
	}
	if err := (workforce.Roster{Store: f.env.Store}).Save(ctx, people); err != nil {
		t.Fatal(err)
	}
	// Without the minimum wage table the run stops before approval and says what is missing.
	if _, err := f.acts.AggregatePayroll(ctx, "2026-11"); err == nil || !strings.Contains(err.Error(), layout.WageTableKey) {
		t.Fatalf("payroll without a minimum wage table: %v", err)
	}
	f.env.Store.Put(ctx, layout.WageTableKey, []byte("country,currency,hourly_minimum,effective_from,source\nKE,KES,85.00,2026-01-01,test\n"))
	// KES work paid in KES needs no exchange rates.
	sum, err := f.acts.AggregatePayroll(ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if sum.People != 3 || sum.Entries != 5 || sum.Totals["KES"] != 4*350+1000 {
		t.Fatalf("summary = %+v", sum)
	}
	var st payroll.Statement
	if err := f.env.Store.GetJSON(ctx, layout.StatementKey("2026-11", "ann-a"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Totals["KES"] != 700 || len(st.Lines) != 1 || st.Lines[0].Count != 2 || st.Lines[0].Project != "p1" {
		t.Fatalf("statement = %+v", st)
	}
	// 40 seconds at 2 × 85 KES an hour require 1.89 KES; 7 KES earned: no top-up.
	if st.Pay.PayoutCurrency != "KES" || st.Pay.Total != 700 || st.Pay.Floor.Required != 189 || st.Pay.Floor.TopUp != 0 || len(sum.TopUps) != 0 {
		t.Fatalf("pay = %+v", st.Pay)
	}
	// An attempt that paid ann-a and died before writing her record: the retry asks for the same
	// key, the provider answers it as paid, and the run counts it as its own, recovered.
	if _, err := f.acts.Payouts.Pay(ctx, "2026-11", []payout.Payout{{IdempotencyKey: "2026-11/ann-a/KES/after-0", Worker: "ann-a", Month: "2026-11",
		Currency: "KES", Amount: 700, Method: "mobile-money"}}); err != nil {
		t.Fatal(err)
	}
	first, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"})
	if err != nil {
		t.Fatal(err)
	}
	if first.Payouts != 3 || first.Recovered != 1 || first.Paid["KES"] != 2400 {
		t.Fatalf("first run = %+v", first)
	}
	second, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Payouts != 0 || len(second.Paid) != 0 || second.AlreadyPaid != 3 {
		t.Fatalf("second run paid again: %+v", second)
	}
	// Before November is over a (forced) run leaves it open: work accepted since is paid by the
	// next run of November, and only that work.
	if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 1, Results: []ItemResult{
		{Item: 0, Final: label.Answer(`"cat"`), Method: "agreed", Annotations: []Contribution{
			{Worker: "ann-a", Answer: label.Answer(`"cat"`), SubmittedAt: at}, {Worker: "ann-c", Answer: label.Answer(`"cat"`), SubmittedAt: at}}},
	}}); err != nil {
		t.Fatal(err)
	}
	f.aggregate(t, "2026-11")
	third, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"})
	if err != nil {
		t.Fatal(err)
	}
	if third.Payouts != 2 || third.Paid["KES"] != 700 || third.AlreadyPaid != 2 {
		t.Fatalf("third run = %+v", third)
	}
	// The run after November is over closes it. Work of November accepted after that (a chunk
	// recorded late) is not taken by November again but paid by December, as a late adjustment.
	f.acts.Clock = func() time.Time { return time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC) }
	closing, err := f.acts.AggregatePayroll(ctx, "2026-11")
	if err != nil || closing.Entries != 7 {
		t.Fatalf("closing run of November = %+v, %v", closing, err)
	}
	lateEntry := ledger.Entry{ID: "p1/000009/i9/annotation/ann-a", Worker: "ann-a", Project: "p1", Chunk: 9, Item: "i9", Role: ledger.Annotation,
		Amount: 350, Currency: "KES", Month: "2026-11", AcceptedAt: at, Seconds: 30}
	lateB := lateEntry
	lateB.ID, lateB.Worker, lateB.Seconds = "p1/000009/i9/annotation/ann-c", "ann-c", 0
	var lines []byte
	for _, e := range []ledger.Entry{lateEntry, lateB} {
		b, _ := json.Marshal(e)
		lines = append(append(lines, b...), '\n')
	}
	if err := f.env.Store.Put(ctx, layout.LedgerKey("2026-11", "p1", 9), lines); err != nil {
		t.Fatal(err)
	}
	if again, err := f.acts.AggregatePayroll(ctx, "2026-11"); err != nil || again.Entries != 7 || again.Totals["KES"] != closing.Totals["KES"] {
		t.Fatalf("a run of a closed month took new work: %+v, %v", again, err)
	}
	if fourth, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"}); err != nil || fourth.Payouts != 0 {
		t.Fatalf("fourth run of November = %+v, %v", fourth, err)
	}
	f.env.Store.Put(ctx, layout.RatesKey("2026-12"), []byte("from,to,rate\nUSD,KES,129.35\n"))
	dec, err := f.acts.AggregatePayroll(ctx, "2026-12")
	if err != nil {
		t.Fatal(err)
	}
	if dec.Entries != 2 || dec.Adjustments[payroll.AdjustmentLate]["KES"] != 700 || dec.Totals["KES"] != 700 || dec.LedgerFiles != 1 {
		t.Fatalf("December = %+v", dec)
	}
	var late payroll.Statement
	if err := f.env.Store.GetJSON(ctx, layout.StatementKey("2026-12", "ann-a"), &late); err != nil {
		t.Fatal(err)
	}
	if len(late.Lines) != 1 || late.Lines[0].Adjustment != payroll.AdjustmentLate || late.Lines[0].WorkMonth != "2026-11" || late.Lines[0].Seconds != 30 ||
		late.Pay.Lines[0].Adjustment != payroll.AdjustmentLate || !strings.Contains(string(payroll.StatementCSV(&late)), ",late,2026-11,") {
		t.Fatalf("late statement = %+v", late)
	}
	paidDec, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-12", Approver: "fin"})
	if err != nil {
		t.Fatal(err)
	}
	if paidDec.Payouts != 2 || paidDec.Paid["KES"] != 700 {
		t.Fatalf("December paid %+v", paidDec)
	}
}

// A rejection sets a person's work aside with its reason; reversing it pays the work in the next
// month to close, once, as reversal lines.
func TestRejectedWorkIsSetAsideThenPaidWhenReversed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.acts.Clock = func() time.Time { return time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC) } // every month below is over
	f.financeTables(t, []string{"2026-09", "2026-10", "2026-11"}, "ann-a", "ann-b", "rev")
	rej := payroll.Rejection{ID: "p1-ann-b-1", Project: "p1", Person: "ann-b", Chunks: []int{0}, Reason: "answers copied from another person", By: "qa", At: time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)}
	if err := f.env.Store.PutJSON(ctx, layout.RejectionKey(rej.ID), rej); err != nil {
		t.Fatal(err)
	}
	// Chunk 0 (ann-a, ann-b, rev) is accepted in September; ann-b's two answers are rejected.
	f.recordChunk0(t, time.Date(2026, 9, 10, 9, 0, 0, 0, time.UTC))
	sep, err := f.acts.AggregatePayroll(ctx, "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	if sep.Rejected["KES"] != 700 || sep.Totals["KES"] != 700+1000 || sep.People != 3 {
		t.Fatalf("September = %+v", sep)
	}
	var b payroll.Statement
	if err := f.env.Store.GetJSON(ctx, layout.StatementKey("2026-09", "ann-b"), &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Lines) != 0 || len(b.Rejected) != 1 || b.Rejected[0].Count != 2 || b.Rejected[0].Reason != rej.Reason || b.Pay.Total != 0 ||
		!strings.Contains(string(payroll.StatementCSV(&b)), "answers copied") {
		t.Fatalf("rejected statement = %+v", b)
	}
	if data, err := f.env.Store.Get(ctx, layout.RejectedKey("2026-09", rej.ID)); err != nil || strings.Count(string(data), "\n") != 2 {
		t.Fatalf("rejected entries file: %q, %v", data, err)
	}
	// October closes with the rejection still in force: nothing of ann-b's is paid.
	if oct, err := f.acts.AggregatePayroll(ctx, "2026-10"); err != nil || oct.Entries != 0 {
		t.Fatalf("October = %+v, %v", oct, err)
	}
	rej.Reversed = &payroll.Reversal{By: "fin", At: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Note: "checked: honest work"}
	if err := f.env.Store.PutJSON(ctx, layout.RejectionKey(rej.ID), rej); err != nil {
		t.Fatal(err)
	}
	// September run again after the reversal: closed months do not change.
	if again, err := f.acts.AggregatePayroll(ctx, "2026-09"); err != nil || again.Rejected["KES"] != 700 {
		t.Fatalf("September again = %+v, %v", again, err)
	}
	nov, err := f.acts.AggregatePayroll(ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if nov.People != 1 || nov.Adjustments[payroll.AdjustmentReversal]["KES"] != 700 || nov.Totals["KES"] != 700 {
		t.Fatalf("November = %+v", nov)
	}
	if err := f.env.Store.GetJSON(ctx, layout.StatementKey("2026-11", "ann-b"), &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Lines) != 1 || b.Lines[0].Adjustment != payroll.AdjustmentReversal || b.Lines[0].WorkMonth != "2026-09" || b.Pay.Total != 700 {
		t.Fatalf("reversal statement = %+v", b)
	}
	// The reversal is paid once: the next month finds nothing left.
	f.env.Store.Put(ctx, layout.RatesKey("2026-12"), []byte("from,to,rate\nUSD,KES,129.35\n"))
	if dec, err := f.acts.AggregatePayroll(ctx, "2026-12"); err != nil || dec.Entries != 0 {
		t.Fatalf("December = %+v, %v", dec, err)
	}
}

var testDebtor = payout.Debtor{Name: "LabelFlow Ltd", IBAN: "GB33BUKB20201555555555", BIC: "BUKBGB22"}

func TestFileProviderRecoversFromACrashBetweenMarkersAndBatch(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	p := &payout.FileProvider{Store: env.Store, Details: payout.InventedDetails{}}
	payouts := []payout.Payout{
		{IdempotencyKey: "2026-11/a/KES/after-0", Worker: "a", Month: "2026-11", Currency: "KES", Amount: 500, Method: "mobile-money"},
		{IdempotencyKey: "2026-11/b/KES/after-0", Worker: "b", Month: "2026-11", Currency: "KES", Amount: 700, Method: "mobile-money"},
	}
	// A crash left a's intent marker, naming a batch that was never written, and no marker for b.
	if err := env.Store.PutJSON(ctx, payout.MarkerKey(payouts[0].IdempotencyKey), map[string]string{"batch": "finance/payouts/2026-11/mobile-money-unwritten.jsonl"}); err != nil {
		t.Fatal(err)
	}
	out, err := p.Pay(ctx, "2026-11", payouts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.AlreadyPaid || o.BatchKey == "" {
			t.Fatalf("outcome %+v: the unwritten batch must be written now", o)
		}
	}
	again, err := p.Pay(ctx, "2026-11", payouts)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range again {
		if !o.AlreadyPaid {
			t.Fatalf("paid twice: %+v", o)
		}
	}
	var batches, lines int
	err = env.Store.List(ctx, "finance/payouts/2026-11/", func(key string, _ int64) error {
		batches++
		data, err := env.Store.Get(ctx, key)
		lines += bytes.Count(data, []byte{'\n'})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if batches != 1 || lines != 1+2 {
		t.Fatalf("%d batch files with %d lines, want one batch of two payouts under its header", batches, lines)
	}
}

func TestDeliveryCompletesThroughAFaultyServer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	for c := 0; c < 2; c++ {
		res := settled(at)
		if c == 1 {
			res = res[:1] // the second chunk holds one item
		}
		if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: c, Results: res}); err != nil {
			t.Fatal(err)
		}
	}
	proxy, err := faultproxy.Start(f.env.Stack.S3Endpoint, faultproxy.Faults{FailFirst: 2, Every: 3, DropEvery: 4, Methods: []string{"PUT", "POST"}})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	target := f.sp.Delivery
	target.Endpoint, target.Prefix = proxy.URL, "faulty"
	re := Redelivery{ID: "faulty", Target: &target}
	// Activities are retried until they succeed, as the workflow's retry policy does.
	retry := func(what string, fn func() error) {
		t.Helper()
		for attempt := 1; ; attempt++ {
			err := fn()
			if err == nil {
				return
			}
			if attempt == 20 {
				t.Fatalf("%s still failing after %d attempts: %v", what, attempt, err)
			}
		}
	}
	for c := 0; c < 2; c++ {
		retry("deliver", func() error {
			_, err := f.acts.DeliverChunk(ctx, DeliverChunkInput{ProjectID: "p1", Chunk: c, Redelivery: re})
			return err
		})
	}
	var res DeliveryManifestResult
	retry("manifest", func() error {
		var err error
		res, err = f.acts.WriteDeliveryManifest(ctx, DeliveryManifestInput{ProjectID: "p1", Chunks: 2, CompletedAt: at, Redelivery: re})
		return err
	})
	requests, n503, n500, dropped := proxy.Stats()
	if n503 != 2 || n500 == 0 || dropped == 0 {
		t.Fatalf("faults injected: %d requests, %d 503, %d 500, %d dropped", requests, n503, n500, dropped)
	}
	// Read back directly from the server: the manifest is exact.
	direct, err := f.env.Profiles.Open(ctx, f.sp.Delivery)
	if err != nil {
		t.Fatal(err)
	}
	data, err := direct.Get(ctx, res.ManifestKey)
	if err != nil {
		t.Fatal(err)
	}
	var m delivery.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Items != 3 || len(m.Objects) != 4 {
		t.Fatalf("manifest = %+v", m)
	}
	for _, o := range m.Objects {
		obj, err := direct.Get(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(obj)
		if hex.EncodeToString(sum[:]) != o.SHA256 || int64(len(obj)) != o.Size {
			t.Fatalf("%s differs from the manifest", o.Key)
		}
		if o.Kind == "labels" && bytes.Count(obj, []byte{'\n'}) != o.Items {
			t.Fatalf("%s holds %d lines, manifest says %d", o.Key, bytes.Count(obj, []byte{'\n'}), o.Items)
		}
	}
}

func TestFailingWebhookIsReportedNotFatal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no such hook", http.StatusNotFound)
	}))
	defer srv.Close()
	dir := t.TempDir()
	t.Setenv("P1_HOOK", "p1-hook-secret-0123456789")
	profiles := filepath.Join(dir, "profiles.yaml")
	os.WriteFile(profiles, []byte("webhook_secrets:\n  p1-hook:\n    env: P1_HOOK\n"), 0o600)
	targets, err := clientbucket.LoadProfiles(profiles, clientbucket.Options{Embedded: true, DevKey: f.env.Stack.AccessKey, DevSecret: f.env.Stack.SecretKey,
		Egress: egress.Guard{AllowPrivate: true}})
	if err != nil {
		t.Fatal(err)
	}
	f.acts.Targets = targets
	f.sp.Delivery.Webhook = spec.Webhook{URL: srv.URL, Secret: "p1-hook"}
	f.acts.specs.Delete("p1")
	if err := f.env.Store.PutJSON(ctx, layout.SpecKey("p1"), f.sp); err != nil {
		t.Fatal(err)
	}
	res, err := f.acts.NotifyWebhook(ctx, WebhookInput{ProjectID: "p1", Type: "project.completed", Items: 3})
	if err != nil {
		t.Fatalf("a failing webhook failed the activity: %v", err)
	}
	if res.Sent || res.Status != http.StatusNotFound || res.Err == "" || calls.Load() != 1 {
		t.Fatalf("result = %+v after %d calls", res, calls.Load())
	}
}

func TestPayrollTopsUpToTheFloor(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	f.env.Store.Put(ctx, layout.WageTableKey, []byte("country,currency,hourly_minimum,effective_from,source\nKE,KES,85.00,2026-01-01,test\nUG,UGX,1100,2026-01-01,test\n"))
	f.env.Store.Put(ctx, layout.RatesKey("2026-11"), []byte("from,to,rate\nKES,UGX,28.60\n"))
	people := []workforce.Person{
		{ID: "slow", Name: "slow", Country: "KE", Role: "annotator", PayoutMethod: "mobile-money"},
		{ID: "kampala", Name: "kampala", Country: "UG", Role: "annotator", PayoutMethod: "mobile-money"},
	}
	if err := (workforce.Roster{Store: f.env.Store}).Save(ctx, people); err != nil {
		t.Fatal(err)
	}
	// One annotation each (3.50 KES); "slow" worked an hour on it, "kampala" a minute.
	if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 1, Results: []ItemResult{
		{Item: 0, Final: label.Answer(`"cat"`), Method: "agreed", Annotations: []Contribution{
			{Worker: "slow", Answer: label.Answer(`"cat"`), SubmittedAt: at, Seconds: 3600},
			{Worker: "kampala", Answer: label.Answer(`"cat"`), SubmittedAt: at, Seconds: 60}}},
	}}); err != nil {
		t.Fatal(err)
	}
	sum, err := f.acts.AggregatePayroll(ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	// slow: required 2 × 85.00 KES × 1 h = 170.00 KES; earned 3.50 → top-up 166.50 KES.
	// kampala: 3.50 KES × 28.60 = 100.1 → 100 UGX earned; required 2 × 1100 × 1/60 h = 36.67 → 37 UGX: no top-up.
	if len(sum.TopUps) != 1 || sum.TopUps[0] != (payroll.TopUp{Person: "slow", Country: "KE", Currency: "KES", Amount: 16650}) {
		t.Fatalf("top-ups = %+v", sum.TopUps)
	}
	if sum.PayTotals["KES"] != 17000 || sum.PayTotals["UGX"] != 100 || sum.Countries["UG"].People != 1 || sum.Countries["KE"].TopUps["KES"] != 16650 {
		t.Fatalf("summary = %+v", sum)
	}
	res, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Paid["KES"] != 17000 || res.Paid["UGX"] != 100 {
		t.Fatalf("paid = %+v", res.Paid)
	}
}

func TestConfidenceUsesEstimatedAccuracies(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	confidenceOf := func(item int) float64 {
		t.Helper()
		res, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: settled(at)})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := f.env.Store.Get(ctx, res.ResultsKey)
		var line struct {
			Meta results.LabelMetadata `json:"label-metadata"`
		}
		json.Unmarshal(bytes.Split(data, []byte{'\n'})[item], &line)
		return line.Meta.Confidence
	}
	confidence := func() float64 { return confidenceOf(0) }
	// No record: both annotators at the prior 0.8, 2 classes: 0.64 / (0.64 + 0.04) = 0.9412.
	if got := confidence(); got != 0.9412 {
		t.Fatalf("confidence without records = %v", got)
	}
	// On an earlier project ann-a was accepted 96 times in 96 and ann-b 46 in 96:
	// ann-a (3.2+96)/100 = 0.992, ann-b (3.2+46)/100 = 0.492 → 0.992·0.492 / (0.992·0.492 + 0.008·0.508) = 0.9917.
	for w, acc := range map[string]int{"ann-a": 96, "ann-b": 46} {
		if err := f.env.Store.PutJSON(ctx, layout.ScoreKey("single-label", w, "earlier"), quality.ScoreRecord{Answers: 96, Accepted: acc}); err != nil {
			t.Fatal(err)
		}
	}
	// The project's own record is not evidence about it.
	f.env.Store.PutJSON(ctx, layout.ScoreKey("single-label", "ann-b", "p1"), quality.ScoreRecord{Answers: 1000, Accepted: 0})
	if got := confidence(); got != 0.9917 {
		t.Fatalf("confidence with records = %v", got)
	}
	// Item 1: ann-a (0.992) and the reviewer say dog, ann-b (0.492) cat. A reviewer without a
	// record weighs the default 0.9: 0.992·0.508·0.9 / (… + 0.008·0.492·0.1) = 0.9991.
	if got := confidenceOf(1); got != 0.9991 {
		t.Fatalf("arbitrated confidence, reviewer without a record = %v", got)
	}
	// A reviewer right on 2 of 10 gold disputes: (4·0.9 + 2) / 14 = 0.4 → 0.9884.
	if err := f.env.Store.PutJSON(ctx, layout.ScoreKey("single-label", "rev", "earlier"), quality.ScoreRecord{Answers: 10, Accepted: 2}); err != nil {
		t.Fatal(err)
	}
	if got := confidenceOf(1); got != 0.9884 {
		t.Fatalf("arbitrated confidence, reviewer with a poor record = %v", got)
	}
}

func TestChunkAnswersRefineAccuracy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// 30 items; ann-a, ann-b and ann-c answer all of them; ann-c disagrees with the other two on
	// every third item. The chunk's own model should think less of ann-c than of ann-a.
	var res []ItemResult
	for i := 0; i < 30; i++ {
		c := `"cat"`
		if i%3 == 0 {
			c = `"dog"`
		}
		res = append(res, ItemResult{Item: i, Final: label.Answer(`"cat"`), Method: "agreed", Annotations: []Contribution{
			{Worker: "ann-a", Answer: label.Answer(`"cat"`)}, {Worker: "ann-b", Answer: label.Answer(`"cat"`)}, {Worker: "ann-c", Answer: label.Answer(c)}}})
	}
	acc, _, err := f.acts.accuracies(ctx, f.sp, res)
	if err != nil {
		t.Fatal(err)
	}
	if !(acc["ann-a"] > 0.8 && acc["ann-c"] < 0.8 && acc["ann-a"] > acc["ann-c"]) {
		t.Fatalf("accuracies = %v: the chunk's answers should raise ann-a above the 0.8 prior and lower ann-c", acc)
	}
}

// A rejection cannot take back pay already given: a run of an open month keeps paying the files
// an earlier run paid, and sets aside only work taken since. Reversed, the set-aside work is paid
// once, by the next month.
func TestRejectionSetsAsideOnlyUnpaidWork(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.acts.Clock = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	f.financeTables(t, []string{"2026-11", "2026-12"}, "ann-a", "ann-b", "ann-c", "rev")
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: settled(at)}); err != nil {
		t.Fatal(err)
	}
	f.aggregate(t, "2026-11")
	if _, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"}); err != nil {
		t.Fatal(err)
	}
	rej := payroll.Rejection{ID: "p1-ann-b", Project: "p1", Person: "ann-b", Reason: "spam", By: "qa", At: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	if err := f.env.Store.PutJSON(ctx, layout.RejectionKey(rej.ID), rej); err != nil {
		t.Fatal(err)
	}
	if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 1, Results: []ItemResult{
		{Item: 0, Final: label.Answer(`"cat"`), Method: "agreed", Annotations: []Contribution{
			{Worker: "ann-b", Answer: label.Answer(`"cat"`), SubmittedAt: at}, {Worker: "ann-c", Answer: label.Answer(`"cat"`), SubmittedAt: at}}},
	}}); err != nil {
		t.Fatal(err)
	}
	again, err := f.acts.AggregatePayroll(ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	var b payroll.Statement
	if err := f.env.Store.GetJSON(ctx, layout.StatementKey("2026-11", "ann-b"), &b); err != nil {
		t.Fatal(err)
	}
	// ann-b keeps the 7.00 KES paid for chunk 0; chunk 1's 3.50 is set aside.
	if again.Rejected["KES"] != 350 || b.Totals["KES"] != 700 || len(b.Rejected) != 1 || b.Rejected[0].Count != 1 {
		t.Fatalf("open month run again: summary %+v, ann-b %+v", again, b)
	}
	if paid, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"}); err != nil || paid.Payouts != 1 || paid.Paid["KES"] != 350 {
		t.Fatalf("second payout of November = %+v, %v (want ann-c's 3.50 only)", paid, err)
	}
	rej.Reversed = &payroll.Reversal{By: "fin", At: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
	if err := f.env.Store.PutJSON(ctx, layout.RejectionKey(rej.ID), rej); err != nil {
		t.Fatal(err)
	}
	f.acts.Clock = func() time.Time { return time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC) }
	if closing, err := f.acts.AggregatePayroll(ctx, "2026-11"); err != nil || closing.Rejected["KES"] != 350 {
		t.Fatalf("closing run of November = %+v, %v", closing, err)
	}
	dec, err := f.acts.AggregatePayroll(ctx, "2026-12")
	if err != nil {
		t.Fatal(err)
	}
	if dec.People != 1 || dec.Entries != 1 || dec.Adjustments[payroll.AdjustmentReversal]["KES"] != 350 {
		t.Fatalf("December = %+v", dec)
	}
}

// RecordChunk reads back the parts a chunk stored as it went and records them with the results
// given inline, as if all had been given at once.
func TestRecordChunkReadsStoredParts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	all := settled(at)
	whole, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: all})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := f.env.Store.Get(ctx, whole.ResultsKey)
	if err := f.acts.StoreSettled(ctx, StoreSettledInput{ProjectID: "p1", Chunk: 0, Part: 0, Results: all[:1]}); err != nil {
		t.Fatal(err)
	}
	parted, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: all[1:], Parts: 1})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := f.env.Store.Get(ctx, parted.ResultsKey)
	if !bytes.Equal(got, want) || parted.LedgerEntries != whole.LedgerEntries || parted.Items != 2 {
		t.Fatalf("recorded from parts: %+v\n%s\nwant %+v\n%s", parted, got, whole, want)
	}
	// A part that is missing is an error, not a chunk recorded short.
	if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: all[1:], Parts: 2}); err == nil || !strings.Contains(err.Error(), "settled part 1") {
		t.Fatalf("missing part: %v", err)
	}
}

// financeTables uploads a Kenyan minimum wage, the given months' rates and a roster of Kenyan
// annotators paid by mobile money.
func (f *fixture) financeTables(t *testing.T, months []string, people ...string) {
	t.Helper()
	ctx := context.Background()
	f.env.Store.Put(ctx, layout.WageTableKey, []byte("country,currency,hourly_minimum,effective_from,source\nKE,KES,85.00,2026-01-01,test\n"))
	for _, m := range months {
		f.env.Store.Put(ctx, layout.RatesKey(m), []byte("from,to,rate\nUSD,KES,129.35\n"))
	}
	var roster []workforce.Person
	for _, id := range people {
		roster = append(roster, workforce.Person{ID: id, Name: id, Country: "KE", Role: "annotator", PayoutMethod: "mobile-money"})
	}
	if err := (workforce.Roster{Store: f.env.Store}).Save(ctx, roster); err != nil {
		t.Fatal(err)
	}
}

// Entries paid back after a reversal are still subject to the other rejections in force.
func TestAReversalDoesNotPayWorkAnotherRejectionCovers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.acts.Clock = func() time.Time { return time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC) }
	f.financeTables(t, []string{"2026-09", "2026-10"}, "ann-a", "ann-b", "rev")
	wide := payroll.Rejection{ID: "r1", Project: "p1", Person: "ann-b", Reason: "first look", By: "qa", At: time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC)}
	narrow := payroll.Rejection{ID: "r2", Project: "p1", Person: "ann-b", Chunks: []int{0}, Reason: "copied answers", By: "qa", At: time.Date(2026, 9, 21, 0, 0, 0, 0, time.UTC)}
	for _, r := range []payroll.Rejection{wide, narrow} {
		if err := f.env.Store.PutJSON(ctx, layout.RejectionKey(r.ID), r); err != nil {
			t.Fatal(err)
		}
	}
	f.recordChunk0(t, time.Date(2026, 9, 10, 9, 0, 0, 0, time.UTC))
	if sep, err := f.acts.AggregatePayroll(ctx, "2026-09"); err != nil || sep.Rejected["KES"] != 700 {
		t.Fatalf("September = %+v, %v", sep, err)
	}
	wide.Reversed = &payroll.Reversal{By: "fin", At: time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)}
	if err := f.env.Store.PutJSON(ctx, layout.RejectionKey(wide.ID), wide); err != nil {
		t.Fatal(err)
	}
	oct, err := f.acts.AggregatePayroll(ctx, "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	if oct.Totals["KES"] != 0 || oct.Rejected["KES"] != 700 {
		t.Fatalf("October paid work r2 still rejects: %+v", oct)
	}
	var b payroll.Statement
	if err := f.env.Store.GetJSON(ctx, layout.StatementKey("2026-10", "ann-b"), &b); err != nil || len(b.Rejected) != 1 || b.Rejected[0].Rejection != "r2" {
		t.Fatalf("October statement = %+v, %v", b, err)
	}
}

// A month paid before months recorded the ledger files they took keeps its files: the next month
// does not pay them again as late work.
func TestMonthsPaidBeforeClosuresAreNotPaidAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.acts.Clock = func() time.Time { return time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC) }
	f.financeTables(t, []string{"2026-10", "2026-11"}, "ann-a", "ann-b", "rev")
	f.recordChunk0(t, time.Date(2026, 10, 10, 9, 0, 0, 0, time.UTC))
	f.aggregate(t, "2026-10")
	// As the payroll of the time left it: statements and summary, no closure.
	if err := f.env.Store.Delete(ctx, layout.ClosureKey("2026-10")); err != nil {
		t.Fatal(err)
	}
	if nov, err := f.acts.AggregatePayroll(ctx, "2026-11"); err != nil || nov.Entries != 0 || len(nov.Adjustments) != 0 {
		t.Fatalf("November took October's files again: %+v, %v", nov, err)
	}
}

// A payout recorded as pending is asked for again exactly as it was, before anything the
// statement has come to say since; the difference follows under its own key.
func TestAPendingPayoutIsSettledAsAskedFirst(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.acts.Clock = func() time.Time { return time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC) }
	f.financeTables(t, []string{"2026-11"}, "ann-a", "ann-b", "rev")
	f.recordChunk0(t, time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))
	f.aggregate(t, "2026-11")
	// An attempt asked for 5.00 KES for ann-a (her statement then) and was cut short.
	asked := payout.Payout{IdempotencyKey: "2026-11/ann-a/KES/after-0", Worker: "ann-a", Month: "2026-11", Currency: "KES", Amount: 500, Method: "mobile-money"}
	if err := f.env.Store.PutJSON(ctx, layout.PaidKey("2026-11", "ann-a"), payroll.PaidRecord{Worker: "ann-a", Month: "2026-11", Paid: map[string]int64{}, Pending: &asked}); err != nil {
		t.Fatal(err)
	}
	first, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"})
	if err != nil || first.Payouts != 3 || first.Paid["KES"] != 500+700+1000 {
		t.Fatalf("first run = %+v, %v", first, err)
	}
	second, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"})
	if err != nil || second.Payouts != 1 || second.Paid["KES"] != 200 {
		t.Fatalf("second run = %+v, %v (want ann-a's remaining 2.00 KES)", second, err)
	}
	var rec payroll.PaidRecord
	if err := f.env.Store.GetJSON(ctx, layout.PaidKey("2026-11", "ann-a"), &rec); err != nil || rec.Paid["KES"] != 700 || rec.Pending != nil {
		t.Fatalf("ann-a's record = %+v, %v", rec, err)
	}
	batched, _, err := f.acts.Payouts.(*payout.FileProvider).Batched(ctx, "2026-11")
	if _, ok := batched["2026-11/ann-a/KES/after-500"]; err != nil || !ok {
		t.Fatalf("the remainder was not paid under its own key: %v, %v", batched, err)
	}
	if third, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"}); err != nil || third.Payouts != 0 {
		t.Fatalf("third run = %+v, %v", third, err)
	}
}

// Before anything is paid for an open month, a new rejection reaches work an earlier run of the
// month took: nothing would be taken back.
func TestARejectionReachesWorkNotYetPaid(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.acts.Clock = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	f.financeTables(t, []string{"2026-11"}, "ann-a", "ann-b", "rev")
	f.recordChunk0(t, time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))
	f.aggregate(t, "2026-11") // statements, never approved
	rej := payroll.Rejection{ID: "p1-ann-b", Project: "p1", Person: "ann-b", Reason: "spam", By: "qa", At: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}
	if err := f.env.Store.PutJSON(ctx, layout.RejectionKey(rej.ID), rej); err != nil {
		t.Fatal(err)
	}
	again, err := f.acts.AggregatePayroll(ctx, "2026-11")
	if err != nil || again.Rejected["KES"] != 700 || again.Totals["KES"] != 700+1000 {
		t.Fatalf("second run of the open month = %+v, %v (want ann-b's 7.00 KES set aside)", again, err)
	}
}

// recordChunk0 records the fixture's chunk 0 (results) as settled at.
func (f *fixture) recordChunk0(t *testing.T, at time.Time) {
	t.Helper()
	if _, err := f.acts.RecordChunk(context.Background(), RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: settled(at)}); err != nil {
		t.Fatal(err)
	}
}

// aggregate runs a month's AggregatePayroll and fails t on error.
func (f *fixture) aggregate(t *testing.T, month string) PayrollSummary {
	t.Helper()
	sum, err := f.acts.AggregatePayroll(context.Background(), month)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}
