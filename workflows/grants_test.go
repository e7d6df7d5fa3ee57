package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/labelflow/labelflow/activities"

	"github.com/labelflow/labelflow/internal/grant"
)

// testWorkflowID is the id the test environment gives a workflow it executes.
const testWorkflowID = "default-test-workflow-id"

var testKeys = func() *grant.Keys {
	k, err := grant.ParseKeys("test:workflow-test-grant-key-0123456789", true)
	if err != nil {
		panic(err)
	}
	UseGrantKeys(k)
	return k
}()

// sealed seals a request the way the gateway does, now.
func sealed(workflowID, name string, arg any) any { return sealedAt(time.Now(), workflowID, name, arg) }

// sealedAt seals a request at the test environment's clock, which skips ahead of the wall clock.
func sealedAt(now time.Time, workflowID, name string, arg any) any {
	var out any
	var err error
	switch r := arg.(type) {
	case ClaimRequest:
		out, err = Seal(testKeys, workflowID, name, r, now)
	case SubmitRequest:
		out, err = Seal(testKeys, workflowID, name, r, now)
	case ReleaseRequest:
		out, err = Seal(testKeys, workflowID, name, r, now)
	case HeartbeatRequest:
		out, err = Seal(testKeys, workflowID, name, r, now)
	case ApproveRequest:
		out, err = Seal(testKeys, workflowID, name, r, now)
	case HoldRequest:
		out, err = Seal(testKeys, workflowID, name, r, now)
	case ProjectInput:
		out, err = Seal(testKeys, workflowID, name, r, now)
	case CancelRequest:
		out, err = Seal(testKeys, workflowID, name, r, now)
	case PauseRequest:
		out, err = Seal(testKeys, workflowID, name, r, now)
	case ChunkInput:
		out, err = Seal(testKeys, workflowID, name, r, now)
	default:
		return arg
	}
	if err != nil {
		panic(err)
	}
	return out
}

// sendRaw sends an Update exactly as given: no seal is added.
func sendRaw[T any](env *testsuite.TestWorkflowEnvironment, name string, arg any, out *outcome[T]) {
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { out.err, out.ok = err, true },
		OnAccept:   func() {},
		OnComplete: func(v any, err error) { out.err, out.ok = err, true },
	}, arg)
}

// Forged requests, as someone with access to Temporal would send them: no seal, a seal for
// another person, another workflow or another Update, or one made with another key. Each is
// refused before any state changes.
func TestForgedClaimsAreRefused(t *testing.T) {
	ce := newChunkEnv(t)
	ghost := annotator("ghost-not-in-roster")
	good := sealed(testWorkflowID, UpdateClaim, ClaimRequest{Worker: annotator("amina")}).(ClaimRequest)
	reused := good
	reused.Worker = ghost
	now := time.Now()
	forged := map[string]ClaimRequest{
		"no seal":                 {Worker: ghost},
		"amina's seal, ghost":     reused,
		"sealed for another wf":   sealWith(testKeys, "project-x-chunk-000001", UpdateClaim, ClaimRequest{Worker: ghost}, now),
		"sealed for submit":       sealWith(testKeys, testWorkflowID, UpdateSubmit, ClaimRequest{Worker: ghost}, now),
		"sealed with another key": sealWith(mustKeys("test:another-key-another-key-another-key"), testWorkflowID, UpdateClaim, ClaimRequest{Worker: ghost}, now),
		"expired":                 sealWith(testKeys, testWorkflowID, UpdateClaim, ClaimRequest{Worker: ghost}, now.Add(-grant.TTL-time.Minute)),
	}
	outs := map[string]*outcome[Suite]{}
	var status ChunkStatus
	ce.script(
		func() {
			for name, req := range forged {
				out := &outcome[Suite]{}
				outs[name] = out
				sendRaw(ce.env, UpdateClaim, req, out)
			}
		},
		func() {
			v, err := ce.env.QueryWorkflow(QueryStatus)
			if err != nil {
				t.Fatal(err)
			}
			_ = v.Get(&status)
			var c outcome[Suite]
			ce.claim(annotator("amina"), &c) // a sealed claim still works
			ce.claim(annotator("grace"), &c)
		},
		func() {},
	)
	ce.env.ExecuteWorkflow(ChunkWorkflow, sealed(testWorkflowID, ActionStart, ChunkInput{Settings: settings(), Chunk: 0, Items: 2}))
	for name, out := range outs {
		rejected(t, name, out, ErrUnauthenticated)
	}
	if status.ActiveLeases != 0 {
		t.Fatalf("forged claims leased %d suites", status.ActiveLeases)
	}
}

func TestForgedSubmitIsRefused(t *testing.T) {
	ce := newChunkEnv(t)
	amina := annotator("amina")
	var claim outcome[Suite]
	var forged, sealedOK outcome[SubmitResult]
	ce.script(
		func() { ce.claim(amina, &claim) },
		func() {
			s := must(t, "claim", &claim)
			req := SubmitRequest{Worker: amina, SuiteID: s.ID}
			for _, task := range s.Tasks {
				req.Answers = append(req.Answers, TaskAnswer{Item: task.Item, Answer: ans("cat")})
			}
			sendRaw(ce.env, UpdateSubmit, req, &forged)
			ce.submitReq(req, &sealedOK)
		},
	)
	ce.env.ExecuteWorkflow(ChunkWorkflow, sealed(testWorkflowID, ActionStart, ChunkInput{Settings: settings(), Chunk: 0, Items: 2}))
	rejected(t, "unsealed submit", &forged, ErrUnauthenticated)
	must(t, "sealed submit", &sealedOK)
}

func TestForgedApprovalIsRefused(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := newPayrollEnv(&s)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.AggregatePayroll, mock.Anything, "2026-11").Return(activities.PayrollSummary{Month: "2026-11", People: 1, Workers: []string{"amina"}}, nil)
	paid := false
	env.OnActivity(a.PayPayroll, mock.Anything, mock.Anything).Return(func(context.Context, activities.PayPayrollInput) (activities.PayPayrollResult, error) {
		paid = true
		return activities.PayPayrollResult{}, nil
	})
	var mallory, fatuma, annotatorSealed outcome[PayrollStatus]
	var hold outcome[PayrollStatus]
	env.RegisterDelayedCallback(func() {
		// What `temporal workflow update execute --name approve` sends with a made-up approver.
		sendRaw(env, UpdateApprove, ApproveRequest{Approver: "mallory (not in roster)", Role: RoleFinance}, &mallory)
		// A real finance person's name, without LabelFlow's seal.
		sendRaw(env, UpdateApprove, ApproveRequest{Approver: "fatuma", Role: RoleFinance}, &fatuma)
		sendRaw(env, UpdateHold, HoldRequest{By: FinanceActor{ID: "fatuma", Role: RoleFinance}, Person: "amina", Reason: "x"}, &hold)
		// Sealed, but LabelFlow's records say annotator: the role check still holds.
		sendUpdate(env, UpdateApprove, ApproveRequest{Approver: "amina", Role: RoleAnnotator}, &annotatorSealed)
	}, time.Hour)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 2*time.Hour)
	env.ExecuteWorkflow(PayrollWorkflow, PayrollInput{Month: "2026-11"})
	rejected(t, "made-up approver", &mallory, ErrUnauthenticated)
	rejected(t, "unsealed finance approver", &fatuma, ErrUnauthenticated)
	rejected(t, "unsealed hold", &hold, ErrUnauthenticated)
	rejected(t, "sealed annotator", &annotatorSealed, ErrNotQualified)
	if paid {
		t.Fatal("a forged approval paid the month")
	}
}

func TestForgedLaunchFailsBeforeAnyActivity(t *testing.T) {
	pe := newProjectEnv(t, 10)
	pe.env.ExecuteWorkflow(ProjectWorkflow, ProjectInput{Spec: testSpec(), Window: 3, LaunchedBy: "mallory"})
	if kind := ErrorKind(pe.env.GetWorkflowError()); kind != ErrUnauthenticated {
		t.Fatalf("forged launch ended with %v", pe.env.GetWorkflowError())
	}
	if len(pe.started) != 0 || pe.manifest != nil {
		t.Fatal("a forged launch started work")
	}
}

// A start that brings state of its own, as a continued run would, is checked all the same.
func TestForgedLaunchWithStateFailsBeforeAnyActivity(t *testing.T) {
	pe := newProjectEnv(t, 10)
	pe.env.ExecuteWorkflow(ProjectWorkflow, ProjectInput{Spec: testSpec(), Window: 3, LaunchedBy: "mallory",
		State: &ProjectState{Stage: StageChunking}})
	if kind := ErrorKind(pe.env.GetWorkflowError()); kind != ErrUnauthenticated {
		t.Fatalf("forged launch with state ended with %v", pe.env.GetWorkflowError())
	}
	if len(pe.started) != 0 || pe.manifest != nil {
		t.Fatal("a forged launch with state started work")
	}
}

// A sealed launch copied from a history and started again once its seal lapsed is refused.
func TestReplayedLaunchIsRefused(t *testing.T) {
	pe := newProjectEnv(t, 10)
	in := sealedAt(time.Now().Add(-grant.TTL-time.Second), testWorkflowID, ActionStart, ProjectInput{Spec: testSpec(), Window: 3, LaunchedBy: "olu"})
	pe.env.ExecuteWorkflow(ProjectWorkflow, in)
	if kind := ErrorKind(pe.env.GetWorkflowError()); kind != ErrUnauthenticated {
		t.Fatalf("replayed launch ended with %v", pe.env.GetWorkflowError())
	}
	if len(pe.started) != 0 || pe.manifest != nil {
		t.Fatal("a replayed launch started work")
	}
}

func TestSealedLaunchRuns(t *testing.T) {
	pe := newProjectEnv(t, 10)
	pe.env.ExecuteWorkflow(ProjectWorkflow, sealed(testWorkflowID, ActionStart, ProjectInput{Spec: testSpec(), Window: 3, LaunchedBy: "olu"}))
	if err := pe.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredSealIsRefused(t *testing.T) {
	old := sealWith(testKeys, testWorkflowID, UpdateClaim, ClaimRequest{Worker: annotator("amina")}, time.Now().Add(-grant.TTL-time.Second))
	if err := checkSeal(testWorkflowID, UpdateClaim, old, time.Now()); !errors.Is(err, grant.ErrExpired) {
		t.Fatalf("got %v, want expired", err)
	}
}

func sealWith[T sealable[T]](k *grant.Keys, workflowID, action string, req T, now time.Time) T {
	out, err := Seal(k, workflowID, action, req, now)
	if err != nil {
		panic(err)
	}
	return out
}

func mustKeys(s string) *grant.Keys {
	k, err := grant.ParseKeys(s, false)
	if err != nil {
		panic(err)
	}
	return k
}

// A repeated claim gets the suite already held, by rejection, so it leaves no event in history:
// claiming in a loop costs the workflow nothing.
func TestRepeatedClaimReturnsTheHeldSuiteWithoutHistory(t *testing.T) {
	ce := newChunkEnv(t)
	amina := annotator("amina")
	var first, again outcome[Suite]
	ce.script(
		func() { ce.claim(amina, &first) },
		func() { ce.claim(amina, &again) },
	)
	ce.env.ExecuteWorkflow(ChunkWorkflow, sealed(testWorkflowID, ActionStart, ChunkInput{Settings: settings(), Chunk: 0, Items: 4}))
	s := must(t, "first claim", &first)
	rejected(t, "repeated claim", &again, ErrAlreadyHeld)
	held, ok := HeldSuite(again.err)
	if !ok || held.ID != s.ID || len(held.Tasks) != len(s.Tasks) || !held.ExpiresAt.Equal(s.ExpiresAt) {
		t.Fatalf("repeated claim carries %+v (ok %v), want suite %s", held, ok, s.ID)
	}
}

// Ops cancel a project: no chunk starts after, the running ones finish and are delivered, and
// the manifest covers exactly the chunks started. A forged or non-ops cancel changes nothing.
func TestCancelStopsNewChunksAndDeliversWhatFinished(t *testing.T) {
	pe := newProjectEnv(t, 95) // 10 chunks of 10
	var forged, byAnnotator, ok, again outcome[ProjectStatus]
	pe.env.RegisterDelayedCallback(func() {
		sendRaw(pe.env, UpdateCancel, CancelRequest{By: "mallory", Role: RoleOps, Reason: "x"}, &forged)
		sendUpdate(pe.env, UpdateCancel, CancelRequest{By: "amina", Role: RoleAnnotator, Reason: "x"}, &byAnnotator)
		sendUpdate(pe.env, UpdateCancel, CancelRequest{By: "olu", Role: RoleOps, Reason: "client withdrew the dataset"}, &ok)
	}, 5*time.Minute)
	pe.env.RegisterDelayedCallback(func() {
		sendUpdate(pe.env, UpdateCancel, CancelRequest{By: "olu", Role: RoleOps, Reason: "again"}, &again)
	}, 6*time.Minute)
	pe.env.ExecuteWorkflow(ProjectWorkflow, sealed(testWorkflowID, ActionStart, ProjectInput{Spec: testSpec(), Window: 3}))
	if err := pe.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	rejected(t, "forged cancel", &forged, ErrUnauthenticated)
	rejected(t, "cancel by an annotator", &byAnnotator, ErrNotQualified)
	rejected(t, "second cancel", &again, ErrRepeated)
	must(t, "cancel by ops", &ok)
	var st ProjectStatus
	if err := pe.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Cancelled == nil || st.Cancelled.By != "olu" || st.Stage != StageCompleted {
		t.Fatalf("status after cancel: %+v", st)
	}
	if n := len(pe.started); n != 3 || st.ChunksStarted != 3 || st.Done.Chunks != 3 {
		t.Fatalf("started %d chunks (%v), %d finished; want the 3 running at the cancel", n, pe.started, st.Done.Chunks)
	}
	if pe.manifest == nil || pe.manifest.Chunks != 3 {
		t.Fatalf("manifest input %+v, want the 3 chunks started", pe.manifest)
	}
}

// A chunk started from outside its project, with answers of its own making, records nothing.
func TestForgedChunkStartRecordsNothing(t *testing.T) {
	ce := newChunkEnv(t)
	forged := &ChunkState{}
	ce.env.ExecuteWorkflow(ChunkWorkflow, ChunkInput{Settings: settings(), Chunk: 0, Items: 2, State: forged})
	if kind := ErrorKind(ce.env.GetWorkflowError()); kind != ErrUnauthenticated {
		t.Fatalf("forged chunk ended with %v", ce.env.GetWorkflowError())
	}
	if ce.recorded != nil || len(ce.settled) != 0 {
		t.Fatal("a forged chunk recorded results")
	}
}
