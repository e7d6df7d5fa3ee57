package aggregate

import (
	"math"
	"slices"
	"strconv"
)

// Snapshot is Best's fitted model reduced to what deciding one item needs: the labels, the class
// prior and the crowd's confusion. It is small (K + K² numbers), JSON-serialisable and
// deterministic, so a workflow can carry it and decide with it, and `quality replay` decides
// with the same code.
//
// A vote weighs with its author's accuracy, as in the pipeline: the worker's confusion is the
// crowd's at their skill, c[j][l] ∝ Crowd[j][l]^γ (Best's centre), with γ the skill at which
// their accuracy over the class prior, Σ_j Prior[j]·c[j][j], is the one given. A vote with no
// known accuracy (0) weighs as the crowd's.
type Snapshot struct {
	Labels []string    `json:"labels"`
	Prior  []float64   `json:"prior"`
	Crowd  [][]float64 `json:"crowd"` // Crowd[j][l]: how often an answer to a task of label j is l
}

// Vote is one answer to the item being decided, and the accuracy of its author (0 if unknown).
type Vote struct {
	Label    string  `json:"label"`
	Accuracy float64 `json:"accuracy"`
}

// DefaultSnapshot is the model before anything is known about a crowd: a uniform prior over the
// labels and a crowd right with the given accuracy, its mistakes spread evenly. Votes weigh with
// their accuracy as in the one-coin model, so it decides as the pipeline did before it had a
// fitted model.
func DefaultSnapshot(labels []string, accuracy float64) Snapshot {
	k := len(labels)
	s := Snapshot{Labels: slices.Clone(labels), Prior: make([]float64, k), Crowd: make([][]float64, k)}
	for j := range labels {
		s.Prior[j] = 1 / float64(k)
		s.Crowd[j] = make([]float64, k)
		for l := range labels {
			s.Crowd[j][l] = (1 - accuracy) / float64(max(k-1, 1))
		}
		s.Crowd[j][j] = accuracy
	}
	return s
}

// FitSnapshot fits Best to the answers and returns its snapshot and each worker's estimated
// accuracy (Result.Skill), the two things deciding an item needs.
func FitSnapshot(answers []Answer) (Snapshot, map[string]float64) {
	d := newDataset(answers)
	if len(d.tasks) == 0 {
		return Snapshot{}, map[string]float64{}
	}
	m := d.best()
	s := m.snapshot()
	return s, m.result("best").Skill
}

// FitSnapshotOver fits the snapshot of the answers over the given labels, in their order (so
// that ties go the same way whatever order the answers came in). Answers with other labels are
// left out. With no answer left, or a label nobody gave (nothing to estimate its row from), it
// is DefaultSnapshot(labels, accuracy).
func FitSnapshotOver(answers []Answer, labels []string, accuracy float64) Snapshot {
	kept := slices.DeleteFunc(slices.Clone(answers), func(a Answer) bool { return !slices.Contains(labels, a.Label) })
	fit, _ := FitSnapshot(kept)
	return fit.Over(labels, accuracy)
}

// Over is the snapshot over the given labels, in their order; DefaultSnapshot(labels, accuracy)
// unless it has exactly those labels (a label nobody gave has no row to estimate).
func (s Snapshot) Over(labels []string, accuracy float64) Snapshot {
	at := make([]int, len(labels))
	for j, l := range labels {
		at[j] = slices.Index(s.Labels, l)
		if at[j] < 0 {
			return DefaultSnapshot(labels, accuracy)
		}
	}
	if len(s.Labels) != len(labels) || !s.whole() {
		return DefaultSnapshot(labels, accuracy)
	}
	out := Snapshot{Labels: slices.Clone(labels), Prior: make([]float64, len(labels)), Crowd: make([][]float64, len(labels))}
	for j := range labels {
		out.Prior[j] = s.Prior[at[j]]
		out.Crowd[j] = make([]float64, len(labels))
		for l := range labels {
			out.Crowd[j][l] = s.Crowd[at[j]][at[l]]
		}
	}
	return out
}

// Rounded is the snapshot with every number to 6 significant digits: far finer than the
// estimates, and a third of the bytes in JSON, where a workflow carries it.
func (s Snapshot) Rounded() Snapshot {
	round := func(v float64) float64 {
		r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
		return r
	}
	out := Snapshot{Labels: slices.Clone(s.Labels), Prior: make([]float64, len(s.Prior)), Crowd: make([][]float64, len(s.Crowd))}
	for j, p := range s.Prior {
		out.Prior[j] = round(p)
	}
	for j, row := range s.Crowd {
		out.Crowd[j] = make([]float64, len(row))
		for l, v := range row {
			out.Crowd[j][l] = round(v)
		}
	}
	return out
}

// snapshot is the model's class prior and its crowd confusion: the answers' expected counts
// pooled over workers under the final posteriors, with Best's crowd prior.
func (m *model) snapshot() Snapshot {
	f := newHierFit(m, nil)
	n, _ := m.counts()
	f.setCrowd(n)
	k := m.k
	s := Snapshot{Labels: slices.Clone(m.d.labels), Prior: slices.Clone(m.prior), Crowd: make([][]float64, k)}
	for j := range s.Crowd {
		s.Crowd[j] = slices.Clone(f.crowd[j*k : (j+1)*k])
	}
	return s
}

// Posterior returns the probability of each of s.Labels given the votes. Votes for a label the
// snapshot does not know are left out.
func (s Snapshot) Posterior(votes []Vote) []float64 {
	logs := s.logCrowd()
	return s.posterior(votes, logs, func(accuracy float64) float64 { return s.skillOver(logs, accuracy) })
}

// posterior is Posterior with the crowd's logarithms and each vote's skill given.
func (s Snapshot) posterior(votes []Vote, logs [][]float64, skill func(accuracy float64) float64) []float64 {
	k := len(s.Labels)
	logp := make([]float64, k)
	for j, p := range s.Prior {
		logp[j] = math.Log(p)
	}
	row := make([]float64, k)
	for _, v := range votes {
		l := slices.Index(s.Labels, v.Label)
		if l < 0 {
			continue
		}
		gamma := skill(v.Accuracy)
		for j := range logp {
			temper(logs[j], gamma, row)
			logp[j] += math.Log(row[l])
		}
	}
	normalize(logp)
	return logp
}

// Posteriors gives the posteriors of many items under one snapshot, each accuracy's skill found
// once: the items of a chunk are answered by a few dozen people, and finding a skill is most of
// the work. Not safe for concurrent use.
type Posteriors struct {
	s      Snapshot
	logs   [][]float64
	skills map[float64]float64
}

// Posteriors returns the snapshot's Posteriors.
func (s Snapshot) Posteriors() *Posteriors {
	return &Posteriors{s: s, logs: s.logCrowd(), skills: map[float64]float64{}}
}

// Of is Snapshot.Posterior of the votes.
func (p *Posteriors) Of(votes []Vote) []float64 {
	return p.s.posterior(votes, p.logs, p.skill)
}

// Probability is the posterior probability of label given the votes; false when the snapshot
// does not know the label or is not whole (K labels, K priors, K rows of K rates).
func (p *Posteriors) Probability(label string, votes []Vote) (float64, bool) {
	at := slices.Index(p.s.Labels, label)
	if at < 0 || !p.s.whole() {
		return 0, false
	}
	return p.Of(votes)[at], true
}

// whole reports a snapshot with a prior and a row of the crowd's rates for each label.
func (s Snapshot) whole() bool {
	k := len(s.Labels)
	if len(s.Prior) != k || len(s.Crowd) != k {
		return false
	}
	for _, row := range s.Crowd {
		if len(row) != k {
			return false
		}
	}
	return true
}

func (p *Posteriors) skill(accuracy float64) float64 {
	gamma, ok := p.skills[accuracy]
	if !ok {
		gamma = p.s.skillOver(p.logs, accuracy)
		p.skills[accuracy] = gamma
	}
	return gamma
}

// Decide returns the most probable label given the votes, its probability, and whether that
// reaches target. Ties go to the label voted first, then to the first of s.Labels.
func (s Snapshot) Decide(votes []Vote, target float64) (label string, confidence float64, settled bool) {
	return s.Settle(votes, StopRule{Target: target})
}

// StopRule says when dynamic overlap stops asking for answers to an item: once its best label's
// posterior reaches Target, or once more answers are not worth their cost: when neither one nor
// two more answers (by annotators as accurate as the crowd) are expected to raise the probability
// that the decision is right by MinGain per answer. The second condition ends the items that
// no affordable number of answers would make sure (items that fool half the crowd), which a
// target alone keeps asking about until MaxAnnotations and a reviewer.
//
// With Reviewer, a reviewer is one more choice: the item goes to one now, before
// MaxAnnotations, when what a review is expected to add per annotation's price beats what more
// answers are (and MinGain). A reviewer whose answer is final makes the label right with the
// reviewer's accuracy, whatever the crowd said: worth it for the items a crowd is split on, and
// for items that fool the crowd but not a trained reviewer.
type StopRule struct {
	Target   float64       `json:"target"`
	MinGain  float64       `json:"min_gain,omitempty"` // 0: the target alone
	Reviewer *ReviewOption `json:"reviewer,omitempty"` // nil: a reviewer only at MaxAnnotations
}

// ReviewOption is a reviewer as a choice of the stopping rule: right with Accuracy, at the price
// of Cost annotations.
type ReviewOption struct {
	Accuracy float64 `json:"accuracy"`
	Cost     float64 `json:"cost"`
}

// DefaultMinGain is the gain per answer below which dynamic overlap stops: one more answer is
// asked for only if it is expected to make one more item in fifty right. The README's "Offline
// aggregation" section has the replays behind it.
const DefaultMinGain = 0.02

// Step is what the stopping rule does next with an item.
type Step int

const (
	More   Step = iota // ask one more annotator
	Stop               // the decided label is final
	Review             // send the item to a reviewer now
)

// Settle returns the most probable label given the votes, its probability, and whether the rule
// stops there. Ties go to the label voted first, then to the first of s.Labels.
func (s Snapshot) Settle(votes []Vote, rule StopRule) (label string, confidence float64, settled bool) {
	label, confidence, step := s.Next(votes, rule)
	return label, confidence, step == Stop
}

// Next returns the most probable label given the votes, its probability, and what the rule does
// next: stop there, ask one more annotator, or send the item to a reviewer. Ties go to the label
// voted first, then to the first of s.Labels.
func (s Snapshot) Next(votes []Vote, rule StopRule) (label string, confidence float64, step Step) {
	if len(s.Labels) == 0 {
		return "", 0, More
	}
	return s.next(votes, rule, s.Posterior(votes))
}

// Next is Snapshot.Next with the skills found once per accuracy.
func (p *Posteriors) Next(votes []Vote, rule StopRule) (label string, confidence float64, step Step) {
	if len(p.s.Labels) == 0 {
		return "", 0, More
	}
	return p.s.next(votes, rule, p.Of(votes))
}

// next is Next at posterior p.
func (s Snapshot) next(votes []Vote, rule StopRule, p []float64) (label string, confidence float64, step Step) {
	best := s.decision(votes, p)
	label, confidence = s.Labels[best], p[best]
	if confidence >= rule.Target {
		return label, confidence, Stop
	}
	if rule.MinGain <= 0 && rule.Reviewer == nil {
		return label, confidence, More
	}
	more := max(s.gain(votes, p, 1), s.gain(votes, p, 2)/2) // per answer
	if r := rule.Reviewer; r != nil && r.Cost > 0 {
		if review := (r.Accuracy - confidence) / r.Cost; review > more && review >= rule.MinGain {
			return label, confidence, Review
		}
	}
	if rule.MinGain > 0 && more < rule.MinGain {
		return label, confidence, Stop
	}
	return label, confidence, More
}

// FirstStep takes the votes one at a time, as they arrive, and returns the label decided when
// the rule first stops or sends the item to a reviewer, after at least first votes, how many
// votes that took, and the step; when it does neither, the label decided on all the votes and
// More. The pipeline's dynamic overlap makes the same calls to Next as each answer comes in.
func (s Snapshot) FirstStep(votes []Vote, first int, rule StopRule) (label string, used int, step Step) {
	return s.Posteriors().FirstStep(votes, first, rule)
}

// FirstStep is Snapshot.FirstStep with the skills found once per accuracy.
func (p *Posteriors) FirstStep(votes []Vote, first int, rule StopRule) (label string, used int, step Step) {
	for n := max(first, 1); n <= len(votes); n++ {
		if label, _, step = p.Next(votes[:n], rule); step != More {
			return label, n, step
		}
	}
	label, _, _ = p.Next(votes, rule)
	return label, len(votes), More
}

// decision is the label decided at posterior p: the most probable, ties to the label voted first,
// then to the first of s.Labels.
func (s Snapshot) decision(votes []Vote, p []float64) int {
	best := -1
	for _, v := range votes {
		if l := slices.Index(s.Labels, v.Label); l >= 0 && (best < 0 || p[l] > p[best]) {
			best = l
		}
	}
	for l := range p {
		if best < 0 || p[l] > p[best] {
			best = l
		}
	}
	return best
}

// gain is the expected rise in the probability that the decision is right, from now (posterior
// p after the votes) to after more answers by annotators as accurate as the crowd.
func (s Snapshot) gain(votes []Vote, p []float64, more int) float64 {
	return s.expectedRight(votes, p, more) - p[s.decision(votes, p)]
}

// expectedRight is the expected posterior of the label decided after more answers by annotators
// as accurate as the crowd: the sum, over every sequence of answers, of its probability times
// the posterior of the label then decided. Each answer l updates the posterior by the crowd's
// column, p'[j] ∝ p[j]·Crowd[j][l], so a look two answers ahead costs K³ steps.
func (s Snapshot) expectedRight(votes []Vote, p []float64, more int) float64 {
	if more == 0 {
		return p[s.decision(votes, p)]
	}
	next := make([]float64, len(p))
	expected := 0.0
	for l, label := range s.Labels {
		pl := 0.0 // P(next answer = l | votes)
		for j, pj := range p {
			next[j] = pj * s.Crowd[j][l]
			pl += next[j]
		}
		if pl <= 0 {
			continue
		}
		for j := range next {
			next[j] /= pl
		}
		expected += pl * s.expectedRight(append(slices.Clip(votes), Vote{Label: label}), next, more-1)
	}
	return expected
}

// logCrowd is the logarithm of each of the crowd's rates.
func (s Snapshot) logCrowd() [][]float64 {
	logs := make([][]float64, len(s.Crowd))
	for j, row := range s.Crowd {
		logs[j] = make([]float64, len(row))
		for l, p := range row {
			logs[j][l] = math.Log(p)
		}
	}
	return logs
}

// temper writes a row of the crowd's confusion, given by its logarithms, at skill gamma into out.
func temper(logRow []float64, gamma float64, out []float64) {
	top := math.Inf(-1)
	for l, lp := range logRow {
		out[l] = gamma * lp
		top = max(top, out[l])
	}
	sum := 0.0
	for l := range out {
		out[l] = math.Exp(out[l] - top)
		sum += out[l]
	}
	for l := range out {
		out[l] /= sum
	}
}

// accuracyAt is Σ_j Prior[j]·c[j][j] at skill gamma, the crowd given by its logarithms.
func (s Snapshot) accuracyAt(logs [][]float64, gamma float64) float64 {
	row := make([]float64, len(s.Labels))
	acc := 0.0
	for j, p := range s.Prior {
		temper(logs[j], gamma, row)
		acc += p * row[j]
	}
	return acc
}

// skillOver is the γ whose accuracy is the one given, by bisection on [0, bestSkillMax]; 1 (the
// crowd) when it is unknown. The crowd is given by its logarithms (logCrowd).
func (s Snapshot) skillOver(logs [][]float64, accuracy float64) float64 {
	if accuracy <= 0 {
		return 1
	}
	lo, hi := 0.0, bestSkillMax
	if accuracy <= s.accuracyAt(logs, lo) {
		return lo
	}
	if accuracy >= s.accuracyAt(logs, hi) {
		return hi
	}
	for range 50 {
		mid := (lo + hi) / 2
		if s.accuracyAt(logs, mid) < accuracy {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// logLikelihood is the log-probability of d's answers under the snapshot, every answer weighing
// as the crowd's and the true labels summed out. Labels the snapshot does not know are left out.
func (s Snapshot) logLikelihood(d *dataset) float64 {
	index := make([]int, len(d.labels))
	for l, name := range d.labels {
		index[l] = slices.Index(s.Labels, name)
	}
	lp := make([]float64, len(s.Labels))
	ll := 0.0
	for i := range d.tasks {
		for j := range lp {
			lp[j] = math.Log(s.Prior[j])
			for a := d.start[i]; a < d.start[i+1]; a++ {
				if l := index[d.al[a]]; l >= 0 {
					lp[j] += math.Log(s.Crowd[j][l])
				}
			}
		}
		ll += logSumExp(lp)
	}
	return ll
}
