package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
)

// RedeliveryWindow is how many chunks a re-delivery copies at once.
const RedeliveryWindow = 32

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
	// A sliding window: a new chunk starts as soon as any running one is done. Chunks are
	// counted as done only in order, so a continued run never skips one.
	started := 0
	var pending []workflow.Future
	var failure error
	sel := workflow.NewSelector(ctx)
	for in.NextChunk+len(pending) < in.Chunks || len(pending) > 0 {
		for len(pending) < RedeliveryWindow && in.NextChunk+len(pending) < in.Chunks && started < redeliveryChunksPerRun {
			f := workflow.ExecuteActivity(actx, a.DeliverChunk, activities.DeliverChunkInput{
				ProjectID: in.ProjectID, Chunk: in.NextChunk + len(pending), Redelivery: in.Redelivery,
			})
			pending = append(pending, f)
			started++
			sel.AddFuture(f, func(f workflow.Future) {
				if err := f.Get(ctx, nil); err != nil && failure == nil {
					failure = err
				}
			})
		}
		if len(pending) == 0 {
			break
		}
		sel.Select(ctx)
		if failure != nil {
			return activities.DeliveryManifestResult{}, failure
		}
		for len(pending) > 0 && pending[0].IsReady() {
			pending = pending[1:]
			in.NextChunk++
		}
		if started >= redeliveryChunksPerRun && len(pending) == 0 && in.NextChunk < in.Chunks {
			return activities.DeliveryManifestResult{}, workflow.NewContinueAsNewError(ctx, RedeliveryWorkflow, in)
		}
	}
	var res activities.DeliveryManifestResult
	err := workflow.ExecuteActivity(actx, a.WriteDeliveryManifest, activities.DeliveryManifestInput{
		ProjectID: in.ProjectID, Chunks: in.Chunks, CompletedAt: workflow.Now(ctx), Redelivery: in.Redelivery,
	}).Get(ctx, &res)
	return res, err
}
