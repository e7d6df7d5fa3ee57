package aggregate

import (
	"bytes"
	"math"
	"testing"
)

func meanAbsSkillError(est, truth map[string]float64) float64 {
	sum := 0.0
	for w, s := range truth {
		sum += math.Abs(est[w] - s)
	}
	return sum / float64(len(truth))
}

func TestDawidSkeneRecoversPlantedSkills(t *testing.T) {
	for _, classes := range []int{2, 3} {
		spec := CrowdSpec{Tasks: 2000, Workers: 30, Classes: classes, AnswersPerTask: 5, SkillMin: 0.55, SkillMax: 0.95, Seed: 11}
		answers, truth, skills := Synthesize(spec)
		ds := DawidSkene(answers, DSOptions{})
		mae := meanAbsSkillError(ds.Skill, skills)
		dsAcc, _ := Accuracy(ds.Labels, truth)
		mvAcc, _ := Accuracy(MajorityVote(answers).Labels, truth)
		t.Logf("K=%d: skill MAE %.4f, ds %.4f, mv %.4f, %d iterations", classes, mae, dsAcc, mvAcc, ds.Iterations)
		if mae >= 0.05 {
			t.Errorf("K=%d: mean absolute skill error %.4f, want < 0.05", classes, mae)
		}
		if dsAcc < mvAcc {
			t.Errorf("K=%d: ds accuracy %.4f below mv %.4f", classes, dsAcc, mvAcc)
		}
		if ds.Iterations >= DefaultMaxIter {
			t.Errorf("K=%d: did not converge in %d iterations", classes, ds.Iterations)
		}
		if ds.Method != "ds" {
			t.Errorf("method %q", ds.Method)
		}
	}
}

func TestDawidSkeneOptions(t *testing.T) {
	answers, _, _ := Synthesize(CrowdSpec{Tasks: 300, Workers: 10, Classes: 3, AnswersPerTask: 3, SkillMin: 0.6, SkillMax: 0.9, Seed: 5})
	if r := DawidSkene(answers, DSOptions{MaxIter: 1}); r.Iterations != 1 {
		t.Fatalf("MaxIter 1: %d iterations", r.Iterations)
	}
	loose := DawidSkene(answers, DSOptions{Tolerance: 1e-2})
	tight := DawidSkene(answers, DSOptions{Tolerance: 1e-9})
	if loose.Iterations >= tight.Iterations {
		t.Fatalf("tolerance 1e-2 took %d iterations, 1e-9 %d", loose.Iterations, tight.Iterations)
	}
	// Heavy smoothing pulls every confusion row toward uniform, so skills toward 1/K.
	light := DawidSkene(answers, DSOptions{})
	heavy := DawidSkene(answers, DSOptions{Smoothing: 1000})
	for w := range light.Skill {
		if math.Abs(heavy.Skill[w]-1.0/3) > math.Abs(light.Skill[w]-1.0/3) {
			t.Fatalf("worker %s: heavy smoothing skill %v further from 1/3 than %v", w, heavy.Skill[w], light.Skill[w])
		}
	}
}

type crowdCase struct {
	name string
	spec CrowdSpec
}

var bestCrowds = []crowdCase{
	{"2 classes, skill 0.6–0.9", CrowdSpec{Tasks: 2000, Workers: 50, Classes: 2, AnswersPerTask: 5, SkillMin: 0.6, SkillMax: 0.9, Seed: 21}},
	{"3 classes, skill 0.55–0.95, 3 per task", CrowdSpec{Tasks: 2000, Workers: 30, Classes: 3, AnswersPerTask: 3, SkillMin: 0.55, SkillMax: 0.95, Seed: 22}},
	{"4 classes imbalanced", CrowdSpec{Tasks: 2000, Workers: 50, Classes: 4, AnswersPerTask: 5, SkillMin: 0.6, SkillMax: 0.9, ClassImbalance: 0.5, Seed: 23}},
}

func TestBestAtLeastDawidSkene(t *testing.T) {
	for _, c := range bestCrowds {
		answers, truth, _ := Synthesize(c.spec)
		ds, _ := Accuracy(DawidSkene(answers, DSOptions{}).Labels, truth)
		best, _ := Accuracy(Best(answers).Labels, truth)
		t.Logf("%s: ds %.4f best %.4f", c.name, ds, best)
		if best < ds-0.002 {
			t.Errorf("%s: best %.4f below ds %.4f by more than 0.2 points", c.name, best, ds)
		}
	}
}

func TestBestBeatsDawidSkeneOnLowVolumeSpammyCrowd(t *testing.T) {
	// 300 workers over 1,000 tasks × 3 answers: 10 answers per worker, 30% of them spammers.
	// Dawid–Skene trusts every worker's ten answers and falls far behind majority vote; Best
	// separates the spammers only as far as two halves of their work agree.
	spec := CrowdSpec{Tasks: 1000, Workers: 300, Classes: 3, AnswersPerTask: 3, SkillMin: 0.5, SkillMax: 0.95, SpammerShare: 0.3, Seed: 31}
	answers, truth, skills := Synthesize(spec)
	dsR := DawidSkene(answers, DSOptions{})
	bestR := Best(answers)
	ds, _ := Accuracy(dsR.Labels, truth)
	best, _ := Accuracy(bestR.Labels, truth)
	mv, _ := Accuracy(MajorityVote(answers).Labels, truth)
	t.Logf("mv %.4f ds %.4f best %.4f; skill MAE ds %.3f best %.3f", mv, ds, best,
		meanAbsSkillError(dsR.Skill, skills), meanAbsSkillError(bestR.Skill, skills))
	if best < ds+0.02 {
		t.Errorf("best %.4f does not beat ds %.4f by 2 points", best, ds)
	}
	if best < mv {
		t.Errorf("best %.4f below majority vote %.4f", best, mv)
	}
	if meanAbsSkillError(bestR.Skill, skills) >= meanAbsSkillError(dsR.Skill, skills) {
		t.Errorf("best's skills are no closer to the truth than ds's")
	}
}

func TestBestKeepsClassDependentConfusions(t *testing.T) {
	// Every worker mixes each class up mostly with one other class: the full confusion matrices
	// of Dawid–Skene capture that; Best must not lose it to its shrinkage.
	answers, truth := confusedCrowd(2000, 30, 3, 5, 0.5, 0.95, 3)
	ds, _ := Accuracy(DawidSkene(answers, DSOptions{}).Labels, truth)
	best, _ := Accuracy(Best(answers).Labels, truth)
	mv, _ := Accuracy(MajorityVote(answers).Labels, truth)
	t.Logf("mv %.4f ds %.4f best %.4f", mv, ds, best)
	if best < ds-0.002 || best < mv+0.03 {
		t.Errorf("best %.4f, ds %.4f, mv %.4f", best, ds, mv)
	}
	// Workers who swap two classes throughout are still read correctly.
	answers, truth = swapCrowd(2000, 30, 3, 5, 0.6, 0.95, 0.15, 4)
	ds, _ = Accuracy(DawidSkene(answers, DSOptions{}).Labels, truth)
	best, _ = Accuracy(Best(answers).Labels, truth)
	mv, _ = Accuracy(MajorityVote(answers).Labels, truth)
	t.Logf("swapping workers: mv %.4f ds %.4f best %.4f", mv, ds, best)
	if best < ds-0.002 || best < mv+0.03 {
		t.Errorf("swapping workers: best %.4f, ds %.4f, mv %.4f", best, ds, mv)
	}
}

func TestBestOnSmallProjects(t *testing.T) {
	// Tiny projects: too little data to estimate much. Best must stay level with majority vote
	// on average, where Dawid–Skene overfits.
	spec := CrowdSpec{Tasks: 20, Workers: 8, Classes: 2, AnswersPerTask: 3, SkillMin: 0.55, SkillMax: 0.9}
	var mv, ds, best float64
	const runs = 100
	for seed := range uint64(runs) {
		spec.Seed = seed
		answers, truth, _ := Synthesize(spec)
		a, _ := Accuracy(MajorityVote(answers).Labels, truth)
		b, _ := Accuracy(DawidSkene(answers, DSOptions{}).Labels, truth)
		c, _ := Accuracy(Best(answers).Labels, truth)
		mv, ds, best = mv+a/runs, ds+b/runs, best+c/runs
	}
	t.Logf("mv %.4f ds %.4f best %.4f", mv, ds, best)
	if best < mv-0.01 || best < ds+0.03 {
		t.Errorf("mv %.4f ds %.4f best %.4f", mv, ds, best)
	}
}

func TestConfidenceCalibration(t *testing.T) {
	spec := CrowdSpec{Tasks: 3000, Workers: 40, Classes: 3, AnswersPerTask: 3, SkillMin: 0.55, SkillMax: 0.9, Seed: 41}
	answers, truth, _ := Synthesize(spec)
	for _, r := range []Result{DawidSkene(answers, DSOptions{}), Best(answers), Policy(answers)} {
		right, n := 0, 0
		for task, c := range r.Confidence {
			if c < 0 || c > 1 || math.IsNaN(c) {
				t.Fatalf("%s: confidence[%s] = %v", r.Method, task, c)
			}
			if c >= 0.9 {
				n++
				if r.Labels[task] == truth[task] {
					right++
				}
			}
		}
		acc := float64(right) / float64(n)
		t.Logf("%s: %d tasks at confidence ≥ 0.9, accuracy %.4f", r.Method, n, acc)
		if n < 300 || acc < 0.85 {
			t.Errorf("%s: %d tasks at confidence ≥ 0.9 with accuracy %.4f, want ≥ 0.85", r.Method, n, acc)
		}
	}
	// Mean confidence tracks accuracy overall (no gross over- or under-confidence).
	r := DawidSkene(answers, DSOptions{})
	mean := 0.0
	for _, c := range r.Confidence {
		mean += c / float64(len(r.Confidence))
	}
	acc, _ := Accuracy(r.Labels, truth)
	if math.Abs(mean-acc) > 0.05 {
		t.Errorf("mean confidence %.4f, accuracy %.4f", mean, acc)
	}
}

func TestDeterminism(t *testing.T) {
	spec := CrowdSpec{Tasks: 500, Workers: 40, Classes: 4, AnswersPerTask: 3, SkillMin: 0.5, SkillMax: 0.9, SpammerShare: 0.2, ClassImbalance: 0.3, Seed: 51}
	render := func() string {
		answers, _, _ := Synthesize(spec)
		var b bytes.Buffer
		for _, r := range []Result{MajorityVote(answers), DawidSkene(answers, DSOptions{}), Policy(answers), Best(answers)} {
			b.WriteString(r.Method)
			if err := WriteLabels(&b, r); err != nil {
				t.Fatal(err)
			}
			if err := WriteSkills(&b, r); err != nil {
				t.Fatal(err)
			}
			b.WriteByte(byte(r.Iterations))
		}
		return b.String()
	}
	first := render()
	for range 3 {
		if render() != first {
			t.Fatal("two runs gave different outputs")
		}
	}
	if once, again := Compare([]CrowdSpec{spec}, []int{2, 3}), Compare([]CrowdSpec{spec}, []int{2, 3}); once != again {
		t.Fatal("Compare differs between runs")
	}
}
