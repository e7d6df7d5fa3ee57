package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/spec"
)

// A crowd that a quarter of the items fool, all of them the same way, agrees on wrong labels: a
// model that takes answers as independent is sure of them. Checked the way a client would, on
// the delivered labels against the truth: once the project has measured its crowd on gold, each
// tenth of delivered confidence holding enough items is right as often as it says, within five
// points, where the model's own confidence on the same crowd is off by more than ten.
func TestDeliveredConfidenceHoldsWhenTheCrowdIsMisled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	a := env.App
	const (
		id        = "it-misled"
		items     = 2000
		chunkSize = 100
		goldItems = 40 // all of them in every chunk: each chunk's gold is misled as often as the data
	)
	data, _ := Dataset(items, 11)
	gold, _ := Dataset(goldItems, 12)
	gold = bytes.Join(bytes.SplitAfter(gold, []byte{'\n'})[:goldItems], nil)
	for key, b := range map[string][]byte{"acme/misled.manifest": data, "acme/misled-gold.manifest": gold} {
		if err := a.Store.PutIn(ctx, IntakeBucket, key, b); err != nil {
			t.Fatal(err)
		}
	}
	yaml := TypedSpecYAML(id, label.SingleLabelName, Taxonomy, "acme/misled.manifest", env.Cfg.StoreEndpoint, chunkSize, []string{"jsonl"}) +
		fmt.Sprintf("quality:\n  gold: {source: s3://%s/acme/misled-gold.manifest, per_chunk: %d}\n", IntakeBucket, goldItems)
	p, err := spec.Parse("misled.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ops, err := SignIn(ctx, a, OpsDemo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Launch(ctx, ops, p); err != nil {
		t.Fatal(err)
	}
	permit, err := simulate.Allow(a.Cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	st, err := simulate.Simulate(ctx, permit, a.Roster, a.Store, simulate.Options{GatewayURL: env.GatewayURL, Project: id,
		Annotators: 10, Reviewers: 2, Accuracy: 0.92, ReviewerAccuracy: 0.95, Seed: 5, Languages: []string{"en"},
		Idle: 50 * time.Millisecond, Decoys: decoys(t, data, gold, items/chunkSize)}, nil)
	if err != nil {
		t.Fatalf("simulation: %+v, %v", st, err)
	}
	if _, err := a.WaitProject(ctx, id, nil); err != nil {
		t.Fatal(err)
	}

	var report quality.Report
	if err := a.Store.GetJSON(ctx, layout.QualityReportKey(id), &report); err != nil {
		t.Fatal(err)
	}
	for i, b := range report.ModelCalibration {
		if b.Items > 0 {
			t.Logf("model's confidence on gold %.1f–%.1f: %d items, said %.3f, right %.3f", float64(i)/10, float64(i+1)/10, b.Items,
				mean(b.ConfidenceSum, b.Items), mean(float64(b.Correct), b.Items))
		}
	}
	model := report.ModelCalibration[fullest(report.ModelCalibration)]
	if off := mean(model.ConfidenceSum, model.Items) - mean(float64(model.Correct), model.Items); off < 0.10 {
		t.Fatalf("the crowd did not mislead the model: on gold it says %.3f and is right %.3f of the time",
			mean(model.ConfidenceSum, model.Items), mean(float64(model.Correct), model.Items))
	}
	// Chunks after the first few: by then the project has measured its crowd on their gold.
	delivered := deliveredCalibration(ctx, t, p, func(item int) bool { return item/chunkSize >= 6 })
	judged := 0
	for i, b := range delivered {
		if b.Items > 0 {
			t.Logf("delivered confidence %.1f–%.1f: %d items, said %.3f, right %.3f", float64(i)/10, float64(i+1)/10, b.Items,
				mean(b.ConfidenceSum, b.Items), mean(float64(b.Correct), b.Items))
		}
		if b.Items < 100 {
			continue
		}
		judged++
		said, right := mean(b.ConfidenceSum, b.Items), mean(float64(b.Correct), b.Items)
		if math.Abs(said-right) > 0.05 {
			t.Errorf("tenth %d: delivered confidence %.3f, right %.3f of %d items", i, said, right, b.Items)
		}
	}
	if judged == 0 {
		t.Fatalf("no tenth of delivered confidence holds 100 items: %+v", delivered)
	}
}

// decoys makes every fourth item of the data, and every fourth gold item in each chunk, fool the
// crowd into the class after its truth.
func decoys(t *testing.T, data, gold []byte, chunks int) map[string]string {
	t.Helper()
	next := func(class string) string { return Taxonomy[(slices.Index(Taxonomy, class)+1)%len(Taxonomy)] }
	out := map[string]string{}
	for n, l := range manifestLines(t, data) {
		if n%4 == 0 {
			out[l.ID] = next(l.Truth)
		}
	}
	for j, l := range manifestLines(t, gold) {
		for c := range chunks {
			if j%4 == 0 {
				out[fmt.Sprintf("gold-%06d-%02d", c, j)] = next(l.Truth)
			}
		}
	}
	return out
}

type truthLine struct {
	ID    string `json:"id"`
	Truth string `json:"truth"`
}

// manifestLines reads the lines of a demo manifest that have a truth, the first of each id
// (the lines chunking keeps).
func manifestLines(t *testing.T, data []byte) []truthLine {
	t.Helper()
	var out []truthLine
	seen := map[string]bool{}
	for _, raw := range bytes.Split(data, []byte{'\n'}) {
		var l truthLine
		if json.Unmarshal(raw, &l) == nil && l.Truth != "" && !seen[l.ID] {
			seen[l.ID] = true
			out = append(out, l)
		}
	}
	return out
}

// deliveredCalibration reads the delivered labels from the client's bucket and bins those of the
// items keep accepts (by their number in the manifest, from 0) by their delivered confidence,
// counting the ones that match the truth the dataset carries.
func deliveredCalibration(ctx context.Context, t *testing.T, p spec.Project, keep func(item int) bool) quality.CalibrationBins {
	t.Helper()
	m, _, err := VerifyDelivery(ctx, env.App, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := env.App.Targets.Open(ctx, p.Delivery)
	if err != nil {
		t.Fatal(err)
	}
	var bins quality.CalibrationBins
	for _, o := range m.Objects {
		if o.Kind != delivery.KindLabels {
			continue
		}
		data, err := b.Get(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var l struct {
				ID    string `json:"id"`
				Truth string `json:"truth"`
				Label string `json:"label"`
				Meta  struct {
					Confidence float64 `json:"confidence"`
				} `json:"label-metadata"`
			}
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			n, err := strconv.Atoi(strings.TrimPrefix(l.ID, "review-"))
			if err != nil {
				t.Fatalf("%s: item %q", o.Key, l.ID)
			}
			if keep(n - 1) {
				bins.Count(l.Meta.Confidence, l.Label == l.Truth)
			}
		}
	}
	return bins
}

// fullest is the bin holding the most items.
func fullest(c quality.CalibrationBins) int {
	best := 0
	for i, b := range c {
		if b.Items > c[best].Items {
			best = i
		}
	}
	return best
}

func mean(sum float64, n int) float64 {
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}
