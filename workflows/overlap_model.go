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

// The model of single-label dynamic overlap. The project fits it on the answers its chunks have
// recorded (FitOverlapModel reads them from the store; only the K + K² numbers of the model come
// back) and hands it to each chunk it starts; the chunk decides each item with
// aggregate.Snapshot.Settle, the call `labelflow quality replay` makes.

// Refits: after the first finished chunk, then each time as many chunks have finished since the
// last fit as before it (1, 2, 4, 8, …), at most overlapModelEvery; each on the answers of the
// overlapModelChunks chunks finished last, so that the model follows the crowd of the day and
// one fit reads a bounded amount.
const (
	overlapModelEvery  = 10
	overlapModelChunks = 50
	// overlapModelMaxLabels bounds what each chunk start carries (K + K² numbers: 420 at 20
	// labels, under 10 KB). Larger taxonomies keep the one-coin posterior.
	overlapModelMaxLabels = 20
)

// OverlapModel is the project's model for dynamic overlap and the number of finished chunks it
// was fitted on.
type OverlapModel struct {
	Snapshot aggregate.Snapshot
	Chunks   int
}

// setOverlapModel gives a single-label dynamic-overlap chunk the project's model, refitting it
// first when enough chunks have finished since the last fit; before any has, it is the default
// model (everyone right with the default accuracy).
func (p *project) setOverlapModel(ctx workflow.Context, s *ChunkSettings) error {
	sp := p.in.Spec
	if sp.Quality.Overlap.Mode != "dynamic" || sp.Annotation.Type != label.SingleLabelName ||
		len(sp.Annotation.Taxonomy) > overlapModelMaxLabels || !versionOverlapModel.enabled(ctx) {
		return nil
	}
	m, done := p.st.Overlap, p.st.Done.Chunks
	switch {
	case m == nil:
		m = &OverlapModel{Snapshot: aggregate.DefaultSnapshot(sp.Annotation.Taxonomy, quality.DefaultAnnotatorAccuracy)}
	case done-m.Chunks >= min(max(m.Chunks, 1), overlapModelEvery):
		in := activities.FitOverlapModelInput{ProjectID: sp.ID, Chunks: p.finishedChunks(overlapModelChunks)}
		actx := workflow.WithActivityOptions(ctx, ioActivityOptions(p.in.ActivityTaskQueue))
		var a *activities.Activities
		var fitted aggregate.Snapshot
		if err := workflow.ExecuteActivity(actx, a.FitOverlapModel, in).Get(ctx, &fitted); err != nil {
			return err
		}
		m = &OverlapModel{Snapshot: fitted, Chunks: done}
	}
	p.st.Overlap = m
	s.OverlapModel = &m.Snapshot
	s.OverlapMinGain = aggregate.DefaultMinGain
	if g := sp.Quality.Overlap.MinGain; g != nil {
		s.OverlapMinGain = *g
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
	if s.OverlapModel == nil || s.Overlap.Mode != "dynamic" || s.AnnotationType != label.SingleLabelName {
		return false
	}
	return versionOverlapModel.enabled(ctx)
}

// modelSettles decides an item with the project's model from its answers so far, each weighing
// with its annotator's estimated accuracy when they claimed (0, unknown, weighs as the crowd's).
// When the stopping rule says so it returns the decided answer: the agreeing answers merged.
func (c *chunk) modelSettles(as []Contribution) (label.Answer, bool) {
	votes := make([]aggregate.Vote, 0, len(as))
	for _, a := range as {
		votes = append(votes, aggregate.Vote{Label: classOf(a.Answer), Accuracy: a.Accuracy})
	}
	rule := aggregate.StopRule{Target: c.in.Settings.Overlap.ConfidenceTarget, MinGain: c.in.Settings.OverlapMinGain}
	decided, _, ok := c.in.Settings.OverlapModel.Settle(votes, rule)
	if !ok {
		return nil, false
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
			return nil, false
		}
		return c.typ.Canonical(data), true
	}
	return c.typ.Consolidate(group), true
}

// classOf is the class a single-label answer names ("" when it names none).
func classOf(a label.Answer) string {
	var class string
	err := json.Unmarshal(a, &class) //workflowcheck:ignore decoding a string depends on nothing but its bytes
	if err != nil {
		return ""
	}
	return class
}
