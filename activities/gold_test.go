package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/results"
)

// withGold splits the fixture's manifest again with one gold item (truth "cat") at the end of
// each chunk: chunk 0 holds i1, i2 and a gold item; chunk 1 holds i3 and a gold item.
func (f *fixture) withGold(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if err := f.env.Store.PutIn(ctx, devstacktest.IntakeBucket, "acme/gold.manifest", []byte(`{"id":"g1","source":"a gold cat","truth":"cat"}`+"\n")); err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(f.acts)
	v, err := aenv.ExecuteActivity(f.acts.SplitManifest, SplitInput{ProjectID: "p1", Source: f.sp.Source, ChunkSize: 2,
		GoldSource: "s3://intake/acme/gold.manifest", GoldPerChunk: 1})
	if err != nil {
		t.Fatal(err)
	}
	var split SplitResult
	if err := v.Get(&split); err != nil || split.GoldPerChunk != 1 || split.Chunks != 2 {
		t.Fatalf("split with gold = %+v, %v", split, err)
	}
}

func TestGoldArbitrationScoresTheReviewer(t *testing.T) {
	f := newFixture(t)
	f.withGold(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	c := func(w, a string) Contribution {
		return Contribution{Worker: w, Answer: label.Answer(a), SubmittedAt: at, Seconds: 20}
	}
	disputedGold := func(item int, reviewer, answer string) ItemResult {
		arb := c(reviewer, answer)
		return ItemResult{Item: item, Final: label.Answer(answer), Method: "arbitrated",
			Annotations: []Contribution{c("ann-a", `"cat"`), c("ann-b", `"dog"`)}, Arbitration: &arb}
	}
	// Chunk 0: rev settles the gold dispute with the known answer; chunk 1: rev-2 against it.
	chunk0 := append(settled(at), disputedGold(2, "rev", `"cat"`))
	chunk1 := []ItemResult{
		{Item: 0, Final: label.Answer(`"cat"`), Method: "agreed", Annotations: []Contribution{c("ann-a", `"cat"`), c("ann-b", `"cat"`)}},
		disputedGold(1, "rev-2", `"dog"`),
	}
	var entries []ledger.Entry
	for chunk, res := range [][]ItemResult{chunk0, chunk1} {
		rec, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: chunk, Results: res})
		if err != nil {
			t.Fatal(err)
		}
		// Gold items are never delivered, arbitrated or not.
		if rec.Items != len(res)-1 {
			t.Fatalf("chunk %d: %d lines recorded, want %d", chunk, rec.Items, len(res)-1)
		}
		data, _ := f.env.Store.Get(ctx, rec.ResultsKey)
		if bytes.Contains(data, []byte("gold")) {
			t.Fatalf("chunk %d results hold a gold item: %s", chunk, data)
		}
		for _, k := range rec.LedgerKeys {
			data, _ := f.env.Store.Get(ctx, k)
			for _, l := range bytes.Split(bytes.TrimSpace(data), []byte{'\n'}) {
				var e ledger.Entry
				if err := json.Unmarshal(l, &e); err != nil {
					t.Fatal(err)
				}
				entries = append(entries, e)
			}
		}
		if _, err := f.acts.DeliverChunk(ctx, DeliverChunkInput{ProjectID: "p1", Chunk: chunk}); err != nil {
			t.Fatal(err)
		}
	}
	// The reviewer's answer on a gold item is paid as an arbitration, the annotators' as gold.
	paid := map[string]ledger.Entry{}
	for _, e := range entries {
		paid[e.ID] = e
	}
	if e, ok := paid["p1/000000/gold-000000-00/arbitration/rev"]; !ok || e.Role != ledger.Arbitration || e.Amount != 1000 {
		t.Fatalf("gold arbitration ledger entry = %+v (found %v); entries %+v", e, ok, entries)
	}
	if e, ok := paid["p1/000000/gold-000000-00/gold/ann-b"]; !ok || e.Role != ledger.Gold {
		t.Fatalf("gold annotation ledger entry = %+v (found %v)", e, ok)
	}

	var st quality.ChunkStats
	if err := f.env.Store.GetJSON(ctx, layout.StatsKey("p1", 0), &st); err != nil {
		t.Fatal(err)
	}
	rev, a, b := st.People["rev"], st.People["ann-a"], st.People["ann-b"]
	// rev arbitrated item i2 (delivered) and the gold item (scored).
	if rev.Arbitrated != 1 || rev.GoldArbitrations != 1 || rev.GoldArbitrationsCorrect != 1 || rev.GoldAnswers != 0 {
		t.Fatalf("reviewer stats = %+v", rev)
	}
	if a.GoldAnswers != 1 || a.GoldCorrect != 1 || b.GoldAnswers != 1 || b.GoldCorrect != 0 || st.Gold != 1 || st.Arbitrated != 1 {
		t.Fatalf("chunk stats = %+v", st)
	}

	if _, err := f.acts.WriteDeliveryManifest(ctx, DeliveryManifestInput{ProjectID: "p1", Chunks: 2, CompletedAt: at}); err != nil {
		t.Fatal(err)
	}
	var report quality.Report
	if err := f.env.Store.GetJSON(ctx, layout.QualityReportKey("p1"), &report); err != nil {
		t.Fatal(err)
	}
	if p := report.People["rev-2"]; p.GoldArbitrations != 1 || p.GoldArbitrationsCorrect != 0 {
		t.Fatalf("report for rev-2 = %+v", p)
	}
	if csv := string(quality.ReportCSV(report)); !strings.Contains(csv, "\nrev,0,0,0.0000,0,0,1,0,,20.0,1,1.0000\n") {
		t.Fatalf("quality csv lacks rev's gold arbitrations:\n%s", csv)
	}
	// Later projects see each reviewer's measured accuracy: right once (3.2+1)/5 = 0.84, wrong
	// once 3.2/5 = 0.64, against 0.8 without a record.
	for reviewer, want := range map[string]float64{"rev": 0.84, "rev-2": 0.64, "rev-never-seen": 0.8} {
		got, _, err := quality.EstimatedAccuracy(ctx, f.env.Store, "single-label", reviewer, "p2")
		if err != nil {
			t.Fatal(err)
		}
		if quality.Round4(got) != want {
			t.Errorf("estimated accuracy of %s = %v, want %v", reviewer, got, want)
		}
	}
}

// A chunk delivers the model's confidence recalibrated on the gold of the chunks finished before
// it, and keeps the model's own confidence on its gold for the chunks after it.
func TestDeliveredConfidenceIsRecalibratedOnEarlierGold(t *testing.T) {
	f := newFixture(t)
	f.withGold(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	c := func(w string) Contribution {
		return Contribution{Worker: w, Answer: label.Answer(`"cat"`), SubmittedAt: at, Seconds: 20}
	}
	agreed := func(item int) ItemResult {
		return ItemResult{Item: item, Final: label.Answer(`"cat"`), Method: "agreed", Annotations: []Contribution{c("ann-a"), c("ann-b")}}
	}
	record := func(chunk int, gold *quality.CalibrationBins, res ...ItemResult) (float64, RecordChunkResult, quality.ChunkStats) {
		t.Helper()
		confidence, rec := recordFirstConfidence(t, f, RecordChunkInput{ProjectID: "p1", Chunk: chunk, Results: res, Gold: gold})
		var st quality.ChunkStats
		if err := f.env.Store.GetJSON(ctx, layout.StatsKey("p1", chunk), &st); err != nil {
			t.Fatal(err)
		}
		return confidence, rec, st
	}
	// The first chunk has no earlier gold: it delivers the model's confidence (two annotators at
	// the prior 0.8: 0.9412), and its gold item, right, is counted at it.
	raw, rec, st := record(0, nil, agreed(0), agreed(1), agreed(2))
	if raw != 0.9412 || rec.ModelCalibration == nil || rec.ModelCalibration.Items() != 1 || (*rec.ModelCalibration)[9].Correct != 1 {
		t.Fatalf("first chunk: confidence %v, model calibration %+v", raw, rec.ModelCalibration)
	}
	if st.Calibration != st.ModelCalibration {
		t.Fatalf("without earlier gold the delivered calibration %+v differs from the model's %+v", st.Calibration, st.ModelCalibration)
	}
	// Earlier gold says the model's 0.94 was right 60 times in 100: pulled toward 0.94 by five
	// pseudo-items, (60 + 5·0.9412) / 105 = 0.6162.
	gold := quality.CalibrationBins{}
	gold[9] = quality.CalibrationBin{Items: 100, Correct: 60, ConfidenceSum: 100 * raw}
	delivered, rec, st := record(1, &gold, agreed(0), agreed(1))
	if delivered != 0.6162 {
		t.Fatalf("recalibrated confidence = %v, want 0.6162", delivered)
	}
	// The gold item is counted at the delivered confidence in the report's calibration, and at the
	// model's in what the next chunks are recalibrated on.
	if st.Calibration[6].Items != 1 || st.ModelCalibration[9].Items != 1 || *rec.ModelCalibration != st.ModelCalibration {
		t.Fatalf("stats calibration %+v, model %+v, result %+v", st.Calibration, st.ModelCalibration, rec.ModelCalibration)
	}
}

// A single-label chunk delivers the posterior of its project's crowd model: where the crowd
// often says dog of a cat and almost never cat of a dog, two people saying dog are less sure
// than the one-coin posterior makes them, and two saying cat more. The default model (before any
// fit) delivers the one-coin posterior.
func TestDeliveredConfidenceIsTheCrowdModelsPosterior(t *testing.T) {
	f := newFixture(t)
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	// Both items of the chunk answered class by both annotators.
	both := func(class string) []ItemResult {
		answer := label.Answer(`"` + class + `"`)
		c := func(w string) Contribution {
			return Contribution{Worker: w, Answer: answer, SubmittedAt: at, Seconds: 20}
		}
		var rs []ItemResult
		for i := range 2 {
			rs = append(rs, ItemResult{Item: i, Final: answer, Method: "agreed", Annotations: []Contribution{c("ann-a"), c("ann-b")}})
		}
		return rs
	}
	// Each call records chunk 0 again, with another model.
	confidence := func(model *aggregate.Snapshot, rs []ItemResult) float64 {
		t.Helper()
		confidence, _ := recordFirstConfidence(t, f, RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: rs, Model: model})
		return confidence
	}
	const oneCoin = 0.9412 // two annotators at the prior 0.8, two classes
	def := aggregate.DefaultSnapshot(f.sp.Annotation.Taxonomy, quality.DefaultAnnotatorAccuracy)
	if got := confidence(&def, both("dog")); got != oneCoin {
		t.Fatalf("default model: %v, want the one-coin %v", got, oneCoin)
	}
	model := aggregate.Snapshot{Labels: []string{"cat", "dog"}, Prior: []float64{0.5, 0.5}, Crowd: [][]float64{{0.6, 0.4}, {0.02, 0.98}}}
	dog, cat := confidence(&model, both("dog")), confidence(&model, both("cat"))
	if dog >= oneCoin-0.05 || cat <= oneCoin+0.03 {
		t.Fatalf("two dogs %v, two cats %v: want below and above the one-coin %v", dog, cat, oneCoin)
	}
	votes := []aggregate.Vote{{Label: "dog", Accuracy: quality.DefaultAnnotatorAccuracy}, {Label: "dog", Accuracy: quality.DefaultAnnotatorAccuracy}}
	if want := quality.Round4(model.Posterior(votes)[1]); dog != want {
		t.Fatalf("two dogs %v, want the model's posterior %v", dog, want)
	}
}

// recordFirstConfidence records a chunk and returns the confidence its first delivered line
// carries.
func recordFirstConfidence(t *testing.T, f *fixture, in RecordChunkInput) (float64, RecordChunkResult) {
	t.Helper()
	rec, err := f.acts.RecordChunk(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := f.env.Store.Get(context.Background(), rec.ResultsKey)
	var line struct {
		Meta results.LabelMetadata `json:"label-metadata"`
	}
	if err := json.Unmarshal(bytes.Split(data, []byte{'\n'})[0], &line); err != nil {
		t.Fatal(err)
	}
	return line.Meta.Confidence, rec
}

// Without the project's model (review mode), a single-label chunk with enough answers weighs
// them with the model fitted on its own: where its crowd often calls a dog a cat and never a cat
// a dog, two cats are less sure than two dogs, which the one-coin posterior makes equal. A chunk
// with a handful of answers keeps the one-coin posterior.
func TestChunkWeighsAnswersWithItsOwnModel(t *testing.T) {
	f := newFixture(t)
	answer := func(c string) Contribution {
		return Contribution{Worker: "ann-" + c, Answer: label.Answer(`"` + c + `"`)}
	}
	var res []ItemResult
	for i := range 60 {
		second := "cat" // cats: both say cat
		if i%2 == 1 {
			second = "dog" // dogs: one of the two takes it for a cat
		}
		a := answer("cat")
		a.Worker = fmt.Sprintf("ann-%d", i%6)
		b := answer(second)
		b.Worker = fmt.Sprintf("ann-%d", 6+i%6)
		res = append(res, ItemResult{Item: i, Annotations: []Contribution{a, b}})
	}
	_, _, model := chunkSkills(f.sp, res)
	if model == nil {
		t.Fatal("no model fitted on 120 answers over 2 classes")
	}
	votes := func(c string) []quality.Vote {
		return []quality.Vote{{Class: `"` + c + `"`, Accuracy: 0.8}, {Class: `"` + c + `"`, Accuracy: 0.8}}
	}
	ps := model.Posteriors()
	cats := confidence(f.sp, label.Answer(`"cat"`), votes("cat"), ps)
	dogs := confidence(f.sp, label.Answer(`"dog"`), votes("dog"), ps)
	oneCoin := confidence(f.sp, label.Answer(`"cat"`), votes("cat"), nil)
	if cats >= dogs-0.02 || cats >= oneCoin {
		t.Fatalf("two cats %.4f, two dogs %.4f, one-coin %.4f: the chunk's confusion is not weighed", cats, dogs, oneCoin)
	}
	if _, _, few := chunkSkills(f.sp, res[:10]); few != nil {
		t.Fatalf("a model fitted on 20 answers: %+v", *few)
	}
}
