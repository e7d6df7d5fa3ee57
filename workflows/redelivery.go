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
	r := &redelivery{
		in:   in,
		actx: workflow.WithActivityOptions(ctx, deliveryActivityOptions(in.ActivityTaskQueue)),
		sel:  workflow.NewSelector(ctx),
	}
	if err := r.deliverChunks(ctx); err != nil {
		return activities.DeliveryManifestResult{}, err
	}
	var a *activities.Activities
	var res activities.DeliveryManifestResult
	err := workflow.ExecuteActivity(r.actx, a.WriteDeliveryManifest, activities.DeliveryManifestInput{
		ProjectID: in.ProjectID, Chunks: in.Chunks, CompletedAt: workflow.Now(ctx), Redelivery: in.Redelivery,
	}).Get(ctx, &res)
	return res, err
}

// redelivery copies chunks in a sliding window: a new chunk starts as soon as any running one
// is done. Chunks are counted as done only in order (in.NextChunk), so a continued run never
// skips one.
type redelivery struct {
	in      RedeliveryInput
	actx    workflow.Context
	sel     workflow.Selector
	pending []workflow.Future // running copies, in chunk order from in.NextChunk
	started int               // copies this run started
	failure error             // the first copy that failed
}

// deliverChunks copies every chunk not done yet, or returns a continue-as-new error once the
// run has started its share.
func (r *redelivery) deliverChunks(ctx workflow.Context) error {
	for r.unstarted() || len(r.pending) > 0 {
		r.fillWindow(ctx)
		if len(r.pending) == 0 {
			return nil
		}
		r.sel.Select(ctx)
		if r.failure != nil {
			return r.failure
		}
		for len(r.pending) > 0 && r.pending[0].IsReady() {
			r.pending = r.pending[1:]
			r.in.NextChunk++
		}
		if r.started >= redeliveryChunksPerRun && len(r.pending) == 0 && r.in.NextChunk < r.in.Chunks {
			workflow.GetLogger(ctx).Info("Redelivery continues as new", "Project", r.in.ProjectID, "NextChunk", r.in.NextChunk, "Chunks", r.in.Chunks)
			return workflow.NewContinueAsNewError(ctx, RedeliveryWorkflow, r.in)
		}
	}
	return nil
}

// unstarted reports chunks that no copy has started yet.
func (r *redelivery) unstarted() bool { return r.in.NextChunk+len(r.pending) < r.in.Chunks }

// fillWindow starts copies until the window is full, every chunk is started, or the run has
// started its share.
func (r *redelivery) fillWindow(ctx workflow.Context) {
	var a *activities.Activities
	for len(r.pending) < RedeliveryWindow && r.unstarted() && r.started < redeliveryChunksPerRun {
		f := workflow.ExecuteActivity(r.actx, a.DeliverChunk, activities.DeliverChunkInput{
			ProjectID: r.in.ProjectID, Chunk: r.in.NextChunk + len(r.pending), Redelivery: r.in.Redelivery,
		})
		r.pending = append(r.pending, f)
		r.started++
		r.sel.AddFuture(f, func(f workflow.Future) {
			if err := f.Get(ctx, nil); err != nil && r.failure == nil {
				r.failure = err
			}
		})
	}
}
