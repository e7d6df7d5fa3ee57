package aggregate

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The default snapshot decides as the one-coin posterior with a uniform prior: a vote of
// accuracy p names the truth with probability p and each other label with (1−p)/(K−1).
func TestDefaultSnapshotIsTheOneCoinPosterior(t *testing.T) {
	s := DefaultSnapshot([]string{"a", "b", "c"}, 0.8)
	votes := []Vote{{"a", 0.9}, {"a", 0.7}, {"b", 0}}
	like := func(l string) float64 {
		p := 1.0
		for _, v := range votes {
			acc := v.Accuracy
			if acc == 0 {
				acc = 0.8 // unknown: the crowd's
			}
			if v.Label == l {
				p *= acc
			} else {
				p *= (1 - acc) / 2
			}
		}
		return p
	}
	total := like("a") + like("b") + like("c")
	got := s.Posterior(votes)
	for j, l := range s.Labels {
		if want := like(l) / total; math.Abs(got[j]-want) > 1e-6 {
			t.Errorf("P(%s) = %v, want %v", l, got[j], want)
		}
	}
	label, conf, ok := s.Decide(votes, 0.9)
	if label != "a" || math.Abs(conf-like("a")/total) > 1e-6 || ok != (conf >= 0.9) {
		t.Fatalf("Decide = %s %v %v", label, conf, ok)
	}
	if _, _, ok := s.Decide(votes[:1], 0.95); ok {
		t.Fatal("one vote of 0.9 reached 0.95")
	}
}

// A fitted snapshot keeps the crowd's class-dependent confusion, and a snapshot survives JSON
// (a workflow carries it) with the same decisions.
func TestFitSnapshotKeepsClassDependentConfusion(t *testing.T) {
	spec := CrowdSpec{Tasks: 3000, Workers: 40, Classes: 3, AnswersPerTask: 5, SkillMin: 0.75, SkillMax: 0.95, ClassSkillDrop: 0.4, FirstClassErrors: 0.8, Seed: 7}
	answers, _, _ := Synthesize(spec)
	s, acc := FitSnapshot(answers)
	if len(acc) != 40 || len(s.Labels) != 3 {
		t.Fatalf("%d accuracies, labels %v", len(acc), s.Labels)
	}
	c0, c2 := slicesIndex(s.Labels, "c0"), slicesIndex(s.Labels, "c2")
	if s.Crowd[c0][c0] < s.Crowd[c2][c2]+0.2 {
		t.Errorf("crowd accuracy on c0 %.3f, on c2 %.3f: the class difference is lost", s.Crowd[c0][c0], s.Crowd[c2][c2])
	}
	if s.Crowd[c2][c0] < 2*s.Crowd[c2][slicesIndex(s.Labels, "c1")] {
		t.Errorf("mistakes on c2 do not go to c0: %v", s.Crowd[c2])
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Snapshot
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	votes := []Vote{{"c2", 0.8}, {"c0", 0.7}, {"c2", 0}}
	if !reflect.DeepEqual(back.Posterior(votes), s.Posterior(votes)) {
		t.Fatal("the snapshot decides differently after JSON")
	}
}

func slicesIndex(labels []string, l string) int {
	for i, x := range labels {
		if x == l {
			return i
		}
	}
	return -1
}

// replaySet: four items with a truth, answers in arrival order.
var replaySet = answersOf(
	// i1: the first two agree: settled by two.
	[3]string{"i1", "w1", "x"}, [3]string{"i1", "w2", "x"}, [3]string{"i1", "w3", "y"},
	// i2: disagreement; the third answer reviews.
	[3]string{"i2", "w1", "x"}, [3]string{"i2", "w2", "y"}, [3]string{"i2", "w3", "y"},
	// i3: disagreement and no third answer: no reviewer.
	[3]string{"i3", "w1", "y"}, [3]string{"i3", "w2", "x"},
	// i4: agreement on the wrong label.
	[3]string{"i4", "w1", "y"}, [3]string{"i4", "w2", "y"}, [3]string{"i4", "w3", "x"}, [3]string{"i4", "w4", "x"}, [3]string{"i4", "w5", "x"},
	// no truth: not replayed.
	[3]string{"i5", "w1", "x"}, [3]string{"i5", "w2", "y"},
)

var replayTruth = map[string]string{"i1": "x", "i2": "y", "i3": "x", "i4": "x"}

func TestReplayFixedHandWorked(t *testing.T) {
	r, err := Replay(replaySet, replayTruth, ReplayOptions{Policy: "fixed"})
	if err != nil {
		t.Fatal(err)
	}
	// i1 x ✓ (2 answers), i2 reviewed → y ✓ (2 + review), i3 unreviewed keeps y ✗ (2), i4 y ✗ (2).
	want := ReplayResult{Policy: "fixed", Items: 4, Accuracy: 0.5, AnnotationsPerItem: 2, LabelsPerItem: 9.0 / 4,
		ReviewedShare: 0.25, Unreviewed: 1}
	want.MajorityAll = 1 // every item's majority over all its answers is right (i3 ties to its first, y… )
	r.MajorityAll, want.MajorityAll = 0, 0
	if r != want {
		t.Fatalf("got %+v\nwant %+v", r, want)
	}
	// A simulated reviewer who is always right settles the disputes correctly, i3 included.
	r, _ = Replay(replaySet, replayTruth, ReplayOptions{Policy: "fixed", ReviewerAccuracy: 1})
	if r.Accuracy != 0.75 || r.ReviewedShare != 0.5 || r.Unreviewed != 0 {
		t.Fatalf("perfect reviewer: %+v", r)
	}
}

// The dynamic policy asks for more answers until the model is sure: it comes within 2 points of
// majority vote over all 7 recorded answers with under half of them, and far above the fixed
// policy.
func TestReplayDynamicSpendsLabelsWhereTheyPay(t *testing.T) {
	spec := CrowdSpec{Tasks: 2000, Workers: 60, Classes: 3, AnswersPerTask: 7, SkillMin: 0.55, SkillMax: 0.95, SpammerShare: 0.1, Seed: 9}
	answers, truth, _ := Synthesize(spec)
	fixed, err := Replay(answers, truth, ReplayOptions{Policy: "fixed"})
	if err != nil {
		t.Fatal(err)
	}
	dynamic, err := Replay(answers, truth, ReplayOptions{Policy: "dynamic", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fixed %+v", fixed)
	t.Logf("dynamic %+v", dynamic)
	if dynamic.Accuracy < dynamic.MajorityAll-0.02 {
		t.Errorf("dynamic %.4f more than 2 points below majority vote over all 7 answers %.4f", dynamic.Accuracy, dynamic.MajorityAll)
	}
	if dynamic.LabelsPerItem > 3.5 {
		t.Errorf("dynamic spends %.2f labels per item", dynamic.LabelsPerItem)
	}
	if dynamic.Accuracy < fixed.Accuracy+0.03 {
		t.Errorf("dynamic %.4f does not beat fixed %.4f by 3 points", dynamic.Accuracy, fixed.Accuracy)
	}
	again, _ := Replay(answers, truth, ReplayOptions{Policy: "dynamic", Seed: 1})
	if again != dynamic {
		t.Fatal("the same replay twice differs")
	}
	// The default stopping rule spends fewer labels for (within a point) the same accuracy.
	gain, _ := Replay(answers, truth, ReplayOptions{Policy: "dynamic", MinGain: DefaultMinGain, Seed: 1})
	t.Logf("dynamic, gain %v: %+v", DefaultMinGain, gain)
	if gain.LabelsPerItem >= dynamic.LabelsPerItem || gain.Accuracy < dynamic.Accuracy-0.01 {
		t.Errorf("with the gain rule: %.4f at %.2f labels per item; the target alone %.4f at %.2f",
			gain.Accuracy, gain.LabelsPerItem, dynamic.Accuracy, dynamic.LabelsPerItem)
	}
}

// The stopping rule ends an item that no affordable number of answers would make sure (a crowd
// barely better than a coin, answers split), where the target alone keeps asking; where one
// more answer is worth it (an accurate crowd, answers split) it asks.
func TestStopRuleEndsHopelessItems(t *testing.T) {
	coin := Snapshot{Labels: []string{"a", "b"}, Prior: []float64{0.5, 0.5}, Crowd: [][]float64{{0.51, 0.49}, {0.49, 0.51}}}
	split := []Vote{{Label: "a"}, {Label: "b"}}
	if _, _, ok := coin.Settle(split, StopRule{Target: 0.9}); ok {
		t.Fatal("the target alone settled a split vote")
	}
	p := coin.Posterior(split)
	if g1, g2 := coin.gain(split, p, 1), coin.gain(split, p, 2); g1 > DefaultMinGain || g2 > 2*DefaultMinGain || g1 <= 0 {
		t.Fatalf("gains %v and %v on a coin-like crowd", g1, g2)
	}
	if label, _, ok := coin.Settle(split, StopRule{Target: 0.9, MinGain: DefaultMinGain}); !ok || label != "a" {
		t.Fatalf("the rule did not end a hopeless item: %q %v", label, ok)
	}
	good := DefaultSnapshot([]string{"a", "b"}, 0.8)
	if _, _, ok := good.Settle(split, StopRule{Target: 0.9, MinGain: DefaultMinGain}); ok {
		t.Fatal("the rule ended a split that one more accurate answer resolves")
	}
	// After two agreeing answers no single answer can change the decision; two could.
	agreed := []Vote{{Label: "a"}, {Label: "a"}}
	if g := good.gain(agreed, good.Posterior(agreed), 1); math.Abs(g) > 1e-12 {
		t.Fatalf("one more answer after agreement gains %v", g)
	}
}

// FitSnapshotOver gives the labels in the order asked for, and the default model while a label
// has no answer to estimate it from.
func TestFitSnapshotOverTheTaxonomy(t *testing.T) {
	answers, _, _ := Synthesize(CrowdSpec{Tasks: 300, Workers: 20, Classes: 3, AnswersPerTask: 3, SkillMin: 0.7, SkillMax: 0.9, Seed: 2})
	order := []string{"c2", "c0", "c1"}
	s := FitSnapshotOver(answers, order, 0.8)
	fit, _ := FitSnapshot(answers)
	if !reflect.DeepEqual(s.Labels, order) || s.Crowd[0][1] != fit.Crowd[slicesIndex(fit.Labels, "c2")][slicesIndex(fit.Labels, "c0")] {
		t.Fatalf("over %v: %+v (fitted %+v)", order, s, fit)
	}
	withNew := append(slices.Clone(order), "c3")
	if got := FitSnapshotOver(answers, withNew, 0.8); !reflect.DeepEqual(got, DefaultSnapshot(withNew, 0.8)) {
		t.Fatalf("a label nobody gave: %+v", got)
	}
	if r := s.Rounded(); math.Abs(r.Crowd[0][1]-s.Crowd[0][1]) > 5e-6*s.Crowd[0][1] {
		t.Fatalf("rounded %v, was %v", r.Crowd[0][1], s.Crowd[0][1])
	}
}

func TestReplayOptionsChecked(t *testing.T) {
	for _, o := range []ReplayOptions{
		{Policy: "sometimes"},
		{Policy: "dynamic", ConfidenceTarget: 1},
		{Policy: "dynamic", Annotators: 3, MaxAnnotations: 2},
		{Policy: "fixed", ReviewerAccuracy: 1.5},
		{Policy: "dynamic", MinGain: -0.1},
		{Policy: "dynamic", ReviewCost: -1, ReviewerAccuracy: 0.9},
		{Policy: "dynamic", ReviewCost: 2.5}, // a price without the reviewer's worth
	} {
		if err := o.Check(); err == nil {
			t.Errorf("%+v accepted", o)
		}
		if _, err := Replay(replaySet, replayTruth, o); err == nil {
			t.Errorf("Replay ran with %+v", o)
		}
	}
	if _, err := Replay(replaySet, map[string]string{"other": "x"}, ReplayOptions{Policy: "fixed"}); err == nil || !strings.Contains(err.Error(), "no item") {
		t.Errorf("no shared item: %v", err)
	}
}

// Early review weighs a reviewer against more answers: with a reviewer right 95% of the time at
// one annotation's price, the dynamic policy sends the items its crowd is split on to the
// reviewer at once instead of asking up to five annotators first: about as accurate, with fewer
// labels, and more items reviewed. A reviewer no better than what the crowd already says is
// never worth it.
func TestReplayEarlyReviewTakesTheBetterOfBoth(t *testing.T) {
	spec := CrowdSpec{Tasks: 2000, Workers: 60, Classes: 3, AnswersPerTask: 7, SkillMin: 0.55, SkillMax: 0.95, SpammerShare: 0.1, Seed: 9}
	answers, truth, _ := Synthesize(spec)
	o := ReplayOptions{Policy: "dynamic", MinGain: DefaultMinGain, ReviewerAccuracy: 0.95, Seed: 1}
	late, err := Replay(answers, truth, o)
	if err != nil {
		t.Fatal(err)
	}
	o.ReviewCost = 1
	early, err := Replay(answers, truth, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reviewer at max_annotations %+v", late)
	t.Logf("early review %+v", early)
	if early.Accuracy < late.Accuracy-0.01 || early.LabelsPerItem > late.LabelsPerItem-0.3 || early.ReviewedShare <= late.ReviewedShare {
		t.Errorf("early review: %.4f at %.2f labels (%.1f%% reviewed); at the maximum: %.4f at %.2f (%.1f%%)",
			early.Accuracy, early.LabelsPerItem, 100*early.ReviewedShare, late.Accuracy, late.LabelsPerItem, 100*late.ReviewedShare)
	}
	s := DefaultSnapshot([]string{"x", "y", "z"}, 0.7)
	split := []Vote{{Label: "x"}, {Label: "y"}}
	rule := StopRule{Target: 0.9, MinGain: DefaultMinGain, Reviewer: &ReviewOption{Accuracy: 0.95, Cost: 1}}
	if _, p, step := s.Next(split, rule); step != Review {
		t.Errorf("a split at %.2f with a 0.95 reviewer at one answer's price: %v, want a review", p, step)
	}
	rule.Reviewer.Accuracy = 0.45
	if _, p, step := s.Next(split, rule); step == Review {
		t.Errorf("a split at %.2f sent to a reviewer right 45%% of the time", p)
	}
}

// Posteriors gives exactly Posterior's numbers, skills found once per accuracy, and refuses a
// label it does not know or a snapshot that is not whole rather than failing.
func TestPosteriorsAreThePosterior(t *testing.T) {
	s, acc := FitSnapshot(replaySet)
	ps := s.Posteriors()
	for _, votes := range [][]Vote{{{"x", acc["w1"]}, {"y", acc["w2"]}}, {{"y", 0.9}, {"y", 0.9}, {"x", 0}}, {{"x", acc["w1"]}}} {
		if got, want := ps.Of(votes), s.Posterior(votes); !reflect.DeepEqual(got, want) {
			t.Fatalf("votes %v: %v, want %v", votes, got, want)
		}
	}
	if _, ok := ps.Probability("z", []Vote{{"x", 0.8}}); ok {
		t.Error("a label the snapshot does not know got a probability")
	}
	torn := Snapshot{Labels: []string{"x", "y"}, Prior: []float64{0.5, 0.5}, Crowd: [][]float64{{0.9, 0.1}, {0.2}}}
	if _, ok := torn.Posteriors().Probability("x", []Vote{{"y", 0.8}}); ok {
		t.Error("a snapshot with a short row got a probability")
	}
}
