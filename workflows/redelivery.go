package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
)

// RedeliveryWindow is how many chunks a re-delivery copies at once.
const RedeliveryWindow = 32

// redeliveryChunksPerRun keeps a re-delivery run near 6,000 events.
const redeliveryChunksPerRun = 2000

// redeliveryBatch is how many consecutive chunks one DeliverChunks copies (versionDeliveryBatches):
// a few activities carry a whole project, each copying its chunks several at a time. Activities
// beyond the few a worker is polling for at that moment wait in the task queue's backlog, so
// fewer, larger ones start sooner.
const redeliveryBatch = 50

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
		in:    in,
		actx:  workflow.WithActivityOptions(ctx, deliveryActivityOptions(in.ActivityTaskQueue)),
		sel:   workflow.NewSelector(ctx),
		batch: 1,
	}
	if versionDeliveryBatches.enabled(ctx) {
		r.batch = redeliveryBatch
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

// redelivery copies chunks in a sliding window: a new copy starts as soon as any running one
// is done. Chunks are counted as done only in order (in.NextChunk), so a continued run never
// skips one. Each copy is of batch consecutive chunks: one DeliverChunk each in runs recorded
// before versionDeliveryBatches, a DeliverChunks of up to redeliveryBatch since.
type redelivery struct {
	in      RedeliveryInput
	actx    workflow.Context
	sel     workflow.Selector
	batch   int
	pending []chunkCopy // running copies, in chunk order from in.NextChunk
	queued  int         // chunks the pending copies hold
	started int         // chunks this run started copying
	failure error       // the first copy that failed
}

// chunkCopy is one running copy of consecutive chunks.
type chunkCopy struct {
	f      workflow.Future
	chunks int
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
		for len(r.pending) > 0 && r.pending[0].f.IsReady() {
			r.in.NextChunk += r.pending[0].chunks
			r.queued -= r.pending[0].chunks
			r.pending = r.pending[1:]
		}
		if r.started >= redeliveryChunksPerRun && len(r.pending) == 0 && r.in.NextChunk < r.in.Chunks {
			workflow.GetLogger(ctx).Info("Redelivery continues as new", "Project", r.in.ProjectID, "NextChunk", r.in.NextChunk, "Chunks", r.in.Chunks)
			return workflow.NewContinueAsNewError(ctx, RedeliveryWorkflow, r.in)
		}
	}
	return nil
}

// unstarted reports chunks that no copy has started yet.
func (r *redelivery) unstarted() bool { return r.in.NextChunk+r.queued < r.in.Chunks }

// fillWindow starts copies until the window is full, every chunk is started, or the run has
// started its share.
func (r *redelivery) fillWindow(ctx workflow.Context) {
	for len(r.pending) < RedeliveryWindow && r.unstarted() && r.started < redeliveryChunksPerRun {
		first := r.in.NextChunk + r.queued
		n := min(r.batch, r.in.Chunks-first, redeliveryChunksPerRun-r.started)
		f := r.startCopy(first, n)
		r.pending = append(r.pending, chunkCopy{f: f, chunks: n})
		r.queued += n
		r.started += n
		r.sel.AddFuture(f, func(f workflow.Future) {
			if err := f.Get(ctx, nil); err != nil && r.failure == nil {
				r.failure = err
			}
		})
	}
}

// startCopy starts the copy of n chunks from first: DeliverChunk for one chunk in runs without
// batches, DeliverChunks otherwise.
func (r *redelivery) startCopy(first, n int) workflow.Future {
	var a *activities.Activities
	if r.batch == 1 {
		return workflow.ExecuteActivity(r.actx, a.DeliverChunk, activities.DeliverChunkInput{
			ProjectID: r.in.ProjectID, Chunk: first, Redelivery: r.in.Redelivery,
		})
	}
	return workflow.ExecuteActivity(r.actx, a.DeliverChunks, activities.DeliverChunksInput{
		ProjectID: r.in.ProjectID, First: first, Count: n, Redelivery: r.in.Redelivery,
	})
}
