package workflows

import (
	"encoding/json"
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/quality"
)

// The model of a dynamic-overlap single-label project's crowd: the class prior and the crowd's
// confusion (aggregate.Snapshot). The project fits it on the answers its chunks have recorded
// (FitOverlapModel reads them from the store; only the K + K² numbers of the model come back)
// and hands it to each chunk it starts. The chunk decides each item with
// aggregate.Snapshot.Next, the call `labelflow quality replay` makes, and delivers the model's
// posterior of each label as its confidence (RecordChunkInput.Model). Chunks of other
// single-label projects deliver the posterior of a model fitted on their own answers in
// RecordChunk, at no cost to the project.

// Refits: after the first finished chunk, then each time as many chunks have finished since the
// last fit as before it (1, 2, 4, 8, …), at most crowdModelEvery; each on the answers of the
// crowdModelChunks chunks finished last, so that the model follows the crowd of the day and
// one fit reads a bounded amount.
const (
	crowdModelEvery  = 10
	crowdModelChunks = 50
	// crowdModelMaxLabels bounds what each chunk start carries (K + K² numbers: 420 at 20
	// labels, under 10 KB). Larger taxonomies keep the one-coin posterior.
	crowdModelMaxLabels = 20
)

// CrowdModel is the project's model of its crowd and the number of finished chunks it was
// fitted on.
type CrowdModel struct {
	Snapshot aggregate.Snapshot
	Chunks   int
}

// setCrowdModel gives a single-label dynamic-overlap chunk the project's model, refitting it
// first when enough chunks have finished since the last fit; before any has, it is the default
// model (everyone right with the default accuracy).
func (p *project) setCrowdModel(ctx workflow.Context, s *ChunkSettings) error {
	sp := p.in.Spec
	if sp.Quality.Overlap.Mode != "dynamic" || sp.Annotation.Type != label.SingleLabelName ||
		len(sp.Annotation.Taxonomy) > crowdModelMaxLabels || !versionOverlapModel.enabled(ctx) {
		return nil
	}
	m, done := p.st.CrowdModel, p.st.Done.Chunks
	switch {
	case m == nil:
		m = &CrowdModel{Snapshot: aggregate.DefaultSnapshot(sp.Annotation.Taxonomy, quality.DefaultAnnotatorAccuracy)}
	case done-m.Chunks >= min(max(m.Chunks, 1), crowdModelEvery):
		in := activities.FitOverlapModelInput{ProjectID: sp.ID, Chunks: p.finishedChunks(crowdModelChunks)}
		actx := workflow.WithActivityOptions(ctx, ioActivityOptions(p.in.ActivityTaskQueue))
		var a *activities.Activities
		var fitted aggregate.Snapshot
		if err := workflow.ExecuteActivity(actx, a.FitOverlapModel, in).Get(ctx, &fitted); err != nil {
			return err
		}
		m = &CrowdModel{Snapshot: fitted, Chunks: done}
	}
	p.st.CrowdModel = m
	s.CrowdModel = &m.Snapshot
	s.OverlapMinGain = aggregate.DefaultMinGain
	if g := sp.Quality.Overlap.MinGain; g != nil {
		s.OverlapMinGain = *g
	}
	if perAnnotation, perArbitration := sp.Rates(); sp.Quality.Overlap.EarlyReview && perAnnotation > 0 {
		s.ReviewCost = float64(perArbitration) / float64(perAnnotation)
	}
	return nil
}

// finishedChunks returns up to n of the chunks that have reported back, the latest first.
func (p *project) finishedChunks(n int) []int {
	var out []int
	for c := p.st.NextChunk - 1; c >= 0 && len(out) < n; c-- {
		if !slices.Contains(p.st.Running, c) {
			out = append(out, c)
		}
	}
	return out
}

// decidesWithModel reads whether this run decides single-label dynamic overlap with the
// project's model: runs started since versionOverlapModel whose project sent one.
func (c *chunk) decidesWithModel(ctx workflow.Context) bool {
	s := c.in.Settings
	if s.CrowdModel == nil || s.Overlap.Mode != "dynamic" || s.AnnotationType != label.SingleLabelName {
		return false
	}
	return versionOverlapModel.enabled(ctx)
}

// modelStep decides an item with the project's model from its answers so far, each weighing
// with its annotator's estimated accuracy when they claimed (0, unknown, weighs as the crowd's),
// and returns what the stopping rule does next. When it stops, it returns the decided answer:
// the agreeing answers merged.
func (c *chunk) modelStep(as []Contribution) (label.Answer, aggregate.Step) {
	votes := make([]aggregate.Vote, 0, len(as))
	for _, a := range as {
		votes = append(votes, aggregate.Vote{Label: label.ClassOf(a.Answer), Accuracy: a.Accuracy})
	}
	if c.posteriors == nil {
		c.posteriors = c.in.Settings.CrowdModel.Posteriors()
	}
	decided, _, step := c.posteriors.Next(votes, c.stopRule())
	if step != aggregate.Stop {
		return nil, step
	}
	var group []label.Answer
	for n, v := range votes {
		if v.Label == decided {
			group = append(group, as[n].Answer)
		}
	}
	if len(group) == 0 {
		// The model's prior outweighs every answer given: the label nobody gave is decided.
		data, err := json.Marshal(decided) //workflowcheck:ignore encoding a string depends on nothing but the string
		if err != nil {
			return nil, aggregate.More
		}
		return c.typ.Canonical(data), aggregate.Stop
	}
	return c.typ.Consolidate(group), aggregate.Stop
}

// stopRule is the chunk's dynamic stopping rule. With a review cost, a reviewer is one of its
// choices, as accurate as the reviewers at work in the chunk are on average (the default
// reviewer's accuracy before any has claimed).
func (c *chunk) stopRule() aggregate.StopRule {
	s := c.in.Settings
	rule := aggregate.StopRule{Target: s.Overlap.ConfidenceTarget, MinGain: s.OverlapMinGain}
	if s.ReviewCost > 0 {
		rule.Reviewer = &aggregate.ReviewOption{Accuracy: c.reviewersAccuracy(), Cost: s.ReviewCost}
	}
	return rule
}

// reviewersAccuracy is the mean estimated accuracy of the reviewers the chunk has seen, or the
// default reviewer's.
func (c *chunk) reviewersAccuracy() float64 {
	sum, n := 0.0, 0
	for _, r := range c.st.Reviewers {
		if r.Accuracy > 0 {
			sum += r.Accuracy
			n++
		}
	}
	if n == 0 {
		return quality.DefaultReviewerAccuracy
	}
	return sum / float64(n)
}
