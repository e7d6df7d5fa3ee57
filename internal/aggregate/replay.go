package aggregate

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// replayDefaultAccuracy is the accuracy assumed of everyone when there is nothing to fit: the
// pipeline's default for an annotator without a record.
const replayDefaultAccuracy = 0.8

// ReplayOptions say which overlap policy to replay and how.
type ReplayOptions struct {
	Policy string // "fixed" or "dynamic"
	// Annotators is the number of answers every item gets first (the pipeline's
	// annotators_per_item); default 2.
	Annotators int
	// ConfidenceTarget and MaxAnnotations are the dynamic policy's: more answers until the best
	// label's posterior reaches the target, at most MaxAnnotations, then a reviewer. Defaults 0.9
	// and 5.
	ConfidenceTarget float64
	MaxAnnotations   int
	// MinGain is the dynamic policy's other reason to stop: more answers are expected to raise
	// the chance that the label is right by less than this per answer (StopRule); 0 leaves the
	// target alone.
	MinGain float64
	// ReviewerAccuracy, when above 0, simulates the reviewer: right with this probability, else a
	// uniformly random other label. At 0 the reviewer is the item's next recorded answer.
	ReviewerAccuracy float64
	// ReviewCost, when above 0, makes the simulated reviewer one of the dynamic policy's
	// choices (StopRule.Reviewer): the price of a review, in annotations. It needs
	// ReviewerAccuracy: the rule weighs what the reviewer is known to be worth.
	ReviewCost float64
	Seed       uint64 // for the reviewer's draws and the split of the dynamic policy's fits
}

func (o ReplayOptions) withDefaults() ReplayOptions {
	if o.Annotators <= 0 {
		o.Annotators = 2
	}
	if o.ConfidenceTarget <= 0 {
		o.ConfidenceTarget = 0.9
	}
	if o.MaxAnnotations <= 0 {
		o.MaxAnnotations = 5
	}
	return o
}

// rule is the dynamic policy's stopping rule, the pipeline's.
func (o ReplayOptions) rule() StopRule {
	r := StopRule{Target: o.ConfidenceTarget, MinGain: o.MinGain}
	if o.ReviewCost > 0 {
		r.Reviewer = &ReviewOption{Accuracy: o.ReviewerAccuracy, Cost: o.ReviewCost}
	}
	return r
}

// Check reports options that make no sense, before any answer is read.
func (o ReplayOptions) Check() error {
	o = o.withDefaults()
	switch {
	case o.Policy != "fixed" && o.Policy != "dynamic":
		return fmt.Errorf("--policy %q: use fixed or dynamic", o.Policy)
	case o.ConfidenceTarget >= 1:
		return fmt.Errorf("--confidence-target %v: want a probability below 1", o.ConfidenceTarget)
	case o.MaxAnnotations < o.Annotators:
		return fmt.Errorf("--max-annotations %d is below the %d answers every item gets first", o.MaxAnnotations, o.Annotators)
	case o.MinGain < 0 || o.MinGain >= 1:
		return fmt.Errorf("--min-gain %v: want a probability below 1, or 0 for none", o.MinGain)
	case o.ReviewerAccuracy < 0 || o.ReviewerAccuracy > 1:
		return fmt.Errorf("--reviewer-accuracy %v: want a probability", o.ReviewerAccuracy)
	case o.ReviewCost < 0:
		return fmt.Errorf("--review-cost %v: want a price in annotations, or 0 for none", o.ReviewCost)
	case o.ReviewCost > 0 && o.ReviewerAccuracy == 0:
		return fmt.Errorf("--review-cost needs --reviewer-accuracy: the rule weighs what a review is worth by the reviewer's accuracy")
	}
	return nil
}

// ReplayResult is what a policy would have done with the recorded answers, on the items with a
// known truth.
type ReplayResult struct {
	Policy             string
	Items              int     // items replayed: those with a truth and at least one answer
	Accuracy           float64 // share of items whose final label is the truth
	AnnotationsPerItem float64 // annotators' answers used per item
	LabelsPerItem      float64 // answers used per item, the reviewer's included
	ReviewedShare      float64 // share of items that went to a reviewer
	// Unreviewed counts items that needed a reviewer when no recorded answer was left (and no
	// --reviewer-accuracy): they keep the best label so far.
	Unreviewed int
	// MajorityAll is the accuracy of majority vote over every recorded answer of the same items:
	// what spending all the answers gives.
	MajorityAll float64
}

// Replay replays an overlap policy over recorded answers, each item's answers taken in file
// order as if they had arrived in that order:
//
//   - fixed: the first Annotators answers; if they agree the item is settled, otherwise it goes
//     to a reviewer whose answer is final (the pipeline's review mode).
//   - dynamic: the first Annotators answers, then one more at a time until the stopping rule
//     stops (Snapshot.Next, as the pipeline decides), at most MaxAnnotations answers; then a
//     reviewer whose answer is final. With ReviewCost the rule may send an item to the reviewer
//     earlier. Items answered by as many as Annotators people who all agree still need the
//     rule to stop, as in the pipeline.
//
// The dynamic policy's model is fitted on the other half of the items (a seeded split, each half
// decided with the model of the other), so no item is decided by estimates its own answers
// made: like accuracies estimated on earlier work.
func Replay(answers []Answer, truth map[string]string, o ReplayOptions) (ReplayResult, error) {
	if err := o.Check(); err != nil {
		return ReplayResult{}, err
	}
	o = o.withDefaults()
	items, order := groupByTask(answers, truth)
	r := ReplayResult{Policy: o.Policy, Items: len(order)}
	if r.Items == 0 {
		return r, fmt.Errorf("no item has both answers and a truth")
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x2545f4914f6cdd1d))
	labels := labelSet(answers, truth)
	deciders := make([]decider, len(order))
	if o.Policy == "dynamic" {
		assignHalves(deciders, items, order, labels, rng)
	}
	var right, used, reviewed, annotations int
	for n, task := range order {
		out := replayItem(items[task], o, deciders[n], labels, truth[task], rng)
		if out.label == truth[task] {
			right++
		}
		annotations += out.annotations
		used += out.annotations
		if out.reviewed {
			reviewed++
			used++
		}
		if out.unreviewed {
			r.Unreviewed++
		}
	}
	items64 := float64(r.Items)
	r.Accuracy = float64(right) / items64
	r.AnnotationsPerItem = float64(annotations) / items64
	r.LabelsPerItem = float64(used) / items64
	r.ReviewedShare = float64(reviewed) / items64
	var all []Answer
	for _, task := range order {
		all = append(all, items[task]...)
	}
	r.MajorityAll, _ = Accuracy(MajorityVote(all).Labels, truth)
	return r, nil
}

// decider is the model an item is decided with: a snapshot (and its Posteriors) and the
// workers' accuracies.
type decider struct {
	snapshot   Snapshot
	posteriors *Posteriors
	accuracy   map[string]float64
}

// replayed is one item's outcome.
type replayed struct {
	label                string
	annotations          int
	reviewed, unreviewed bool
}

func replayItem(as []Answer, o ReplayOptions, dec decider, labels []string, truth string, rng *rand.Rand) replayed {
	first := min(o.Annotators, len(as))
	if o.Policy == "fixed" {
		if agree(as[:first]) {
			return replayed{label: as[0].Label, annotations: first}
		}
		return review(as, first, as[0].Label, o, labels, truth, rng)
	}
	votes := make([]Vote, 0, o.MaxAnnotations)
	for _, a := range as[:min(len(as), o.MaxAnnotations)] {
		votes = append(votes, Vote{Label: a.Label, Accuracy: dec.accuracy[a.Worker]})
	}
	label, used, step := dec.posteriors.FirstStep(votes, first, o.rule())
	if step == Stop {
		return replayed{label: label, annotations: used}
	}
	return review(as, used, label, o, labels, truth, rng)
}

// review sends an item to a reviewer after its first used answers: the next recorded answer, or
// a simulated reviewer. Without either, the item keeps fallback.
func review(as []Answer, used int, fallback string, o ReplayOptions, labels []string, truth string, rng *rand.Rand) replayed {
	out := replayed{label: fallback, annotations: used, reviewed: true}
	switch {
	case o.ReviewerAccuracy > 0:
		out.label = simulatedReview(truth, labels, o.ReviewerAccuracy, rng)
	case used < len(as):
		out.label = as[used].Label
	default:
		out.reviewed, out.unreviewed = false, true
	}
	return out
}

// simulatedReview is right with probability accuracy, else a uniformly random other label.
func simulatedReview(truth string, labels []string, accuracy float64, rng *rand.Rand) string {
	if rng.Float64() < accuracy || len(labels) < 2 {
		return truth
	}
	others := slices.DeleteFunc(slices.Clone(labels), func(l string) bool { return l == truth })
	return others[rng.IntN(len(others))]
}

func agree(as []Answer) bool {
	for _, a := range as[1:] {
		if a.Label != as[0].Label {
			return false
		}
	}
	return true
}

// groupByTask returns the answers of each task with a truth, in file order, and those tasks in
// order of first answer.
func groupByTask(answers []Answer, truth map[string]string) (map[string][]Answer, []string) {
	items := map[string][]Answer{}
	var order []string
	for _, a := range answers {
		if _, ok := truth[a.Task]; !ok {
			continue
		}
		if _, seen := items[a.Task]; !seen {
			order = append(order, a.Task)
		}
		items[a.Task] = append(items[a.Task], a)
	}
	return items, order
}

// labelSet is every label of the answers and the truth, in order of first appearance (answers
// first, then the truth's in task order).
func labelSet(answers []Answer, truth map[string]string) []string {
	var labels []string
	seen := map[string]bool{}
	add := func(l string) {
		if !seen[l] {
			seen[l] = true
			labels = append(labels, l)
		}
	}
	for _, a := range answers {
		add(a.Label)
	}
	tasks := make([]string, 0, len(truth))
	for t := range truth {
		tasks = append(tasks, t)
	}
	slices.Sort(tasks)
	for _, t := range tasks {
		add(truth[t])
	}
	return labels
}

// assignHalves splits the items at random into two halves and gives each item the model fitted
// on the other half's answers (the default model when that half is empty).
func assignHalves(deciders []decider, items map[string][]Answer, order []string, labels []string, rng *rand.Rand) {
	half := make([]int, len(order))
	for n, p := range rng.Perm(len(order)) {
		half[p] = n % 2
	}
	var fits [2]decider
	for h := range fits {
		var other []Answer
		for n, task := range order {
			if half[n] != h {
				other = append(other, items[task]...)
			}
		}
		fits[h].snapshot, fits[h].accuracy = FitSnapshot(other)
		if len(other) == 0 {
			fits[h].snapshot = DefaultSnapshot(labels, replayDefaultAccuracy)
		}
		fits[h].posteriors = fits[h].snapshot.Posteriors()
	}
	for n := range order {
		deciders[n] = fits[half[n]]
	}
}
