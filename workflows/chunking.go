package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
)

// chunk is the project's first stage: it checks the delivery target, then splits the manifest
// into chunk files in the object store. Only counts and keys come back into history.
func (p *project) chunk(ctx, actx workflow.Context) error {
	var a *activities.Activities
	sp := p.in.Spec
	if err := workflow.ExecuteActivity(actx, a.PrepareProject, activities.PrepareProjectInput{Spec: sp}).Get(ctx, nil); err != nil {
		return err
	}
	in := activities.SplitInput{ProjectID: sp.ID, Source: sp.Source, ChunkSize: sp.ChunkSize,
		GoldSource: sp.Quality.Gold.Source, GoldPerChunk: sp.Quality.Gold.PerChunk}
	if err := workflow.ExecuteActivity(actx, a.SplitManifest, in).Get(ctx, &p.st.Split); err != nil {
		return err
	}
	return p.setStage(ctx, StageAnnotating)
}
