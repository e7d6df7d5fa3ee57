package activities

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/quality"
)

// The overlap model is fitted on the answers recorded in the store, over the taxonomy in its
// order; before anything is recorded it is the default model.
func TestFitOverlapModelReadsRecordedAnswers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	def := aggregate.DefaultSnapshot(f.sp.Annotation.Taxonomy, quality.DefaultAnnotatorAccuracy)
	before, err := f.acts.FitOverlapModel(ctx, FitOverlapModelInput{ProjectID: "p1", Chunks: []int{0}})
	if err != nil || !reflect.DeepEqual(before, def.Rounded()) {
		t.Fatalf("nothing recorded: %+v, %v; want the default %+v", before, err, def)
	}
	if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: settled(time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC))}); err != nil {
		t.Fatal(err)
	}
	answers, err := f.acts.recordedAnswers(ctx, "p1", 0)
	if err != nil || len(answers) != 4 || answers[3] != (aggregate.Answer{Task: "0/1", Worker: "ann-b", Label: "cat"}) {
		t.Fatalf("recorded answers = %+v, %v", answers, err)
	}
	fitted, err := f.acts.FitOverlapModel(ctx, FitOverlapModelInput{ProjectID: "p1", Chunks: []int{1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fitted.Labels, f.sp.Annotation.Taxonomy) || reflect.DeepEqual(fitted, def) {
		t.Fatalf("fitted = %+v", fitted)
	}
	again, _ := f.acts.FitOverlapModel(ctx, FitOverlapModelInput{ProjectID: "p1", Chunks: []int{1, 0}})
	if !reflect.DeepEqual(again, fitted) {
		t.Fatalf("a retry fitted %+v, then %+v", fitted, again)
	}
}
