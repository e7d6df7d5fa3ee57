// Package aggregate infers true labels from crowd answers (categorical labels): majority vote,
// Dawid–Skene, the one-coin model, a replay of the double-annotation policy, and Best, a
// hierarchical Dawid–Skene with class-conditional confusion and guards against the failures of
// EM on sparse answers, the default. It serves `labelflow quality aggregate`, `quality replay`
// and `quality bench` offline, gives the workflows their estimates of people's accuracy, and
// gives dynamic overlap its decision (Snapshot).
//
// Input is the common crowd format: CSV with the header task,worker,label; a truth file has the
// header task,label. Fields are compared trimmed and in Unicode normal form C, case kept.
// Internally tasks, workers and labels are indexed into ints in order of first appearance, and
// answers are grouped by task in file order, so every result is a function of the input alone: no
// map iteration order reaches an output or a tie break.
package aggregate

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Answer is one worker's label for one task.
type Answer struct{ Task, Worker, Label string }

// Result is the outcome of an aggregation method.
type Result struct {
	Labels     map[string]string  // task → label
	Confidence map[string]float64 // task → posterior probability of that label, in [0,1]
	Skill      map[string]float64 // worker → estimated accuracy in [0,1]
	Method     string
	Iterations int // EM iterations run; 0 for the methods that do not iterate
	// Converged is false when an iterative method stopped at its iteration cap with posteriors
	// still moving; the methods that do not iterate always converge.
	Converged bool
}

// dataset is the answers indexed into ints, grouped by task in file order.
type dataset struct {
	tasks, workers, labels []string
	start                  []int32 // answers of task i are aw/al[start[i]:start[i+1]]
	aw, al                 []int32 // worker and label of each answer
}

func newDataset(answers []Answer) *dataset {
	d := &dataset{}
	taskIx := make(map[string]int32)
	workerIx := make(map[string]int32)
	labelIx := make(map[string]int32)
	lookup := func(m map[string]int32, names *[]string, s string) int32 {
		if i, ok := m[s]; ok {
			return i
		}
		i := int32(len(*names))
		m[s] = i
		*names = append(*names, s)
		return i
	}
	at := make([]int32, len(answers))
	aw := make([]int32, len(answers))
	al := make([]int32, len(answers))
	for n, a := range answers {
		at[n] = lookup(taskIx, &d.tasks, a.Task)
		aw[n] = lookup(workerIx, &d.workers, a.Worker)
		al[n] = lookup(labelIx, &d.labels, a.Label)
	}
	// Counting sort by task keeps file order within each task.
	d.start = make([]int32, len(d.tasks)+1)
	for _, t := range at {
		d.start[t+1]++
	}
	for i := range d.tasks {
		d.start[i+1] += d.start[i]
	}
	next := slices.Clone(d.start[:len(d.tasks)])
	d.aw = make([]int32, len(answers))
	d.al = make([]int32, len(answers))
	for n, t := range at {
		p := next[t]
		next[t]++
		d.aw[p], d.al[p] = aw[n], al[n]
	}
	return d
}

// argmax returns the label with the highest score for task i. Ties go to the label whose earliest
// answer for the task comes first in file order, then to labels nobody gave the task, in order of
// first appearance in the file.
func (d *dataset) argmax(i int, score []float64) int {
	best := -1
	for a := d.start[i]; a < d.start[i+1]; a++ {
		if l := int(d.al[a]); best < 0 || score[l] > score[best] {
			best = l
		}
	}
	for l := range score {
		if best < 0 || score[l] > score[best] {
			best = l
		}
	}
	return best
}

// result turns per-task labels and confidences and per-worker skills into a Result.
func (d *dataset) result(method string, label []int, conf, skill []float64, iters int) Result {
	r := Result{
		Labels:     make(map[string]string, len(d.tasks)),
		Confidence: make(map[string]float64, len(d.tasks)),
		Skill:      make(map[string]float64, len(d.workers)),
		Method:     method,
		Iterations: iters,
		Converged:  true,
	}
	for i, t := range d.tasks {
		r.Labels[t] = d.labels[label[i]]
		r.Confidence[t] = clamp01(conf[i])
	}
	for w, name := range d.workers {
		r.Skill[name] = clamp01(skill[w])
	}
	return r
}

// agreementSkill is each worker's smoothed agreement with the given labels,
// (½ + agree)/(1 + total): a Beta(½,½) (Jeffreys) posterior mean.
func (d *dataset) agreementSkill(label []int) []float64 {
	agree := make([]float64, len(d.workers))
	total := make([]float64, len(d.workers))
	for i := range d.tasks {
		for a := d.start[i]; a < d.start[i+1]; a++ {
			w := d.aw[a]
			total[w]++
			if int(d.al[a]) == label[i] {
				agree[w]++
			}
		}
	}
	const k = 0.5
	skill := make([]float64, len(d.workers))
	for w := range skill {
		skill[w] = (k + agree[w]) / (2*k + total[w])
	}
	return skill
}

// majority returns per-task vote counts (tasks × labels) and the majority label of each task.
func (d *dataset) majority() (votes []float64, label []int) {
	k := len(d.labels)
	votes = make([]float64, len(d.tasks)*k)
	label = make([]int, len(d.tasks))
	for i := range d.tasks {
		v := votes[i*k : (i+1)*k]
		for a := d.start[i]; a < d.start[i+1]; a++ {
			v[d.al[a]]++
		}
		label[i] = d.argmax(i, v)
	}
	return votes, label
}

// MajorityVote labels each task with its most frequent answer. Ties go to the tied label whose
// earliest answer for the task comes first in file order. Confidence is the label's share of the
// votes with Laplace smoothing over the K labels observed in the whole input,
// (votes + 1)/(answers + K). Skill is the worker's smoothed agreement with the majority,
// (½ + agree)/(1 + total).
func MajorityVote(answers []Answer) Result {
	d := newDataset(answers)
	k := len(d.labels)
	votes, label := d.majority()
	conf := make([]float64, len(d.tasks))
	for i := range d.tasks {
		n := float64(d.start[i+1] - d.start[i])
		conf[i] = (votes[i*k+label[i]] + 1) / (n + float64(k))
	}
	return d.result("mv", label, conf, d.agreementSkill(label), 0)
}

// MaxConfusionCells bounds workers × labels², the size of the per-worker confusion matrices that
// DawidSkene, Best and Policy keep (several arrays of them at once, 8 bytes a cell): 2²⁴ cells
// keep Best under about 1 GB. MajorityVote and OneCoin keep no such matrices.
const MaxConfusionCells = 1 << 24

// NeedsConfusion reports whether the named method keeps a confusion matrix per worker.
func NeedsConfusion(method string) bool {
	return method == "ds" || method == "best" || method == "policy"
}

// CheckSize refuses, before any fitting, a method whose confusion matrices would not fit the
// bound, with the figures and what to use instead.
func CheckSize(method string, answers []Answer) error {
	if !NeedsConfusion(method) {
		return nil
	}
	workers, labels := map[string]bool{}, map[string]bool{}
	for _, a := range answers {
		workers[a.Worker], labels[a.Label] = true, true
	}
	cells := float64(len(workers)) * float64(len(labels)) * float64(len(labels))
	if cells <= MaxConfusionCells {
		return nil
	}
	return fmt.Errorf("%s keeps a %d×%d confusion matrix for each of %d workers: %.1f million cells, more than the %.1f million allowed (it would take about %.1f GB); use --method mv or onecoin, which keep none",
		method, len(labels), len(labels), len(workers), cells/1e6, float64(MaxConfusionCells)/1e6, cells*8*6/1e9)
}

// Accuracy is the share of tasks present in both maps whose label matches the truth, and the
// number of such tasks. With no common task it is 0.
func Accuracy(labels map[string]string, truth map[string]string) (acc float64, n int) {
	correct := 0
	for t, want := range truth {
		got, ok := labels[t]
		if !ok {
			continue
		}
		n++
		if got == want {
			correct++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(correct) / float64(n), n
}

// WriteLabels writes the CSV "task,label,confidence", one row per task sorted by task, with the
// confidence to six decimals.
func WriteLabels(w io.Writer, r Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"task", "label", "confidence"}); err != nil {
		return err
	}
	tasks := make([]string, 0, len(r.Labels))
	for t := range r.Labels {
		tasks = append(tasks, t)
	}
	slices.Sort(tasks)
	for _, t := range tasks {
		if err := cw.Write([]string{t, r.Labels[t], strconv.FormatFloat(r.Confidence[t], 'f', 6, 64)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteSkills writes the CSV "worker,skill", one row per worker sorted by worker, with the skill
// to six decimals.
func WriteSkills(w io.Writer, r Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"worker", "skill"}); err != nil {
		return err
	}
	workers := make([]string, 0, len(r.Skill))
	for name := range r.Skill {
		workers = append(workers, name)
	}
	slices.Sort(workers)
	for _, name := range workers {
		if err := cw.Write([]string{name, strconv.FormatFloat(r.Skill[name], 'f', 6, 64)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func clamp01(x float64) float64 {
	switch {
	case x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}
