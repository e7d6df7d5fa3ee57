package workflows

import (
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"
)

// A chunk that drains early leaves the window: the project starts the next one while it runs
// on, up to maxRunning in all, and still counts every chunk once.
func TestDrainedChunksLeaveTheWindow(t *testing.T) {
	pe := newProjectEnv(t, 95)
	drainsEarly := func(ctx workflow.Context, in ChunkInput) (ChunkSummary, error) {
		pe.started = append(pe.started, in.Chunk)
		if err := workflow.Sleep(ctx, time.Minute); err != nil {
			return ChunkSummary{}, err
		}
		// Twice: the project counts a repeat once.
		for range 2 {
			if err := workflow.SignalExternalWorkflow(ctx, in.ProjectWorkflowID, "", SignalChunkDrained, ChunkDrained{Chunk: in.Chunk}).Get(ctx, nil); err != nil {
				return ChunkSummary{}, err
			}
		}
		if err := workflow.Sleep(ctx, 10*time.Minute); err != nil {
			return ChunkSummary{}, err
		}
		sum := ChunkSummary{Chunk: in.Chunk, ChunkCounts: ChunkCounts{Items: in.Items, Annotations: 2 * in.Items, Agreed: in.Items, Delivered: in.Items}}
		return sum, workflow.SignalExternalWorkflow(ctx, in.ProjectWorkflowID, "", SignalChunkFinished, sum).Get(ctx, nil)
	}
	pe.env.RegisterWorkflowWithOptions(drainsEarly, workflow.RegisterOptions{Name: "ChunkWorkflow", DisableAlreadyRegisteredCheck: true})
	var mid ProjectStatus
	pe.env.RegisterDelayedCallback(func() {
		v, err := pe.env.QueryWorkflow(QueryStatus)
		if err == nil {
			err = v.Get(&mid)
		}
		if err != nil {
			t.Error(err)
		}
	}, 5*time.Minute)
	pe.env.ExecuteWorkflow(ProjectWorkflow, sealed(testWorkflowID, ActionStart, ProjectInput{Spec: testSpec(), Window: 2}))
	var st ProjectStatus
	if err := pe.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if len(mid.Running) != maxRunning(2) {
		t.Fatalf("after 5 minutes %v run; want %d: drained chunks leave the window of 2", mid.Running, maxRunning(2))
	}
	if st.Stage != StageCompleted || st.Done.Chunks != 10 || st.Done.Items != 95 || len(pe.started) != 10 {
		t.Fatalf("status = %+v, started %v", st, pe.started)
	}
}
