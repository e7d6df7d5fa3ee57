package aggregate

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// On a symmetric crowd the one-coin model is the true model: it recovers the skills and beats
// majority vote, and Best matches it.
func TestOneCoinOnSymmetricCrowd(t *testing.T) {
	spec := CrowdSpec{Tasks: 3000, Workers: 40, Classes: 4, AnswersPerTask: 3, SkillMin: 0.55, SkillMax: 0.95, SpammerShare: 0.2, Seed: 12}
	answers, truth, skills := Synthesize(spec)
	oc := OneCoin(answers)
	acc, _ := Accuracy(oc.Labels, truth)
	mv, _ := Accuracy(MajorityVote(answers).Labels, truth)
	best, _ := Accuracy(Best(answers).Labels, truth)
	mae := meanAbsSkillError(oc.Skill, skills)
	t.Logf("onecoin %.4f (skill MAE %.3f, %d iterations) mv %.4f best %.4f", acc, mae, oc.Iterations, mv, best)
	if acc < mv+0.02 || mae > 0.05 || !oc.Converged || oc.Method != "onecoin" {
		t.Errorf("onecoin %.4f, mv %.4f, skill MAE %.3f, converged %v", acc, mv, mae, oc.Converged)
	}
	if best < acc-0.005 {
		t.Errorf("best %.4f below onecoin %.4f on the one-coin model's own crowd", best, acc)
	}
}

func TestCalibrationBins(t *testing.T) {
	r := Result{
		Labels:     map[string]string{"a": "x", "b": "x", "c": "y", "d": "y", "e": "x"},
		Confidence: map[string]float64{"a": 0.95, "b": 1, "c": 0.55, "d": 0.51, "e": 0.3},
	}
	truth := map[string]string{"a": "x", "b": "y", "c": "y", "d": "x", "z": "x"}
	bins := Calibration(r, truth)
	if b := bins[9]; b.Tasks != 2 || b.Correct != 1 || math.Abs(b.MeanConfidence-0.975) > 1e-12 || math.Abs(b.Gap()+0.475) > 1e-12 {
		t.Errorf("top bin %+v", b)
	}
	if b := bins[5]; b.Tasks != 2 || b.Correct != 1 || b.Low != 0.5 || b.High != 0.6 {
		t.Errorf("0.5 bin %+v", b)
	}
	if bins[3].Tasks != 0 || bins[3].Accuracy() != 0 {
		t.Errorf("task without truth counted: %+v", bins[3])
	}
}

func TestCheckSize(t *testing.T) {
	var answers []Answer
	for w := range 200 {
		for x := range 2 {
			answers = append(answers, Answer{Task: fmt.Sprint(w*2 + x), Worker: fmt.Sprint(w), Label: fmt.Sprint((w*2 + x) % 300)})
		}
	}
	for _, m := range []string{"ds", "best", "policy"} {
		if err := CheckSize(m, answers); err == nil || !strings.Contains(err.Error(), "18.0 million cells") {
			t.Errorf("%s: %v", m, err)
		}
	}
	for _, m := range []string{"mv", "onecoin"} {
		if err := CheckSize(m, answers); err != nil {
			t.Errorf("%s refused: %v", m, err)
		}
	}
	if err := CheckSize("best", answers[:100]); err != nil {
		t.Errorf("a small set refused: %v", err)
	}
}

func TestSubsample(t *testing.T) {
	answers, _, _ := Synthesize(CrowdSpec{Tasks: 100, Workers: 10, Classes: 2, AnswersPerTask: 6, SkillMin: 0.7, SkillMax: 0.9, Seed: 1})
	sub := Subsample(answers, 3, 4)
	per := map[string]int{}
	for _, a := range sub {
		per[a.Task]++
	}
	if len(sub) != 300 || len(per) != 100 {
		t.Fatalf("%d answers over %d tasks", len(sub), len(per))
	}
	if again := Subsample(answers, 3, 4); fmt.Sprint(again) != fmt.Sprint(sub) {
		t.Fatal("same seed, different sample")
	}
	if other := Subsample(answers, 3, 5); fmt.Sprint(other) == fmt.Sprint(sub) {
		t.Fatal("another seed, same sample")
	}
	if all := Subsample(answers, 10, 1); len(all) != len(answers) {
		t.Fatalf("asking for more than there is kept %d of %d", len(all), len(answers))
	}
}

// The prior guard's weights: a flat profile weighs its points as the trapezoid rule does, a
// steep one puts the weight on its best end.
func TestProfileWeights(t *testing.T) {
	flat := []profilePoint{{t: 1, ll: -10}, {t: 0.5, ll: -10}, {t: 0, ll: -10}}
	w := profileWeights(flat)
	if math.Abs(w[0]-0.25) > 1e-9 || math.Abs(w[1]-0.5) > 1e-9 || math.Abs(w[2]-0.25) > 1e-9 {
		t.Errorf("flat profile weights %v", w)
	}
	steep := []profilePoint{{t: 1, ll: 0}, {t: 0.75, ll: -40}}
	if w := profileWeights(steep); w[0] < 0.95 {
		t.Errorf("steep profile weights %v", w)
	}
}
