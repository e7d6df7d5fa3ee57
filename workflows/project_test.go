package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/spec"
)

func testSpec() spec.Project {
	return spec.Project{
		ID: "p1", Client: "acme", Source: "s3://intake/p1.manifest",
		Annotation: spec.Annotation{Type: "single-label", Taxonomy: []string{"cat", "dog"}, Instructions: "pick one"},
		ChunkSize:  10, SuiteSize: 5, AnnotatorsPerItem: 2, Lease: "5m", ReviewerRole: "reviewer",
		Delivery: spec.Delivery{Bucket: "client", Region: "us-east-1", Credentials: "dev"},
		Pay:      spec.Pay{Currency: "USD", PerAnnotation: "0.04", PerArbitration: "0.10"},
	}
}

// projectEnv mocks the project's activities and its chunk workflows; each mocked chunk reports
// back to the project by signal, as the real one does.
type projectEnv struct {
	env      *testsuite.TestWorkflowEnvironment
	started  []int
	manifest *activities.DeliveryManifestInput
	told     map[int][]PauseSignal // pause signals each chunk received, in order
	gold     map[int]int           // gold items each chunk was recalibrated on
	// goldPerChunk is the gold the split puts in each chunk; each chunk answers it right at 0.95.
	goldPerChunk int
}

func newProjectEnv(t *testing.T, items int) *projectEnv {
	var s testsuite.WorkflowTestSuite
	pe := &projectEnv{env: s.NewTestWorkflowEnvironment(), told: map[int][]PauseSignal{}, gold: map[int]int{}}
	var a *activities.Activities
	pe.env.RegisterActivity(a)
	pe.env.OnActivity(a.PrepareProject, mock.Anything, mock.Anything).Return(nil)
	pe.env.OnActivity(a.SplitManifest, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SplitInput) (activities.SplitResult, error) {
		chunks := (items + in.ChunkSize - 1) / in.ChunkSize
		return activities.SplitResult{Lines: items + 3, Items: items, Chunks: chunks, Rejects: 3, RejectsKey: "projects/p1/rejects.jsonl", GoldPerChunk: pe.goldPerChunk}, nil
	})
	pe.env.OnActivity(a.WriteDeliveryManifest, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DeliveryManifestInput) (activities.DeliveryManifestResult, error) {
		pe.manifest = &in
		return activities.DeliveryManifestResult{ManifestKey: "labelflow/p1/manifest.json", Objects: in.Chunks + 1, Items: items}, nil
	})
	// A stand-in registered under the chunk workflow's name runs as a real child.
	fake := func(ctx workflow.Context, in ChunkInput) (ChunkSummary, error) {
		pe.started = append(pe.started, in.Chunk)
		if in.Settings.Gold != nil {
			pe.gold[in.Chunk] = in.Settings.Gold.Items()
		}
		// Chunks finish out of order: later chunks take less time.
		if err := workflow.Sleep(ctx, minute(10-in.Chunk%3)); err != nil {
			return ChunkSummary{}, err
		}
		pauses := workflow.GetSignalChannel(ctx, SignalPaused)
		var sig PauseSignal
		for pauses.ReceiveAsync(&sig) {
			pe.told[in.Chunk] = append(pe.told[in.Chunk], sig)
		}
		n := in.Items - in.Gold // the gold item is scored, not delivered
		sum := ChunkSummary{Chunk: in.Chunk, ChunkCounts: ChunkCounts{Items: n, Annotations: 2 * n, Agreed: n - 1, Arbitrated: 1, Delivered: n}}
		if in.Gold > 0 {
			sum.Gold = &quality.CalibrationBins{}
			for range in.Gold {
				sum.Gold.Count(0.95, true)
			}
		}
		return sum, workflow.SignalExternalWorkflow(ctx, in.ProjectWorkflowID, "", SignalChunkFinished, sum).Get(ctx, nil)
	}
	pe.env.RegisterWorkflowWithOptions(fake, workflow.RegisterOptions{Name: "ChunkWorkflow"})
	return pe
}

func TestProjectRunsChunksInAWindowAndDelivers(t *testing.T) {
	pe := newProjectEnv(t, 95)
	pe.goldPerChunk = 1
	var mid ProjectStatus
	pe.env.RegisterDelayedCallback(func() {
		v, err := pe.env.QueryWorkflow(QueryStatus)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Get(&mid); err != nil {
			t.Fatal(err)
		}
	}, 5*time.Minute)
	pe.env.ExecuteWorkflow(ProjectWorkflow, sealed(testWorkflowID, ActionStart, ProjectInput{Spec: testSpec(), Window: 3}))
	if err := pe.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var st ProjectStatus
	if err := pe.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Stage != StageCompleted || st.Done.Chunks != 10 || st.Done.Items != 95 || st.Done.Delivered != 95 || st.Done.Arbitrated != 10 {
		t.Fatalf("status = %+v", st)
	}
	if len(mid.Running) != 3 || mid.Stage != StageAnnotating {
		t.Fatalf("after 5 minutes: stage %s, running %v; want the window of 3 chunks", mid.Stage, mid.Running)
	}
	if len(pe.started) != 10 {
		t.Fatalf("started chunks %v", pe.started)
	}
	if pe.manifest == nil || pe.manifest.Chunks != 10 || st.ManifestKey == "" {
		t.Fatalf("manifest input = %+v, status key %q", pe.manifest, st.ManifestKey)
	}
	if st.Rejects != 3 || st.Lines != 98 {
		t.Fatalf("rejects/lines = %d/%d", st.Rejects, st.Lines)
	}
	// The first window starts with no gold; each later chunk is recalibrated on the gold of every
	// chunk finished before it started: one window-slot frees as one chunk finishes.
	for _, c := range pe.started[:3] {
		if n, ok := pe.gold[c]; ok {
			t.Fatalf("chunk %d of the first window recalibrated on %d gold items", c, n)
		}
	}
	for i, c := range pe.started[3:] {
		if pe.gold[c] != i+1 {
			t.Fatalf("chunk %d (started %d-th) recalibrated on %d gold items, want %d", c, i+4, pe.gold[c], i+1)
		}
	}
}

func TestProjectWithNoValidItemsStillDelivers(t *testing.T) {
	pe := newProjectEnv(t, 0)
	pe.env.ExecuteWorkflow(ProjectWorkflow, sealed(testWorkflowID, ActionStart, ProjectInput{Spec: testSpec(), Window: 3}))
	var st ProjectStatus
	if err := pe.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Stage != StageCompleted || len(pe.started) != 0 || pe.manifest == nil {
		t.Fatalf("status = %+v, started %v", st, pe.started)
	}
}

func TestProjectContinuesAsNewWithItsState(t *testing.T) {
	pe := newProjectEnv(t, 95)
	pe.env.ExecuteWorkflow(ProjectWorkflow, sealed(testWorkflowID, ActionStart, ProjectInput{Spec: testSpec(), Window: 2, ChunksPerRun: 4}))
	var next ProjectInput
	continuedAsNew(t, pe.env, &next)
	st := next.State
	if st == nil || st.Stage != StageAnnotating || st.NextChunk != 4 || st.Split.Chunks != 10 {
		t.Fatalf("state = %+v", st)
	}
	// Chunks still running move to the next run; finished ones are counted once.
	if st.Done.Chunks+len(st.Running) != 4 {
		t.Fatalf("done %d + running %v != 4 started", st.Done.Chunks, st.Running)
	}
	if next.Spec.ID != "p1" || next.ChunksPerRun != 4 || next.Window != 2 {
		t.Fatalf("settings not carried: %+v", next)
	}
}

func TestMadeUpGoldIsNotCounted(t *testing.T) {
	p := &project{st: &ProjectState{Running: []int{1, 2, 3}, Split: activities.SplitResult{GoldPerChunk: 5}}}
	var fine quality.CalibrationBins
	fine.Count(0.95, true)
	fine.Count(0.42, false)
	tooMany := quality.CalibrationBins{}
	tooMany[9] = quality.CalibrationBin{Items: 500, Correct: 0, ConfidenceSum: 475}
	outside := quality.CalibrationBins{}
	outside[9] = quality.CalibrationBin{Items: 2, Correct: 2, ConfidenceSum: 0.2}
	for chunk, gold := range map[int]quality.CalibrationBins{1: fine, 2: tooMany, 3: outside} {
		p.chunkFinished(ChunkSummary{Chunk: chunk, Gold: &gold})
	}
	if p.st.Gold == nil || *p.st.Gold != fine {
		t.Fatalf("project gold = %+v, want only the genuine chunk's %+v", p.st.Gold, fine)
	}
}

func TestDuplicateChunkReportIsCountedOnce(t *testing.T) {
	p := &project{st: &ProjectState{Running: []int{1, 2}}}
	p.chunkFinished(ChunkSummary{Chunk: 1, ChunkCounts: ChunkCounts{Items: 10}})
	p.chunkFinished(ChunkSummary{Chunk: 1, ChunkCounts: ChunkCounts{Items: 10}})
	if p.st.Done.Chunks != 1 || p.st.Done.Items != 10 || len(p.st.Running) != 1 {
		t.Fatalf("state = %+v", p.st)
	}
}

func minute(n int) time.Duration { return time.Duration(n) * time.Minute }
