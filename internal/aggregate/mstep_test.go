package aggregate

import (
	"math"
	"testing"
)

// Both M-steps fill every confusion row and the class prior with probability distributions,
// whatever the crowd: one label, few answers per worker, spammers.
func TestMStepsGiveDistributions(t *testing.T) {
	crowds := [][]Answer{
		{{"a", "w1", "x"}, {"a", "w2", "x"}, {"b", "w1", "x"}},
	}
	for _, s := range []CrowdSpec{
		{Tasks: 50, Workers: 30, Classes: 3, AnswersPerTask: 2, SkillMin: 0.6, SkillMax: 0.9, Seed: 5},
		{Tasks: 300, Workers: 8, Classes: 5, AnswersPerTask: 3, SkillMin: 0.5, SkillMax: 0.95, Seed: 6, SpammerShare: 0.3, ClassImbalance: 0.4},
	} {
		answers, _, _ := Synthesize(s)
		crowds = append(crowds, answers)
	}
	for i, answers := range crowds {
		d := newDataset(answers)
		for name, m := range map[string]*model{"best": d.best(), "ds": d.dawidSkene(DSOptions{})} {
			checkDistribution(t, i, name+" prior", m.prior)
			for r := 0; r < len(m.pi); r += m.k {
				checkDistribution(t, i, name+" confusion row", m.pi[r:r+m.k])
			}
		}
	}
}

func checkDistribution(t *testing.T, crowd int, what string, p []float64) {
	t.Helper()
	sum := 0.0
	for _, v := range p {
		if !(v > 0 && v <= 1) {
			t.Fatalf("crowd %d: %s %v has a value outside (0,1]", crowd, what, p)
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Fatalf("crowd %d: %s %v sums to %v", crowd, what, p, sum)
	}
}
