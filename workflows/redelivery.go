package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
)

// RedeliveryWindow is how many chunks a re-delivery copies at once.
const RedeliveryWindow = 8

// redeliveryChunksPerRun keeps a re-delivery run near 6,000 events.
const redeliveryChunksPerRun = 2000

// RedeliveryInput asks for a project's stored results to be delivered again.
type RedeliveryInput struct {
	ProjectID         string
	Chunks            int
	Redelivery        activities.Redelivery
	ActivityTaskQueue string
	NextChunk         int // set when continuing as new
	StartedAt         int64
}

// RedeliveryWorkflowID names a re-delivery: the same request to the same target is the same
// workflow, and its objects are rewritten with the same bytes.
func RedeliveryWorkflowID(project, id string) string { return "redelivery-" + project + "-" + id }

// RedeliveryWorkflow delivers a finished project's stored results again — to the same place
// when a client lost files, or to another bucket or profile — without re-annotating anything.
func RedeliveryWorkflow(ctx workflow.Context, in RedeliveryInput) (activities.DeliveryManifestResult, error) {
	if in.StartedAt == 0 {
		in.StartedAt = workflow.Now(ctx).UnixNano()
	}
	actx := workflow.WithActivityOptions(ctx, ioActivityOptions(in.ActivityTaskQueue))
	var a *activities.Activities
	done := 0
	for in.NextChunk < in.Chunks {
		if done >= redeliveryChunksPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return activities.DeliveryManifestResult{}, workflow.NewContinueAsNewError(ctx, RedeliveryWorkflow, in)
		}
		var batch []workflow.Future
		for len(batch) < RedeliveryWindow && in.NextChunk < in.Chunks {
			batch = append(batch, workflow.ExecuteActivity(actx, a.DeliverChunk, activities.DeliverChunkInput{
				ProjectID: in.ProjectID, Chunk: in.NextChunk, Redelivery: in.Redelivery,
			}))
			in.NextChunk++
			done++
		}
		for _, f := range batch {
			if err := f.Get(ctx, nil); err != nil {
				return activities.DeliveryManifestResult{}, err
			}
		}
	}
	var res activities.DeliveryManifestResult
	err := workflow.ExecuteActivity(actx, a.WriteDeliveryManifest, activities.DeliveryManifestInput{
		ProjectID: in.ProjectID, Chunks: in.Chunks, CompletedAt: workflow.Now(ctx), Redelivery: in.Redelivery,
	}).Get(ctx, &res)
	return res, err
}
