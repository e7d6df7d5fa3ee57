package aggregate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// CrowdSpec describes a synthetic crowd.
type CrowdSpec struct {
	Tasks, Workers int
	Classes        int // default 2
	AnswersPerTask int // distinct workers per task; at most Workers
	// Each non-spammer's true accuracy is drawn uniformly in [SkillMin, SkillMax].
	SkillMin, SkillMax float64
	Seed               uint64
	// ClassImbalance skews the true labels: P(class k) ∝ (1 − ClassImbalance)^k, so 0 is uniform
	// and 0.5 halves the share from each class to the next.
	ClassImbalance float64
	// SpammerShare is the share of workers (rounded) who answer uniformly at random; their true
	// accuracy is 1/Classes.
	SpammerShare float64
	// ClassSkillDrop makes accuracy depend on the true class: a non-spammer's accuracy on class
	// k is their accuracy minus ClassSkillDrop·k/(Classes−1), and at least 1/Classes. With
	// ClassImbalance the rarest classes are also the hardest, as in many real crowds.
	ClassSkillDrop float64
	// FirstClassErrors is the share of a non-spammer's mistakes on the other classes that go to
	// the first class (the answer people give when unsure); the rest are spread evenly.
	FirstClassErrors float64
}

// Synthesize draws a crowd: each task's true label from the class priors, AnswersPerTask distinct
// workers per task chosen uniformly, and each worker answering right with their accuracy on the
// task's class and otherwise with another class (the first with probability FirstClassErrors,
// else a uniformly random other class; spammers: a uniformly random class). It returns the
// answers (task by task), the truth and each worker's true accuracy over all classes. Tasks are named t0001…,
// workers w001…, classes c0…, zero-padded so that names sort in index order. The same spec always
// gives the same crowd (math/rand/v2 PCG seeded by Seed).
func Synthesize(s CrowdSpec) (answers []Answer, truth map[string]string, skills map[string]float64) {
	k := s.Classes
	if k < 2 {
		k = 2
	}
	nt, nw := max(s.Tasks, 0), max(s.Workers, 0)
	per := min(max(s.AnswersPerTask, 0), nw)
	rng := rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))

	taskName := names("t", 1, nt)
	workerName := names("w", 1, nw)
	className := names("c", 0, k)

	ratio := 1 - min(max(s.ClassImbalance, 0), 1)
	cum := make([]float64, k)
	sum := 0.0
	for c := range cum {
		sum += math.Pow(ratio, float64(c))
		cum[c] = sum
	}

	acc := make([]float64, nw)
	spam := make([]bool, nw)
	for w := range acc {
		acc[w] = s.SkillMin + (s.SkillMax-s.SkillMin)*rng.Float64()
	}
	nspam := int(math.Round(min(max(s.SpammerShare, 0), 1) * float64(nw)))
	for _, w := range rng.Perm(nw)[:nspam] {
		spam[w] = true
		acc[w] = 1 / float64(k)
	}
	classAcc := func(w, c int) float64 {
		if spam[w] || s.ClassSkillDrop == 0 {
			return acc[w]
		}
		return max(acc[w]-s.ClassSkillDrop*float64(c)/float64(k-1), 1/float64(k))
	}
	skills = make(map[string]float64, nw)
	for w, name := range workerName {
		mean := 0.0
		for c := range k {
			share := cum[c] / sum
			if c > 0 {
				share = (cum[c] - cum[c-1]) / sum
			}
			mean += share * classAcc(w, c)
		}
		skills[name] = mean
	}

	truth = make(map[string]string, nt)
	answers = make([]Answer, 0, nt*per)
	pool := make([]int, nw)
	for w := range pool {
		pool[w] = w
	}
	for t := 0; t < nt; t++ {
		u := rng.Float64() * sum
		c := 0
		for c < k-1 && u >= cum[c] {
			c++
		}
		truth[taskName[t]] = className[c]
		for x := 0; x < per; x++ {
			y := x + rng.IntN(nw-x)
			pool[x], pool[y] = pool[y], pool[x]
			w := pool[x]
			var l int
			switch {
			case spam[w]:
				l = rng.IntN(k)
			case rng.Float64() < classAcc(w, c):
				l = c
			case c > 0 && s.FirstClassErrors > 0 && rng.Float64() < s.FirstClassErrors:
				l = 0
			default:
				l = rng.IntN(k - 1)
				if l >= c {
					l++
				}
			}
			answers = append(answers, Answer{Task: taskName[t], Worker: workerName[w], Label: className[l]})
		}
	}
	return answers, truth, skills
}

// names returns n names: prefix followed by from, from+1, …, zero-padded to a common width.
func names(prefix string, from, n int) []string {
	width := len(fmt.Sprint(n - 1 + from))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%0*d", prefix, width, i+from)
	}
	return out
}

// Compare synthesizes each crowd with each number of answers per item and returns a Markdown
// table of the accuracy against the truth of majority vote, Dawid–Skene, the one-coin model, the
// double-annotation policy and Best. The policy ignores the number of answers per item: it uses two answers and a
// third on disagreement, so it runs on the same crowd with at least three answers per item, and
// its column also gives the mean number of answers per item it used. An empty perItem uses each
// spec's AnswersPerTask.
func Compare(specs []CrowdSpec, perItem []int) string {
	var b strings.Builder
	b.WriteString("| crowd | answers/item | mv | ds | onecoin | policy (answers/item used) | best |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	pct := func(labels, truth map[string]string) string {
		acc, _ := Accuracy(labels, truth)
		return fmt.Sprintf("%.2f%%", 100*acc)
	}
	for _, spec := range specs {
		counts := perItem
		if len(counts) == 0 {
			counts = []int{spec.AnswersPerTask}
		}
		for _, n := range counts {
			s := spec
			s.AnswersPerTask = n
			answers, truth, _ := Synthesize(s)
			d := newDataset(answers)
			mv := MajorityVote(answers)
			ds := d.dawidSkene(DSOptions{}).result("ds")
			best := d.best().result("best")
			pd, ptruth := d, truth
			if n < 3 {
				s.AnswersPerTask = 3
				pa, pt, _ := Synthesize(s)
				pd, ptruth = newDataset(pa), pt
			}
			pol, used := policy(pd)
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s (%.2f) | %s |\n", describe(spec), n,
				pct(mv.Labels, truth), pct(ds.Labels, truth), pct(OneCoin(answers).Labels, truth), pct(pol.Labels, ptruth), used, pct(best.Labels, truth))
		}
	}
	return b.String()
}

// describe summarises a crowd for the Compare table.
func describe(s CrowdSpec) string {
	k := max(s.Classes, 2)
	out := fmt.Sprintf("%d tasks, %d workers, %d classes, skill %.2f–%.2f", s.Tasks, s.Workers, k, s.SkillMin, s.SkillMax)
	if s.SpammerShare > 0 {
		out += fmt.Sprintf(", %.0f%% spammers", 100*s.SpammerShare)
	}
	if s.ClassImbalance > 0 {
		out += fmt.Sprintf(", imbalance %.2f", s.ClassImbalance)
	}
	if s.ClassSkillDrop > 0 {
		out += fmt.Sprintf(", accuracy %.2f lower on the last class", s.ClassSkillDrop)
	}
	if s.FirstClassErrors > 0 {
		out += fmt.Sprintf(", %.0f%% of mistakes to the first class", 100*s.FirstClassErrors)
	}
	return out
}

// Subsample keeps at most per answers of each task, drawn at random without replacement (PCG
// seeded by seed), in file order otherwise: what a crowd with fewer answers per task would have
// given.
func Subsample(answers []Answer, per int, seed uint64) []Answer {
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	byTask := map[string][]int{}
	var order []string
	for n, a := range answers {
		if _, ok := byTask[a.Task]; !ok {
			order = append(order, a.Task)
		}
		byTask[a.Task] = append(byTask[a.Task], n)
	}
	keep := make([]bool, len(answers))
	for _, task := range order {
		ix := byTask[task]
		for _, p := range rng.Perm(len(ix))[:min(per, len(ix))] {
			keep[ix[p]] = true
		}
	}
	out := make([]Answer, 0, min(len(answers), per*len(order)))
	for n, a := range answers {
		if keep[n] {
			out = append(out, a)
		}
	}
	return out
}
