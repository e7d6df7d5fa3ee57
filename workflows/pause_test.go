package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/label"
)

// Ops pause a project: the chunks running are told and the project starts no more, even once
// they have all finished; a resume starts the rest, and the project completes as usual. Forged,
// non-ops, unexplained, repeated and misplaced requests change nothing.
func TestPauseStartsNoChunkUntilResumed(t *testing.T) {
	pe := newProjectEnv(t, 95) // 10 chunks of 10; each runs 8 to 10 minutes
	ops := PauseRequest{By: "olu", Role: RoleOps, Reason: "client changed the taxonomy"}
	var resumeRunning, forged, resealed, byAnnotator, noReason outcome[ProjectStatus]
	var paused, again, resumed outcome[ProjectStatus]
	var during ProjectStatus
	pe.env.RegisterDelayedCallback(func() {
		sendUpdate(pe.env, UpdateResume, ops, &resumeRunning)
		sendRaw(pe.env, UpdatePause, PauseRequest{By: "mallory", Role: RoleOps, Reason: "x"}, &forged)
		// A seal made for resume does not pause.
		sendRaw(pe.env, UpdatePause, sealWith(testKeys, testWorkflowID, UpdateResume, ops, pe.env.Now()), &resealed)
		sendUpdate(pe.env, UpdatePause, PauseRequest{By: "amina", Role: RoleAnnotator, Reason: "x"}, &byAnnotator)
		sendUpdate(pe.env, UpdatePause, PauseRequest{By: "olu", Role: RoleOps, Reason: "  "}, &noReason)
	}, time.Minute)
	pe.env.RegisterDelayedCallback(func() { sendUpdate(pe.env, UpdatePause, ops, &paused) }, 5*time.Minute)
	pe.env.RegisterDelayedCallback(func() { sendUpdate(pe.env, UpdatePause, ops, &again) }, 6*time.Minute)
	pe.env.RegisterDelayedCallback(func() {
		during = queryProject(t, pe)
		sendUpdate(pe.env, UpdateResume, PauseRequest{By: "olu", Role: RoleOps}, &resumed)
	}, time.Hour)
	pe.env.ExecuteWorkflow(ProjectWorkflow, sealed(testWorkflowID, ActionStart, ProjectInput{Spec: testSpec(), Window: 3}))
	if err := pe.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	rejected(t, "resume of a running project", &resumeRunning, ErrWrongStage)
	rejected(t, "forged pause", &forged, ErrUnauthenticated)
	rejected(t, "pause sealed for resume", &resealed, ErrUnauthenticated)
	rejected(t, "pause by an annotator", &byAnnotator, ErrNotQualified)
	rejected(t, "pause without a reason", &noReason, ErrInvalidRequest)
	rejected(t, "second pause", &again, ErrRepeated)
	if st := must(t, "pause by ops", &paused); st.Paused == nil || st.Paused.By != "olu" || st.Paused.Reason != ops.Reason {
		t.Fatalf("pause answered %+v", st.Paused)
	}
	if during.Paused == nil || during.ChunksStarted != 3 || during.Done.Chunks != 3 || len(during.Running) != 0 || during.Stage != StageAnnotating {
		t.Fatalf("an hour into the pause: %+v; want the 3 chunks started before it done and none started since", during)
	}
	if st := must(t, "resume", &resumed); st.Paused != nil {
		t.Fatalf("resume answered paused %+v", st.Paused)
	}
	for c := range 3 {
		if got := pe.told[c]; len(got) != 1 || got[0] != (PauseSignal{Paused: true, Seq: 1}) {
			t.Fatalf("chunk %d was told %v, want the one pause", c, got)
		}
	}
	var st ProjectStatus
	if err := pe.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Stage != StageCompleted || st.Done.Chunks != 10 || len(pe.started) != 10 || st.Paused != nil {
		t.Fatalf("after the resume: %+v, started %v", st, pe.started)
	}
}

// A project paused with no chunk left running can still be cancelled: it delivers at once.
func TestCancelWhilePausedAndIdleDelivers(t *testing.T) {
	pe := newProjectEnv(t, 95)
	var paused, cancelled outcome[ProjectStatus]
	pe.env.RegisterDelayedCallback(func() {
		sendUpdate(pe.env, UpdatePause, PauseRequest{By: "olu", Role: RoleOps, Reason: "audit"}, &paused)
	}, 5*time.Minute)
	pe.env.RegisterDelayedCallback(func() {
		sendUpdate(pe.env, UpdateCancel, CancelRequest{By: "olu", Role: RoleOps, Reason: "client withdrew"}, &cancelled)
	}, time.Hour)
	pe.env.ExecuteWorkflow(ProjectWorkflow, sealed(testWorkflowID, ActionStart, ProjectInput{Spec: testSpec(), Window: 3}))
	if err := pe.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	must(t, "pause", &paused)
	must(t, "cancel", &cancelled)
	if pe.manifest == nil || pe.manifest.Chunks != 3 || len(pe.started) != 3 {
		t.Fatalf("manifest %+v, started %v; want the 3 chunks started before the pause", pe.manifest, pe.started)
	}
}

// The pause state moves to the next run with the rest of the project's state.
func TestPausedProjectContinuesPaused(t *testing.T) {
	pe := newProjectEnv(t, 95)
	var paused, resumed outcome[ProjectStatus]
	pe.env.RegisterDelayedCallback(func() {
		sendUpdate(pe.env, UpdatePause, PauseRequest{By: "olu", Role: RoleOps, Reason: "audit"}, &paused)
	}, 5*time.Minute)
	pe.env.RegisterDelayedCallback(func() {
		sendUpdate(pe.env, UpdateResume, PauseRequest{By: "olu", Role: RoleOps}, &resumed)
	}, time.Hour)
	pe.env.ExecuteWorkflow(ProjectWorkflow, sealed(testWorkflowID, ActionStart, ProjectInput{Spec: testSpec(), Window: 3, ChunksPerRun: 4}))
	var next ProjectInput
	continuedAsNew(t, pe.env, &next)
	must(t, "pause", &paused)
	must(t, "resume", &resumed)
	if st := next.State; st == nil || st.Paused != nil || st.PauseSeq != 2 || st.NextChunk != 4 {
		t.Fatalf("state carried: %+v", st)
	}
}

func queryProject(t *testing.T, pe *projectEnv) ProjectStatus {
	t.Helper()
	v, err := pe.env.QueryWorkflow(QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var st ProjectStatus
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// A paused chunk leases nothing, tells the claimer why, and still takes the suites it leased;
// a resume offers the work again.
func TestPausedChunkRefusesClaimsButTakesLeasedSuites(t *testing.T) {
	ce := newChunkEnv(t)
	amina, grace := annotator("amina"), annotator("grace")
	var first, refused, held, resumedClaim outcome[Suite]
	var submitted, second outcome[SubmitResult]
	var paused ChunkStatus
	refusedAccepted := false
	ce.script(
		func() { ce.claim(amina, &first) },
		func() { ce.env.SignalWorkflow(SignalPaused, PauseSignal{Paused: true, Seq: 1}) },
		func() {
			ce.env.UpdateWorkflow(UpdateClaim, "", &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { refused.err, refused.ok = err, true },
				OnAccept:   func() { refusedAccepted = true },
				OnComplete: func(_ any, err error) { refused.err, refused.ok = err, true },
			}, sealedAt(ce.env.Now(), testWorkflowID, UpdateClaim, ClaimRequest{Worker: grace}))
			ce.claim(amina, &held)
		},
		func() {
			ce.submit(amina, must(t, "first claim", &first), always("cat"), &submitted)
			paused = ce.status()
		},
		func() {
			ce.env.SignalWorkflow(SignalPaused, PauseSignal{Paused: false, Seq: 2})
			// A late copy of the pause changes nothing.
			ce.env.SignalWorkflow(SignalPaused, PauseSignal{Paused: true, Seq: 1})
		},
		func() { ce.claim(grace, &resumedClaim) },
		func() { ce.submit(grace, must(t, "claim after resume", &resumedClaim), always("cat"), &second) },
	)
	sum := ce.run(ChunkInput{Settings: settings(), Chunk: 0, Items: 2})
	rejected(t, "claim while paused", &refused, ErrNoWork)
	if refusedAccepted {
		t.Fatal("a claim while paused was accepted into history before being refused")
	}
	if NoWorkReason(refused.err) != NoWorkPaused {
		t.Fatalf("claim while paused carries reason %q (%v), want %q", NoWorkReason(refused.err), refused.err, NoWorkPaused)
	}
	// A reload while paused gets back the suite already held, so that it can be submitted.
	if s, ok := HeldSuite(held.err); !ok || s.ID != first.val.ID {
		t.Fatalf("repeated claim while paused: %v", held.err)
	}
	if r := must(t, "submit while paused", &submitted); r.Accepted != 2 {
		t.Fatalf("submit while paused accepted %d", r.Accepted)
	}
	if !paused.Paused {
		t.Fatal("status of a paused chunk does not say so")
	}
	must(t, "submit after resume", &second)
	if sum.Agreed != 2 || sum.Delivered != 2 {
		t.Fatalf("summary %+v", sum)
	}
}

// A claim that reaches the chunk together with the pause signal gets nothing either.
func TestClaimArrivingWithThePauseGetsNothing(t *testing.T) {
	ce := newChunkEnv(t)
	var claim outcome[Suite]
	var status ChunkStatus
	ce.script(
		func() {
			ce.env.SignalWorkflow(SignalPaused, PauseSignal{Paused: true, Seq: 1})
			ce.claim(annotator("amina"), &claim)
		},
		func() {
			status = ce.status()
			ce.env.CancelWorkflow()
		},
	)
	ce.env.ExecuteWorkflow(ChunkWorkflow, sealed(testWorkflowID, ActionStart, ChunkInput{Settings: settings(), Chunk: 0, Items: 2}))
	rejected(t, "claim with the pause", &claim, ErrNoWork)
	if NoWorkReason(claim.err) != NoWorkPaused || status.ActiveLeases != 0 {
		t.Fatalf("claim with the pause: %v, %d leases", claim.err, status.ActiveLeases)
	}
}

// The claim handler applies a pause signal still waiting in the channel before it leases: a
// claim that came in the same workflow task as the signal passed a validator that could not see it.
func TestClaimHandlerAppliesAWaitingPause(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (string, error) {
		c, err := newChunk(ChunkInput{Settings: settings(), Items: 2})
		if err != nil {
			return "", err
		}
		c.pauses, c.ready = workflow.GetSignalChannel(ctx, SignalPaused), true
		if err := workflow.Await(ctx, c.pauseWaiting); err != nil {
			return "", err
		}
		_, err = c.claim(ctx, ClaimRequest{Worker: annotator("amina")})
		if len(c.st.Suites) > 0 {
			return "leased", nil
		}
		return NoWorkReason(err), nil
	}, workflow.RegisterOptions{Name: "claimAfterSignal"})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalPaused, PauseSignal{Paused: true, Seq: 1}) }, time.Second)
	env.ExecuteWorkflow("claimAfterSignal")
	var got string
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}
	if got != NoWorkPaused {
		t.Fatalf("claim with a pause waiting: %q, want %q", got, NoWorkPaused)
	}
}

// A chunk that continues as new while paused stays paused in its next run.
func TestPausedChunkContinuesPaused(t *testing.T) {
	ce := newChunkEnv(t)
	amina := annotator("amina")
	var claim outcome[Suite]
	var submitted outcome[SubmitResult]
	ce.script(
		func() { ce.claim(amina, &claim) },
		func() { ce.env.SignalWorkflow(SignalPaused, PauseSignal{Paused: true, Seq: 3}) },
		func() { ce.submit(amina, must(t, "claim", &claim), always("cat"), &submitted) },
	)
	in := ChunkInput{Settings: settings(), Chunk: 0, Items: 2}
	in.Settings.MaxUpdatesPerRun = 2
	ce.env.ExecuteWorkflow(ChunkWorkflow, sealed(testWorkflowID, ActionStart, in))
	var next ChunkInput
	continuedAsNew(t, ce.env, &next)
	if next.State == nil || !next.State.Paused || next.State.PauseSeq != 3 {
		t.Fatalf("next run's state %+v", next.State)
	}
}

func TestPauseSignalsApplyInOrder(t *testing.T) {
	c := &chunk{st: &ChunkState{}}
	c.applyPause(PauseSignal{Paused: true, Seq: 1})
	c.applyPause(PauseSignal{Paused: false, Seq: 3})
	c.applyPause(PauseSignal{Paused: true, Seq: 2}) // delivered late
	if c.st.Paused || c.st.PauseSeq != 3 {
		t.Fatalf("state after signals out of order: paused %v, seq %d", c.st.Paused, c.st.PauseSeq)
	}
}

// The tasks of a suite of images carry each image's size, for the browser to draw boxes on.
func TestSuiteTasksCarryImageSizes(t *testing.T) {
	ce := newChunkEnv(t)
	var a *activities.Activities
	ce.env.OnActivity(a.ItemFacts, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ItemFactsInput) ([]activities.ItemFacts, error) {
			return []activities.ItemFacts{{Width: 640, Height: 480}, {Width: 1024, Height: 768}}, nil
		})
	var claim outcome[Suite]
	ce.script(func() { ce.claim(annotator("amina"), &claim) }, func() { ce.env.CancelWorkflow() })
	in := ChunkInput{Settings: settings(), Chunk: 0, Items: 2}
	in.Settings.AnnotationType, in.Settings.Taxonomy = label.BoundingBoxName, []string{"car"}
	ce.env.ExecuteWorkflow(ChunkWorkflow, sealed(testWorkflowID, ActionStart, in))
	s := must(t, "claim", &claim)
	want := map[int][2]int{0: {640, 480}, 1: {1024, 768}}
	if len(s.Tasks) != 2 {
		t.Fatalf("suite %+v", s)
	}
	for _, task := range s.Tasks {
		if got := [2]int{task.Width, task.Height}; got != want[task.Item] {
			t.Fatalf("item %d: size %v, want %v", task.Item, got, want[task.Item])
		}
	}
}

func (ce *chunkEnv) status() ChunkStatus {
	ce.t.Helper()
	v, err := ce.env.QueryWorkflow(QueryStatus)
	if err != nil {
		ce.t.Fatal(err)
	}
	var st ChunkStatus
	if err := v.Get(&st); err != nil {
		ce.t.Fatal(err)
	}
	return st
}
