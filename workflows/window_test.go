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

// The gateways' crowd reports open one chunk per PeoplePerChunk people, never fewer than the
// configured window and at most maxCrowdWindow; malformed reports are ignored.
func TestCrowdReportsSizeTheWindow(t *testing.T) {
	pe := newProjectEnv(t, 400) // 40 chunks of 10, each running 8 to 10 minutes
	readings := map[string]ProjectStatus{}
	read := func(name string, at time.Duration) {
		pe.env.RegisterDelayedCallback(func() {
			var st ProjectStatus
			v, err := pe.env.QueryWorkflow(QueryStatus)
			if err == nil {
				err = v.Get(&st)
			}
			if err != nil {
				t.Error(err)
			}
			readings[name] = st
		}, at)
	}
	report := func(at time.Duration, reports ...CrowdReport) {
		pe.env.RegisterDelayedCallback(func() {
			for _, r := range reports {
				pe.env.SignalWorkflow(SignalCrowd, r)
			}
		}, at)
	}
	read("before", time.Minute)
	report(2*time.Minute, CrowdReport{Gateway: "gw-a", People: 7 * PeoplePerChunk}, CrowdReport{Gateway: "gw-b", People: 3*PeoplePerChunk - 1},
		CrowdReport{People: 900}, CrowdReport{Gateway: "gw-c", People: -5})
	read("crowd for 10 chunks", 3*time.Minute)
	report(4*time.Minute, CrowdReport{Gateway: "gw-a", People: 1_000_000})
	read("huge crowd", 5*time.Minute)
	pe.env.ExecuteWorkflow(ProjectWorkflow, sealed(testWorkflowID, ActionStart, ProjectInput{Spec: testSpec(), Window: 2}))
	var st ProjectStatus
	if err := pe.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if r := readings["before"]; r.Window != 2 || len(r.Running) != 2 {
		t.Errorf("before any report: window %d, running %v; want 2", r.Window, r.Running)
	}
	if r := readings["crowd for 10 chunks"]; r.Window != 10 || len(r.Running) != 10 {
		t.Errorf("%d people: window %d, running %v; want 10", 10*PeoplePerChunk-1, r.Window, r.Running)
	}
	if r := readings["huge crowd"]; r.Window != maxCrowdWindow {
		t.Errorf("a report of a million: window %d; want the cap %d", r.Window, maxCrowdWindow)
	}
	if st.Stage != StageCompleted || st.Done.Chunks != 40 || len(pe.started) != 40 {
		t.Fatalf("status = %+v, started %d chunks", st, len(pe.started))
	}
}
