package workflows

import (
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/spec"
)

// doubtfulCats is a crowd that calls many dogs cats: two cats are far from sure.
func doubtfulCats() aggregate.Snapshot {
	return aggregate.Snapshot{Labels: []string{"cat", "dog"}, Prior: []float64{0.5, 0.5},
		Crowd: [][]float64{{0.7, 0.3}, {0.4, 0.6}}}
}

// modelRun has annotators answer one item under dynamic overlap decided with model, one at a
// time in the order given, each claiming only while the item is open. It returns the summary and
// how many annotators got the item.
func modelRun(t *testing.T, model aggregate.Snapshot, minGain float64, answers []string, accuracy []float64) (*chunkEnv, ChunkSummary, int) {
	ce := newChunkEnv(t)
	set := settings()
	set.Overlap = spec.Overlap{Mode: "dynamic", ConfidenceTarget: 0.9, MaxAnnotations: 4}
	set.CrowdModel, set.OverlapMinGain = &model, minGain
	claims := make([]outcome[Suite], len(answers))
	subs := make([]outcome[SubmitResult], len(answers))
	var steps []func()
	for i := range answers {
		w := rated(annotator("ann-"+string(rune('a'+i))), accuracy[i])
		if i < 2 {
			// The first two claim together, as annotators_per_item asks.
			steps = append(steps, func() { ce.claim(w, &claims[i]) })
			if i == 0 {
				continue
			}
			steps = append(steps, func() {
				ce.submit(annotator("ann-a"), must(t, "claim a", &claims[0]), always(answers[0]), &subs[0])
				ce.submit(w, must(t, "claim b", &claims[1]), always(answers[1]), &subs[1])
			})
			continue
		}
		steps = append(steps,
			func() { ce.claim(w, &claims[i]) },
			func() {
				if claims[i].ok && claims[i].err == nil {
					ce.submit(w, claims[i].val, always(answers[i]), &subs[i])
				}
			})
	}
	ce.script(steps...)
	sum := ce.run(ChunkInput{Settings: set, Items: 1})
	got := 0
	for _, c := range claims {
		if c.ok && c.err == nil {
			got++
		}
	}
	return ce, sum, got
}

// With the default model two agreeing cats settle the item (0.94); with a crowd that calls many
// dogs cats they do not (0.75), and a third annotator is asked.
func TestFittedModelAsksMoreWhereTheDefaultSettles(t *testing.T) {
	answers, acc := []string{"cat", "cat", "cat"}, []float64{0, 0, 0.95}
	ce, sum, got := modelRun(t, aggregate.DefaultSnapshot([]string{"cat", "dog"}, quality.DefaultAnnotatorAccuracy), 0, answers, acc)
	if r := ce.recorded.Results[0]; got != 2 || sum.Agreed != 1 || r.Method != MethodAgreed {
		t.Fatalf("default model: %d annotators, summary %+v, result %+v", got, sum, r)
	}
	ce, sum, got = modelRun(t, doubtfulCats(), 0, answers, acc)
	if r := ce.recorded.Results[0]; got != 3 || sum.Overlap != 1 || r.Method != MethodOverlap || string(r.Final) != `"cat"` {
		t.Fatalf("fitted model: %d annotators, summary %+v, result %+v", got, sum, r)
	}
}

// On a crowd barely better than a coin a split item is not worth more answers: with the stopping
// rule it settles at two, with the first answer's label (the target alone would ask up to
// max_annotations and a reviewer: TestStopRuleEndsHopelessItems).
func TestStopRuleSettlesAHopelessSplit(t *testing.T) {
	coin := aggregate.Snapshot{Labels: []string{"cat", "dog"}, Prior: []float64{0.5, 0.5}, Crowd: [][]float64{{0.51, 0.49}, {0.49, 0.51}}}
	answers, acc := []string{"cat", "dog", "cat", "dog"}, []float64{0, 0, 0, 0}
	ce, sum, got := modelRun(t, coin, aggregate.DefaultMinGain, answers, acc)
	if r := ce.recorded.Results[0]; got != 2 || sum.Overlap != 1 || string(r.Final) != `"cat"` {
		t.Fatalf("with the rule: %d annotators, summary %+v, result %+v", got, sum, r)
	}
}

// The pipeline and `quality replay` decide an item alike: the chunk settles after as many
// answers, with the same label, as Snapshot.FirstStep (replay's call) on the same votes.
func TestChunkDecidesAsReplay(t *testing.T) {
	model := doubtfulCats()
	answers, acc := []string{"dog", "cat", "cat", "cat"}, []float64{0.6, 0.7, 0, 0.95}
	votes := make([]aggregate.Vote, len(answers))
	for i := range answers {
		votes[i] = aggregate.Vote{Label: answers[i], Accuracy: acc[i]}
	}
	want, used, step := model.FirstStep(votes, 2, aggregate.StopRule{Target: 0.9})
	if step != aggregate.Stop || used < 3 {
		t.Fatalf("the case shows nothing: replay settles %q after %d answers (step %v)", want, used, step)
	}
	ce, _, got := modelRun(t, model, 0, answers, acc)
	r := ce.recorded.Results[0]
	if got != used || len(r.Annotations) != used || r.Method != MethodOverlap || string(r.Final) != `"`+want+`"` {
		t.Fatalf("replay settles %q after %d answers; the chunk gave %d annotators %s after %d (%s)",
			want, used, got, r.Final, len(r.Annotations), r.Method)
	}
}

// A project with dynamic overlap hands each chunk its model: the default one before any chunk
// has finished, then one fitted on the chunks finished so far, refitted after 1, 2, 4, 8, …
// finished chunks, not for every chunk; with early review, the price of a review too.
func TestProjectRefitsTheCrowdModelAsChunksFinish(t *testing.T) {
	minGain := 0.05
	overlap := spec.Overlap{Mode: "dynamic", ConfidenceTarget: 0.9, MaxAnnotations: 4, MinGain: &minGain, EarlyReview: true}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.PrepareProject, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.SplitManifest, mock.Anything, mock.Anything).Return(activities.SplitResult{Lines: 95, Items: 95, Chunks: 10}, nil)
	env.OnActivity(a.WriteDeliveryManifest, mock.Anything, mock.Anything).Return(activities.DeliveryManifestResult{}, nil)
	var fits [][]int
	env.OnActivity(a.FitOverlapModel, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FitOverlapModelInput) (aggregate.Snapshot, error) {
			fits = append(fits, in.Chunks)
			s := doubtfulCats()
			s.Prior = []float64{float64(len(fits)), 0}
			return s, nil
		})
	models, gains, costs := map[int]*aggregate.Snapshot{}, map[float64]int{}, map[float64]int{}
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in ChunkInput) (ChunkSummary, error) {
		models[in.Chunk] = in.Settings.CrowdModel
		gains[in.Settings.OverlapMinGain]++
		costs[in.Settings.ReviewCost]++
		sum := ChunkSummary{Chunk: in.Chunk, ChunkCounts: ChunkCounts{Items: in.Items, Delivered: in.Items}}
		return sum, workflow.SignalExternalWorkflow(ctx, in.ProjectWorkflowID, "", SignalChunkFinished, sum).Get(ctx, nil)
	}, workflow.RegisterOptions{Name: "ChunkWorkflow"})
	sp := testSpec()
	sp.Quality.Overlap = overlap
	env.ExecuteWorkflow(ProjectWorkflow, sealed(testWorkflowID, ActionStart, ProjectInput{Spec: sp, Window: 1}))
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if gains[minGain] != 10 {
		t.Errorf("stopping rules' gains %v, want the spec's %v for all 10 chunks", gains, minGain)
	}
	// Early review weighs an arbitration (0.10) at 2.5 annotations (0.04).
	if costs[2.5] != 10 {
		t.Errorf("review costs %v, want 2.5 for all 10 chunks", costs)
	}
	want := [][]int{{0}, {1, 0}, {3, 2, 1, 0}, {7, 6, 5, 4, 3, 2, 1, 0}}
	if !reflect.DeepEqual(fits, want) {
		t.Fatalf("fits on chunks %v, want %v", fits, want)
	}
	if m := models[0]; m == nil || !reflect.DeepEqual(*m, aggregate.DefaultSnapshot(sp.Annotation.Taxonomy, quality.DefaultAnnotatorAccuracy)) {
		t.Fatalf("chunk 0 got %+v, want the default model", m)
	}
	// Chunk c decides with fit n: 1 → 1, 2–3 → 2, 4–7 → 3, 8–9 → 4.
	for c, n := range map[int]float64{1: 1, 2: 2, 3: 2, 4: 3, 7: 3, 8: 4, 9: 4} {
		if m := models[c]; m == nil || m.Prior[0] != n {
			t.Errorf("chunk %d decides with %+v, want fit %v", c, m, n)
		}
	}
}

// With early review a split item on a crowd barely better than a coin goes to a reviewer at two
// answers, where the stopping rule alone settles it with the first answer's label
// (TestStopRuleSettlesAHopelessSplit): a review, at 2.5 annotations' price, is worth more than
// any number of such answers. No third annotator gets the item; the reviewer's answer is final.
// Replay's call on the same votes sends it to the reviewer at two as well.
func TestEarlyReviewSendsASplitToAReviewer(t *testing.T) {
	coin := aggregate.Snapshot{Labels: []string{"cat", "dog"}, Prior: []float64{0.5, 0.5}, Crowd: [][]float64{{0.51, 0.49}, {0.49, 0.51}}}
	rule := aggregate.StopRule{Target: 0.9, MinGain: aggregate.DefaultMinGain,
		Reviewer: &aggregate.ReviewOption{Accuracy: quality.DefaultReviewerAccuracy, Cost: 2.5}}
	if _, used, step := coin.FirstStep([]aggregate.Vote{{Label: "cat"}, {Label: "dog"}, {Label: "cat"}}, 2, rule); step != aggregate.Review || used != 2 {
		t.Fatalf("replay: step %v after %d answers, want a review after 2", step, used)
	}
	ce := newChunkEnv(t)
	set := settings()
	set.Overlap = spec.Overlap{Mode: "dynamic", ConfidenceTarget: 0.9, MaxAnnotations: 4, EarlyReview: true}
	set.CrowdModel, set.OverlapMinGain, set.ReviewCost = &coin, aggregate.DefaultMinGain, 2.5
	var ca, cb, cc, cr outcome[Suite]
	var sa, sb, sr outcome[SubmitResult]
	ce.script(
		func() { ce.claim(annotator("ann-a"), &ca) },
		func() { ce.claim(annotator("ann-b"), &cb) },
		func() {
			ce.submit(annotator("ann-a"), must(t, "claim a", &ca), always("cat"), &sa)
			ce.submit(annotator("ann-b"), must(t, "claim b", &cb), always("dog"), &sb)
		},
		func() { ce.claim(annotator("ann-c"), &cc) },
		func() { ce.claim(reviewer("rev-a"), &cr) },
		func() { ce.submit(reviewer("rev-a"), must(t, "review claim", &cr), always("dog"), &sr) },
	)
	sum := ce.run(ChunkInput{Settings: set, Items: 1})
	if cc.ok && cc.err == nil && len(cc.val.Tasks) > 0 {
		t.Fatalf("a third annotator got the item: %+v", cc.val)
	}
	r := ce.recorded.Results[0]
	if sum.Arbitrated != 1 || r.Method != MethodArbitrated || len(r.Annotations) != 2 || string(r.Final) != `"dog"` {
		t.Fatalf("summary %+v, result %+v", sum, r)
	}
}
