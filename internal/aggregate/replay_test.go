package aggregate

import (
	"encoding/json"
	"math"
	"reflect"
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
}

func TestReplayOptionsChecked(t *testing.T) {
	for _, o := range []ReplayOptions{
		{Policy: "sometimes"},
		{Policy: "dynamic", ConfidenceTarget: 1},
		{Policy: "dynamic", Annotators: 3, MaxAnnotations: 2},
		{Policy: "fixed", ReviewerAccuracy: 1.5},
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
