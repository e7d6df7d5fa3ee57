package aggregate

import (
	"math"
	"slices"
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
		gamma := s.skill(v.Accuracy)
		for j := range logp {
			s.temper(j, gamma, row)
			logp[j] += math.Log(row[l])
		}
	}
	normalize(logp)
	return logp
}

// Decide returns the most probable label given the votes, its probability, and whether that
// reaches target. Ties go to the label voted first, then to the first of s.Labels.
func (s Snapshot) Decide(votes []Vote, target float64) (label string, confidence float64, settled bool) {
	if len(s.Labels) == 0 {
		return "", 0, false
	}
	p := s.Posterior(votes)
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
	return s.Labels[best], p[best], p[best] >= target
}

// temper writes row j of the crowd's confusion at skill gamma into out.
func (s Snapshot) temper(j int, gamma float64, out []float64) {
	top := math.Inf(-1)
	for l, p := range s.Crowd[j] {
		out[l] = gamma * math.Log(p)
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

// accuracyAt is Σ_j Prior[j]·c[j][j] at skill gamma.
func (s Snapshot) accuracyAt(gamma float64) float64 {
	row := make([]float64, len(s.Labels))
	acc := 0.0
	for j, p := range s.Prior {
		s.temper(j, gamma, row)
		acc += p * row[j]
	}
	return acc
}

// skill is the γ whose accuracy is the one given, by bisection on [0, bestSkillMax]; 1 (the
// crowd) when it is unknown.
func (s Snapshot) skill(accuracy float64) float64 {
	if accuracy <= 0 {
		return 1
	}
	lo, hi := 0.0, bestSkillMax
	if accuracy <= s.accuracyAt(lo) {
		return lo
	}
	if accuracy >= s.accuracyAt(hi) {
		return hi
	}
	for range 50 {
		mid := (lo + hi) / 2
		if s.accuracyAt(mid) < accuracy {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
