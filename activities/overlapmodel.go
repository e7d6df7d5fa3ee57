package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/formats"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/store"
)

// FitOverlapModelInput names the recorded chunks whose answers the model is fitted on.
type FitOverlapModelInput struct {
	ProjectID string
	Chunks    []int
}

// FitOverlapModel fits the model dynamic overlap decides single-label items with
// (aggregate.Snapshot: the class prior and the crowd's confusion) on the annotators' answers of
// the project's recorded chunks. Only the snapshot, K + K² numbers, goes back into history; the
// answers stay in the store. With no answer recorded yet, or a class of the taxonomy nobody has
// answered, it is the default model: a uniform prior and annotators right with the default
// accuracy. It only reads, so a retry returns the same model.
func (a *Activities) FitOverlapModel(ctx context.Context, in FitOverlapModelInput) (aggregate.Snapshot, error) {
	sp, err := a.spec(ctx, in.ProjectID)
	if err != nil {
		return aggregate.Snapshot{}, err
	}
	if sp.Annotation.Type != label.SingleLabelName {
		return aggregate.Snapshot{}, invalidInput("project %s: the overlap model is for %s projects, not %s", sp.ID, label.SingleLabelName, sp.Annotation.Type)
	}
	var answers []aggregate.Answer
	for _, chunk := range in.Chunks {
		got, err := a.recordedAnswers(ctx, sp.ID, chunk)
		if err != nil {
			return aggregate.Snapshot{}, err
		}
		answers = append(answers, got...)
	}
	s := aggregate.FitSnapshotOver(answers, sp.Annotation.Taxonomy, quality.DefaultAnnotatorAccuracy)
	return s.Rounded(), nil
}

// recordedAnswers reads the annotators' answers of one recorded chunk, one task per delivered
// line (gold items are not delivered, reviewers' answers are not annotations). A chunk not
// recorded has none.
func (a *Activities) recordedAnswers(ctx context.Context, project string, chunk int) ([]aggregate.Answer, error) {
	key := layout.ResultsKey(project, chunk)
	data, err := a.Store.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("chunk %d: %w", chunk, err)
	}
	lines, err := formats.ParseLines(data)
	if err != nil {
		return nil, invalidInput("%s: %v", key, err)
	}
	var out []aggregate.Answer
	for n, l := range lines {
		task := strconv.Itoa(chunk) + "/" + strconv.Itoa(n)
		for i, raw := range l.Meta.Answers {
			class := label.ClassOf(label.Answer(raw))
			if i >= len(l.Meta.Annotators) || class == "" {
				continue
			}
			out = append(out, aggregate.Answer{Task: task, Worker: l.Meta.Annotators[i], Label: class})
		}
	}
	return out, nil
}
