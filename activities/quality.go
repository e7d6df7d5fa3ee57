package activities

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/spec"
)

// minChunkAnswers is the fewest answers in a chunk for the chunk's own estimate of a person to
// count.
const minChunkAnswers = 20

// accuracies estimates each person's accuracy for the project's type: annotators from their
// records on earlier projects (quality.EstimatedAccuracy), refined by the chunk's own answers
// where it has enough of them; reviewers from their record of gold arbitrations. For a
// single-label chunk it also returns the model of the crowd fitted on the chunk's answers
// (chunkSkills), nil otherwise.
func (a *Activities) accuracies(ctx context.Context, sp spec.Project, settled []ItemResult) (map[string]float64, *aggregate.Snapshot, error) {
	people := map[string]bool{}
	for _, r := range settled {
		for _, c := range r.Annotations {
			people[c.Worker] = true
		}
	}
	out, err := a.reviewerAccuracies(ctx, sp, settled, people)
	if err != nil {
		return nil, nil, err
	}
	chunkSkill, chunkAnswers, model := chunkSkills(sp, settled)
	for w := range people {
		acc, n, err := a.Scores.EstimatedAccuracy(ctx, a.Store, sp.Annotation.Type, w, sp.ID)
		if err != nil {
			return nil, nil, err
		}
		// A person with a handful of answers in the chunk says little about their accuracy.
		if skill, ok := chunkSkill[w]; ok && chunkAnswers[w] >= minChunkAnswers {
			m := float64(chunkAnswers[w])
			acc = (acc*(quality.PriorWeight+float64(n)) + skill*m) / (quality.PriorWeight + float64(n) + m)
		}
		out[w] = acc
	}
	return out, model, nil
}

// reviewerAccuracies estimates the reviewers who are not also annotators of the chunk. Reviewers
// weigh with their record of gold arbitrations where they have one; without one the caller's
// reviewer default applies, not the newcomer prior of annotators.
func (a *Activities) reviewerAccuracies(ctx context.Context, sp spec.Project, settled []ItemResult, annotators map[string]bool) (map[string]float64, error) {
	out := map[string]float64{}
	for _, r := range settled {
		if r.Arbitration == nil || annotators[r.Arbitration.Worker] {
			continue
		}
		w := r.Arbitration.Worker
		if _, done := out[w]; done {
			continue
		}
		acc, n, err := a.Scores.Estimate(ctx, a.Store, sp.Annotation.Type, w, sp.ID, quality.DefaultReviewerAccuracy)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out[w] = acc
		}
	}
	return out, nil
}

// chunkSkills lets a single-label chunk's own answers speak: the hierarchical Dawid–Skene model
// of `quality aggregate --method best` estimates each person's accuracy on this chunk, later
// weighed against their record by the number of answers behind each. It returns the estimates,
// each person's answers in the chunk and the model's snapshot over the taxonomy (the class prior
// and the crowd's confusion, for the delivered confidence: the default model when a class has no
// answer in the chunk, none below minChunkAnswers answers per class); nothing for other types.
func chunkSkills(sp spec.Project, settled []ItemResult) (map[string]float64, map[string]int, *aggregate.Snapshot) {
	chunkAnswers := map[string]int{}
	if sp.Annotation.Type != label.SingleLabelName {
		return nil, chunkAnswers, nil
	}
	var answers []aggregate.Answer
	for _, r := range settled {
		for _, c := range r.Annotations {
			if class := label.ClassOf(c.Answer); slices.Contains(sp.Annotation.Taxonomy, class) {
				answers = append(answers, aggregate.Answer{Task: strconv.Itoa(r.Item), Worker: c.Worker, Label: class})
				chunkAnswers[c.Worker]++
			}
		}
	}
	if len(answers) == 0 {
		return nil, chunkAnswers, nil
	}
	// The skill is the prior-weighted share of answers right, which is what the overlap weighs.
	// On a chunk whose items nearly all share one class it stays near the truth where
	// Dawid–Skene's, with a free row per person and class, reads low
	// (TestBestSkillOnNearlyUnanimousChunks).
	fit, skills := aggregate.FitSnapshot(answers)
	if len(answers) < minChunkAnswers*len(sp.Annotation.Taxonomy) {
		// Too few answers to say how the crowd mistakes each class for the others.
		return skills, chunkAnswers, nil
	}
	model := fit.Over(sp.Annotation.Taxonomy, quality.DefaultAnnotatorAccuracy)
	return skills, chunkAnswers, &model
}

// payBonuses writes one ledger entry per person who earned the project's quality bonus. The key
// and bytes depend only on the project, its report and its completion, so a retry changes nothing.
func (a *Activities) payBonuses(ctx context.Context, sp spec.Project, r quality.Report, completed time.Time) error {
	b := sp.Pay.QualityBonus
	amount := sp.BonusAmount()
	if b.Amount == "" || amount <= 0 {
		return nil
	}
	month := completed.In(a.location()).Format("2006-01")
	people := make([]string, 0, len(r.People))
	for w := range r.People {
		people = append(people, w)
	}
	sort.Strings(people)
	var entries []ledger.Entry
	for _, w := range people {
		p := r.People[w]
		if p.GoldAnswers < max(1, b.MinGoldAnswers) || float64(p.GoldCorrect) < b.MinGoldAccuracy*float64(p.GoldAnswers) {
			continue
		}
		entries = append(entries, ledger.Entry{ID: ledger.BonusID(sp.ID, w), Worker: w, Project: sp.ID, Item: "quality-bonus",
			Role: ledger.Bonus, Amount: amount, Currency: sp.Pay.Currency, Month: month, AcceptedAt: completed.UTC()})
	}
	if len(entries) == 0 {
		return nil
	}
	data, err := ledger.Encode(entries)
	if err != nil {
		return err
	}
	return a.Store.Put(ctx, layout.BonusKey(month, sp.ID), data)
}

// recordScores keeps each person's record on this project for later projects' estimates.
func (a *Activities) recordScores(ctx context.Context, sp spec.Project, r quality.Report) error {
	for w, p := range r.People {
		if p.Answers+p.GoldAnswers+p.GoldArbitrations == 0 {
			continue
		}
		if err := quality.SaveScore(ctx, a.Store, sp.Annotation.Type, w, sp.ID, quality.RecordOf(p)); err != nil {
			return err
		}
	}
	return nil
}
