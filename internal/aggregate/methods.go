package aggregate

import (
	"fmt"
	"strings"
	"time"
)

// Methods are the aggregation methods by the name `quality aggregate --method` takes.
var Methods = map[string]func([]Answer) Result{
	"mv":      MajorityVote,
	"ds":      func(a []Answer) Result { return DawidSkene(a, DSOptions{}) },
	"onecoin": OneCoin,
	"policy":  Policy,
	"best":    Best,
}

// MethodNames are the methods' names in the order they are listed and compared.
var MethodNames = []string{"mv", "ds", "onecoin", "policy", "best"}

// BenchMethods are the methods a benchmark compares: the policy uses a fixed number of answers
// and is measured by `quality replay` instead.
var BenchMethods = []string{"mv", "ds", "onecoin", "best"}

// BenchCell is one method's figures on one set of answers: accuracy on the tasks with a truth
// and the time it took, each the mean over the samplings.
type BenchCell struct {
	Accuracy float64
	Elapsed  time.Duration
}

// BenchRow is every method's figures on one set of answers.
type BenchRow struct {
	Data    string
	PerTask string // "all", or the number of answers kept per task
	Cells   []BenchCell
}

// Bench runs every method of methods on the answers (per = 0) or on seeds samplings of per
// answers per task (Subsample with seeds 1…seeds), and returns their mean figures.
func Bench(data string, answers []Answer, truth map[string]string, methods []string, per, seeds int) BenchRow {
	row := BenchRow{Data: data, PerTask: "all", Cells: make([]BenchCell, len(methods))}
	sets := [][]Answer{answers}
	if per > 0 {
		row.PerTask = fmt.Sprint(per)
		sets = nil
		for seed := 1; seed <= max(seeds, 1); seed++ {
			sets = append(sets, Subsample(answers, per, uint64(seed)))
		}
	}
	for _, set := range sets {
		for m, name := range methods {
			start := time.Now()
			r := Methods[name](set)
			took := time.Since(start)
			acc, _ := Accuracy(r.Labels, truth)
			row.Cells[m].Accuracy += acc / float64(len(sets))
			row.Cells[m].Elapsed += took / time.Duration(len(sets))
		}
	}
	return row
}

// BenchTable renders rows as a Markdown table: accuracy in percent and time per method.
func BenchTable(methods []string, rows []BenchRow) string {
	var b strings.Builder
	b.WriteString("| data | answers/task |")
	for _, m := range methods {
		fmt.Fprintf(&b, " %s |", m)
	}
	b.WriteString("\n|---|---:|")
	for range methods {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |", r.Data, r.PerTask)
		for _, c := range r.Cells {
			fmt.Fprintf(&b, " %.2f%% (%s) |", 100*c.Accuracy, roundDuration(c.Elapsed))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// BenchCrowds are the synthetic crowds of `quality bench` without --in: a symmetric crowd, and
// crowds with the features of real ones (class-dependent accuracy with mistakes drawn to one
// class, rare classes, spammers, few answers per worker), each with 5 answers per task.
var BenchCrowds = []struct {
	Name string
	Spec CrowdSpec
}{
	{"symmetric, 4 classes", CrowdSpec{Tasks: 4000, Workers: 100, Classes: 4, AnswersPerTask: 5, SkillMin: 0.55, SkillMax: 0.95, Seed: 1}},
	{"class-dependent accuracy", CrowdSpec{Tasks: 2000, Workers: 40, Classes: 4, AnswersPerTask: 5, SkillMin: 0.65, SkillMax: 0.95, ClassSkillDrop: 0.35, FirstClassErrors: 0.6, Seed: 2}},
	{"rare classes", CrowdSpec{Tasks: 4000, Workers: 100, Classes: 3, AnswersPerTask: 5, SkillMin: 0.6, SkillMax: 0.95, ClassImbalance: 0.75, ClassSkillDrop: 0.2, Seed: 3}},
	{"20% spammers", CrowdSpec{Tasks: 4000, Workers: 100, Classes: 4, AnswersPerTask: 5, SkillMin: 0.55, SkillMax: 0.95, SpammerShare: 0.2, Seed: 4}},
	{"300 workers, 30% spammers", CrowdSpec{Tasks: 2000, Workers: 300, Classes: 3, AnswersPerTask: 5, SkillMin: 0.5, SkillMax: 0.95, SpammerShare: 0.3, Seed: 5}},
}
