package aggregate

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestSynthesize(t *testing.T) {
	spec := CrowdSpec{Tasks: 4000, Workers: 20, Classes: 4, AnswersPerTask: 5, SkillMin: 0.6, SkillMax: 0.9, Seed: 7, ClassImbalance: 0.5, SpammerShare: 0.25}
	answers, truth, skills := Synthesize(spec)
	if len(answers) != 4000*5 || len(truth) != 4000 || len(skills) != 20 {
		t.Fatalf("%d answers, %d truths, %d skills", len(answers), len(truth), len(skills))
	}
	// Distinct workers per task; per-worker empirical accuracy near the planted one.
	seen := map[[2]string]bool{}
	right, total := map[string]float64{}, map[string]float64{}
	for _, a := range answers {
		k := [2]string{a.Task, a.Worker}
		if seen[k] {
			t.Fatalf("worker %s answers %s twice", a.Worker, a.Task)
		}
		seen[k] = true
		total[a.Worker]++
		if a.Label == truth[a.Task] {
			right[a.Worker]++
		}
	}
	spammers := 0
	for w, s := range skills {
		if s == 0.25 {
			spammers++
		} else if s < 0.6 || s > 0.9 {
			t.Errorf("worker %s skill %v outside [0.6, 0.9]", w, s)
		}
		if got := right[w] / total[w]; math.Abs(got-s) > 0.06 {
			t.Errorf("worker %s: right %.3f of the time, planted %.3f", w, got, s)
		}
	}
	if spammers != 5 {
		t.Errorf("%d spammers, want 5", spammers)
	}
	// Geometric class prior with ratio ½: 8/15, 4/15, 2/15, 1/15.
	count := map[string]float64{}
	for _, l := range truth {
		count[l]++
	}
	for c, want := range map[string]float64{"c0": 8.0 / 15, "c1": 4.0 / 15, "c2": 2.0 / 15, "c3": 1.0 / 15} {
		if got := count[c] / 4000; math.Abs(got-want) > 0.03 {
			t.Errorf("class %s share %.3f, want %.3f", c, got, want)
		}
	}
	// Same seed, same crowd; another seed, another crowd.
	a2, t2, s2 := Synthesize(spec)
	if !reflect.DeepEqual(answers, a2) || !reflect.DeepEqual(truth, t2) || !reflect.DeepEqual(skills, s2) {
		t.Fatal("same spec gave a different crowd")
	}
	spec.Seed++
	if a3, _, _ := Synthesize(spec); reflect.DeepEqual(answers, a3) {
		t.Fatal("another seed gave the same crowd")
	}
	// Names sort in index order.
	if answers[0].Task != "t0001" || !strings.HasPrefix(answers[0].Worker, "w") || len(answers[0].Worker) != 3 {
		t.Fatalf("names: %+v", answers[0])
	}
}

func TestCompare(t *testing.T) {
	specs := []CrowdSpec{
		{Tasks: 300, Workers: 20, Classes: 2, SkillMin: 0.6, SkillMax: 0.9, Seed: 1},
		{Tasks: 300, Workers: 60, Classes: 3, SkillMin: 0.5, SkillMax: 0.95, SpammerShare: 0.3, Seed: 2},
	}
	table := Compare(specs, []int{1, 3, 5})
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 2+2*3 {
		t.Fatalf("%d lines:\n%s", len(lines), table)
	}
	if !strings.HasPrefix(lines[0], "| crowd | answers/item | mv | ds | onecoin | policy") || !strings.Contains(lines[0], "best |") {
		t.Fatalf("header %q", lines[0])
	}
	for _, l := range lines[2:] {
		cells := strings.Split(l, "|")
		if len(cells) != 9 {
			t.Fatalf("row %q", l)
		}
		for _, c := range cells[3:8] {
			if !strings.Contains(c, "%") {
				t.Fatalf("row %q: cell %q is no accuracy", l, c)
			}
		}
	}
	if !strings.Contains(lines[3], "30% spammers") && !strings.Contains(lines[5], "30% spammers") {
		t.Fatalf("crowd not described:\n%s", table)
	}
	// With one answer per item there is nothing to learn about workers: Best returns the answers,
	// as majority vote does.
	one := strings.Split(lines[2], "|")
	if one[3] != one[7] {
		t.Fatalf("one answer per item, methods differ: %q", lines[2])
	}
}
