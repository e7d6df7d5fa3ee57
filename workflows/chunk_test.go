package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/spec"
)

func settings() ChunkSettings {
	return ChunkSettings{
		ProjectID: "p1", Client: "acme", AnnotationType: label.SingleLabelName, Taxonomy: []string{"cat", "dog"},
		SuiteSize: 2, AnnotatorsPerItem: 2, Lease: 10 * time.Minute, Languages: []string{"en"},
	}
}

func annotator(id string) Worker {
	return Worker{ID: id, Role: RoleAnnotator, Languages: []string{"en"}}
}
func reviewer(id string) Worker { return Worker{ID: id, Role: RoleReviewer, Languages: []string{"en"}} }

func ans(s string) label.Answer { b, _ := json.Marshal(s); return b }

// chunkEnv runs a chunk workflow with its activities mocked to capture the recorded results.
type chunkEnv struct {
	t        *testing.T
	env      *testsuite.TestWorkflowEnvironment
	recorded *activities.RecordChunkInput
	settled  []activities.StoreSettledInput // parts stored as the chunk went
	reported []string                       // project workflows the chunk reported to
	drained  []int                          // chunks that told their project they drained
}

func newChunkEnv(t *testing.T) *chunkEnv {
	var s testsuite.WorkflowTestSuite
	ce := &chunkEnv{t: t, env: s.NewTestWorkflowEnvironment()}
	var a *activities.Activities
	ce.env.RegisterActivity(a)
	ce.env.OnActivity(a.RecordChunk, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordChunkInput) (activities.RecordChunkResult, error) {
			ce.recorded = &in
			return activities.RecordChunkResult{Items: len(in.Results)}, nil
		})
	ce.env.OnActivity(a.StoreSettled, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.StoreSettledInput) error {
			ce.settled = append(ce.settled, in)
			return nil
		})
	ce.env.OnActivity(a.DeliverChunk, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeliverChunkInput) (activities.DeliveryReceipt, error) {
			items := len(ce.recorded.Results)
			for _, p := range ce.settled {
				items += len(p.Results)
			}
			return activities.DeliveryReceipt{Chunk: in.Chunk, Items: items, Key: "k"}, nil
		})
	ce.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, SignalChunkFinished, mock.Anything).Return(
		func(_, workflowID, _, _ string, arg any) error {
			ce.reported = append(ce.reported, workflowID)
			return nil
		})
	ce.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, SignalChunkDrained, mock.Anything).Return(
		func(_, _, _, _ string, arg any) error {
			ce.drained = append(ce.drained, arg.(ChunkDrained).Chunk)
			return nil
		})
	return ce
}

// step schedules fn at delay after start.
func (ce *chunkEnv) step(delay time.Duration, fn func()) { ce.env.RegisterDelayedCallback(fn, delay) }

// outcome receives an Update's result once the workflow has handled it.
type outcome[T any] struct {
	val T
	err error
	ok  bool
}

// continuedAsNew checks that the workflow continued as new and decodes the next run's input.
func continuedAsNew(t *testing.T, env *testsuite.TestWorkflowEnvironment, next any) {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", err)
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, next); err != nil {
		t.Fatal(err)
	}
}

// sendUpdate sends an Update; out receives its outcome once the workflow has handled it.
func sendUpdate[T any](env *testsuite.TestWorkflowEnvironment, name string, arg any, out *outcome[T]) {
	arg = sealedAt(env.Now(), testWorkflowID, name, arg)
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { out.err, out.ok = err, true },
		OnAccept: func() {},
		OnComplete: func(v any, err error) {
			out.err, out.ok = err, true
			if r, ok := v.(T); ok {
				out.val = r
			}
		},
	}, arg)
}

func (ce *chunkEnv) claim(w Worker, out *outcome[Suite]) {
	sendUpdate(ce.env, UpdateClaim, ClaimRequest{Worker: w}, out)
}

func (ce *chunkEnv) submit(w Worker, s Suite, answer func(item int) label.Answer, out *outcome[SubmitResult]) {
	req := SubmitRequest{Worker: w, SuiteID: s.ID}
	for _, t := range s.Tasks {
		req.Answers = append(req.Answers, TaskAnswer{Item: t.Item, Answer: answer(t.Item)})
	}
	ce.submitReq(req, out)
}

func (ce *chunkEnv) submitReq(req SubmitRequest, out *outcome[SubmitResult]) {
	sendUpdate(ce.env, UpdateSubmit, req, out)
}

// script runs steps one simulated second apart, so each sees the previous step's outcome.
func (ce *chunkEnv) script(steps ...func()) {
	for i, fn := range steps {
		ce.step(time.Duration(i+1)*time.Second, fn)
	}
}

func (ce *chunkEnv) run(in ChunkInput) ChunkSummary {
	ce.t.Helper()
	ce.env.ExecuteWorkflow(ChunkWorkflow, sealed(testWorkflowID, ActionStart, in))
	if err := ce.env.GetWorkflowError(); err != nil {
		ce.t.Fatal(err)
	}
	var sum ChunkSummary
	if err := ce.env.GetWorkflowResult(&sum); err != nil {
		ce.t.Fatal(err)
	}
	return sum
}

func always(s string) func(int) label.Answer { return func(int) label.Answer { return ans(s) } }

func must[T any](t *testing.T, what string, o *outcome[T]) T {
	t.Helper()
	if !o.ok {
		t.Fatalf("%s: no outcome yet", what)
	}
	if o.err != nil {
		t.Fatalf("%s: %v", what, o.err)
	}
	return o.val
}

func rejected[T any](t *testing.T, what string, o *outcome[T], kind string) {
	t.Helper()
	if !o.ok || o.err == nil {
		t.Fatalf("%s: accepted, want rejection %s", what, kind)
	}
	if got := ErrorKind(o.err); got != kind {
		t.Fatalf("%s: rejected as %q (%v), want %s", what, got, o.err, kind)
	}
}

func TestAgreePath(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	var ca, cb outcome[Suite]
	var sa, sb outcome[SubmitResult]
	ce.script(
		func() { ce.claim(a, &ca); ce.claim(b, &cb) },
		func() {
			sua, sub := must(t, "claim a", &ca), must(t, "claim b", &cb)
			if len(sua.Tasks) != 2 || sua.Kind != KindAnnotate || len(sua.Tasks[0].Answers) != 0 {
				t.Errorf("suite = %+v", sua)
			}
			ce.submit(a, sua, always("cat"), &sa)
			ce.submit(b, sub, always("cat"), &sb)
		},
	)
	sum := ce.run(ChunkInput{Settings: settings(), Chunk: 0, Items: 2})
	must(t, "submit a", &sa)
	must(t, "submit b", &sb)
	if sum.Agreed != 2 || sum.Arbitrated != 0 || sum.Annotations != 4 {
		t.Fatalf("summary = %+v", sum)
	}
	for _, r := range ce.recorded.Results {
		if r.Method != MethodAgreed || string(r.Final) != `"cat"` || r.Annotations[0].Worker == r.Annotations[1].Worker {
			t.Fatalf("result = %+v", r)
		}
	}
}

func TestDisagreementGoesToADistinctReviewer(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	r, rOther := reviewer("rev-r"), reviewer("ann-b")
	var ca, cb, crA, crB, crR outcome[Suite]
	var sa, sb, sr outcome[SubmitResult]
	ce.script(
		func() { ce.claim(a, &ca); ce.claim(b, &cb) },
		func() {
			ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
			ce.submit(b, must(t, "claim b", &cb), always("dog"), &sb)
		},
		func() {
			must(t, "submit a", &sa)
			must(t, "submit b", &sb)
			// An annotator of the items may not arbitrate them, even with the reviewer role.
			ce.claim(rOther, &crB)
			ce.claim(a, &crA)
			ce.claim(r, &crR)
		},
		func() {
			rejected(t, "claim by an annotator of the items (as reviewer)", &crB, ErrNoWork)
			rejected(t, "claim by an annotator of the items", &crA, ErrNoWork)
			s := must(t, "claim by reviewer", &crR)
			if s.Kind != KindArbitrate || len(s.Tasks) != 2 {
				t.Fatalf("reviewer suite = %+v", s)
			}
			for _, task := range s.Tasks {
				if len(task.Answers) != 2 {
					t.Fatalf("arbitration task shows %d answers, want both", len(task.Answers))
				}
			}
			ce.submit(r, s, always("dog"), &sr)
		},
	)
	sum := ce.run(ChunkInput{Settings: settings(), Chunk: 3, Items: 2})
	must(t, "submit reviewer", &sr)
	if sum.Arbitrated != 2 || sum.Agreed != 0 || sum.Chunk != 3 {
		t.Fatalf("summary = %+v", sum)
	}
	for _, res := range ce.recorded.Results {
		if res.Method != MethodArbitrated || res.Arbitration == nil || res.Arbitration.Worker != "rev-r" || string(res.Final) != `"dog"` {
			t.Fatalf("result = %+v", res)
		}
		for _, an := range res.Annotations {
			if an.Worker == res.Arbitration.Worker {
				t.Fatalf("reviewer %s also annotated item %d", an.Worker, res.Item)
			}
		}
	}
}

func TestEachItemGetsTwoDistinctAnnotators(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	var c1, c2, c3 outcome[Suite]
	var s1, s3 outcome[SubmitResult]
	ce.script(
		func() { ce.claim(a, &c1) },
		func() {
			ce.submit(a, must(t, "first claim", &c1), always("cat"), &s1)
		},
		func() {
			must(t, "first submit", &s1)
			// a has answered every item already: nothing more for a.
			ce.claim(a, &c2)
			ce.claim(b, &c3)
		},
		func() {
			rejected(t, "second claim by the same annotator", &c2, ErrNoWork)
			ce.submit(b, must(t, "claim b", &c3), always("cat"), &s3)
		},
	)
	sum := ce.run(ChunkInput{Settings: settings(), Items: 2})
	must(t, "submit b", &s3)
	if sum.Agreed != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	for _, r := range ce.recorded.Results {
		if len(r.Annotations) != 2 || r.Annotations[0].Worker == r.Annotations[1].Worker {
			t.Fatalf("item %d annotations = %+v", r.Item, r.Annotations)
		}
	}
}

func TestExpiredLeaseIsOfferedToSomeoneElse(t *testing.T) {
	ce := newChunkEnv(t)
	a, b, c := annotator("ann-a"), annotator("ann-b"), annotator("ann-c")
	set := settings()
	set.Lease = time.Minute
	var ca, cb, cc, caAgain outcome[Suite]
	var sa, sb, sc outcome[SubmitResult]
	var status ChunkStatus
	ce.step(time.Second, func() { ce.claim(a, &ca); ce.claim(b, &cb) })
	ce.step(2*time.Second, func() { ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb) })
	// a walks away; after the lease runs out its items go to c, never back to a.
	ce.step(2*time.Minute, func() {
		st, err := ce.env.QueryWorkflow(QueryStatus)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Get(&status); err != nil {
			t.Fatal(err)
		}
		ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
		ce.claim(a, &caAgain)
		ce.claim(c, &cc)
	})
	ce.step(2*time.Minute+time.Second, func() {
		rejected(t, "submit after the lease expired", &sa, ErrUnknownSuite)
		rejected(t, "claim by the person who let the lease expire", &caAgain, ErrNoWork)
		ce.submit(c, must(t, "claim c", &cc), always("cat"), &sc)
	})
	sum := ce.run(ChunkInput{Settings: set, Items: 2})
	must(t, "submit c", &sc)
	if status.LeasesExpired != 1 || status.ActiveLeases != 0 {
		t.Fatalf("status after expiry = %+v", status)
	}
	if sum.LeasesExpired != 1 || sum.Agreed != 2 {
		t.Fatalf("summary = %+v", sum)
	}
	for _, r := range ce.recorded.Results {
		for _, an := range r.Annotations {
			if an.Worker == "ann-a" {
				t.Fatalf("item %d kept the answer of the person whose lease expired", r.Item)
			}
		}
	}
}

func TestSubmitAfterLeaseDeadlineIsRejected(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	set := settings()
	set.Lease = time.Minute
	var ca, cb outcome[Suite]
	var late, sa, sb outcome[SubmitResult]
	ce.step(time.Second, func() { ce.claim(a, &ca) })
	// The lease ends at 61s; the workflow's expiry timer has not fired yet at 61.5s in this
	// step's workflow task, so the validator itself must refuse.
	ce.step(61*time.Second+500*time.Millisecond, func() { ce.submit(a, must(t, "claim a", &ca), always("cat"), &late) })
	ce.step(62*time.Second, func() { ce.claim(b, &cb) })
	ce.step(63*time.Second, func() {
		if !late.ok || late.err == nil {
			t.Fatal("late submission accepted")
		}
		if k := ErrorKind(late.err); k != ErrLeaseExpired && k != ErrUnknownSuite {
			t.Fatalf("late submission rejected as %q: %v", k, late.err)
		}
		ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb)
	})
	ce.step(64*time.Second, func() {
		must(t, "submit b", &sb)
		c := annotator("ann-c")
		ce.claim(c, &ca)
	})
	ce.step(65*time.Second, func() { ce.submit(annotator("ann-c"), must(t, "claim c", &ca), always("cat"), &sa) })
	ce.run(ChunkInput{Settings: set, Items: 2})
	must(t, "submit c", &sa)
}

func TestBadSubmissionsAreRejectedBeforeHistory(t *testing.T) {
	ce := newChunkEnv(t)
	a, b, stranger := annotator("ann-a"), annotator("ann-b"), annotator("ann-x")
	var ca, cb outcome[Suite]
	var wrongPerson, badLabel, partial, unknownItem, twice, ok, repeat, unknownSuite, sb outcome[SubmitResult]
	var notQualified, badRole outcome[Suite]
	ce.script(
		func() {
			ce.claim(a, &ca)
			ce.claim(Worker{ID: "ann-fr", Role: RoleAnnotator, Languages: []string{"fr"}}, &notQualified)
			ce.claim(Worker{ID: "fin", Role: "finance", Languages: []string{"en"}}, &badRole)
		},
		func() {
			s := must(t, "claim a", &ca)
			ce.submit(stranger, s, always("cat"), &wrongPerson)
			ce.submit(a, s, always("bird"), &badLabel)
			ce.submitReq(SubmitRequest{Worker: a, SuiteID: s.ID, Answers: []TaskAnswer{{Item: s.Tasks[0].Item, Answer: ans("cat")}}}, &partial)
			ce.submitReq(SubmitRequest{Worker: a, SuiteID: s.ID, Answers: []TaskAnswer{{Item: 0, Answer: ans("cat")}, {Item: 7, Answer: ans("cat")}}}, &unknownItem)
			ce.submitReq(SubmitRequest{Worker: a, SuiteID: s.ID, Answers: []TaskAnswer{{Item: 0, Answer: ans("cat")}, {Item: 0, Answer: ans("dog")}}}, &twice)
			ce.submitReq(SubmitRequest{Worker: a, SuiteID: "c000000-s00099", Answers: nil}, &unknownSuite)
		},
		func() { ce.submit(a, must(t, "claim a", &ca), always("cat"), &ok) },
		func() {
			must(t, "valid submission", &ok)
			ce.submit(a, must(t, "claim a", &ca), always("cat"), &repeat)
			ce.claim(b, &cb)
		},
		func() { ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb) },
	)
	ce.run(ChunkInput{Settings: settings(), Items: 2})
	rejected(t, "submission by someone else", &wrongPerson, ErrWrongPerson)
	rejected(t, "label outside the taxonomy", &badLabel, ErrInvalidAnswer)
	rejected(t, "partial suite", &partial, ErrInvalidAnswer)
	rejected(t, "item outside the suite", &unknownItem, ErrInvalidAnswer)
	rejected(t, "item answered twice", &twice, ErrInvalidAnswer)
	rejected(t, "unknown suite", &unknownSuite, ErrUnknownSuite)
	rejected(t, "repeated submission", &repeat, ErrAlreadySubmitted)
	rejected(t, "claim without the project's language", &notQualified, ErrNotQualified)
	rejected(t, "claim by a role that does not annotate", &badRole, ErrNotQualified)
	if msg := badLabel.err.Error(); !strings.Contains(msg, "bird") || !strings.Contains(msg, "answers[0]") {
		t.Errorf("label error does not name the answer and the label: %s", msg)
	}
	// Rejected Updates never reach history: only the accepted ones count towards continue-as-new.
	must(t, "submit b", &sb)
}

func TestRequiredSkills(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings()
	set.RequiredSkills = []string{"medical"}
	var without, with1, with2 outcome[Suite]
	var s1, s2 outcome[SubmitResult]
	skilled := func(id string) Worker {
		return Worker{ID: id, Role: RoleAnnotator, Languages: []string{"en"}, Skills: []string{"medical", "legal"}}
	}
	ce.script(
		func() {
			ce.claim(annotator("ann-a"), &without)
			ce.claim(skilled("doc-1"), &with1)
			ce.claim(skilled("doc-2"), &with2)
		},
		func() {
			ce.submit(skilled("doc-1"), must(t, "claim doc-1", &with1), always("dog"), &s1)
			ce.submit(skilled("doc-2"), must(t, "claim doc-2", &with2), always("dog"), &s2)
		},
	)
	ce.run(ChunkInput{Settings: set, Items: 2})
	rejected(t, "claim without the required skill", &without, ErrNotQualified)
}

func TestContinueAsNewKeepsState(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings()
	set.MaxUpdatesPerRun = 2
	a, b := annotator("ann-a"), annotator("ann-b")
	var ca, cb outcome[Suite]
	var sa outcome[SubmitResult]
	ce.script(
		func() { ce.claim(a, &ca) },
		func() { ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa) },
		func() { ce.claim(b, &cb) },
	)
	ce.env.ExecuteWorkflow(ChunkWorkflow, sealed(testWorkflowID, ActionStart, ChunkInput{Settings: set, Chunk: 4, Items: 2, ProjectWorkflowID: "project-p1"}))
	var next ChunkInput
	continuedAsNew(t, ce.env, &next)
	if next.Chunk != 4 || next.ProjectWorkflowID != "project-p1" || next.State == nil {
		t.Fatalf("next run input = %+v", next)
	}
	st := next.State
	if len(st.Items) != 2 || st.NextSuite != 1 || st.Submitted["c000004-s00000"] != "ann-a" || len(st.Suites) != 0 {
		t.Fatalf("state carried over = %+v", st)
	}
	for i, it := range st.Items {
		if len(it.Annotations) != 1 || it.Annotations[0].Worker != "ann-a" {
			t.Fatalf("item %d carried over = %+v", i, it)
		}
	}
	if cb.ok && cb.err == nil {
		t.Fatal("a claim was accepted after the run decided to continue as new")
	}

	// The next run picks up where the first left off.
	ce2 := newChunkEnv(t)
	var c2 outcome[Suite]
	var s2 outcome[SubmitResult]
	var again outcome[SubmitResult]
	ce2.script(
		func() { ce2.claim(b, &c2) },
		func() {
			ce2.submit(b, must(t, "claim b in the next run", &c2), always("cat"), &s2)
			ce2.submitReq(SubmitRequest{Worker: a, SuiteID: "c000004-s00000", Answers: []TaskAnswer{{Item: 0, Answer: ans("cat")}, {Item: 1, Answer: ans("cat")}}}, &again)
		},
	)
	next.Settings.MaxUpdatesPerRun = 100
	sum := ce2.run(next)
	rejected(t, "repeat of a suite submitted in the previous run", &again, ErrAlreadySubmitted)
	if r, ok := SubmittedResult(again.err); !ok || r != (SubmitResult{SuiteID: "c000004-s00000", Accepted: 2}) {
		t.Fatalf("repeat in the next run carries %+v (ok %v), want the original result", r, ok)
	}
	if sum.Agreed != 2 || sum.Annotations != 4 {
		t.Fatalf("summary after continue-as-new = %+v", sum)
	}
	if len(ce2.reported) != 1 || ce2.reported[0] != "project-p1" {
		t.Fatalf("chunk reported to %v, want its project once", ce2.reported)
	}
}

func TestReviewersOnlyArbitrate(t *testing.T) {
	ce := newChunkEnv(t)
	a, b, r := annotator("ann-a"), annotator("ann-b"), reviewer("rev-r")
	var cr, ca, cb outcome[Suite]
	var sa, sb outcome[SubmitResult]
	ce.script(
		func() { ce.claim(r, &cr); ce.claim(a, &ca); ce.claim(b, &cb) },
		func() {
			ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
			ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb)
		},
	)
	ce.run(ChunkInput{Settings: settings(), Items: 2})
	rejected(t, "a reviewer's claim with nothing to arbitrate", &cr, ErrNoWork)
}

func TestDynamicOverlapAsksMoreAnnotatorsUntilSure(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings()
	set.Overlap = spec.Overlap{Mode: "dynamic", ConfidenceTarget: 0.9, MaxAnnotations: 4}
	people := []Worker{annotator("ann-a"), annotator("ann-b"), annotator("ann-c"), annotator("ann-d"), annotator("ann-e")}
	answers := []string{"cat", "dog", "cat", "cat"}
	claims := make([]outcome[Suite], 5)
	subs := make([]outcome[SubmitResult], 4)
	var status ChunkStatus
	var rev outcome[Suite]
	ce.script(
		func() { ce.claim(people[0], &claims[0]); ce.claim(people[1], &claims[1]) },
		func() {
			ce.submit(people[0], must(t, "claim a", &claims[0]), always(answers[0]), &subs[0])
			ce.submit(people[1], must(t, "claim b", &claims[1]), always(answers[1]), &subs[1])
		},
		// Disagreement: a reviewer is not asked yet, a third annotator is.
		func() { ce.claim(reviewer("rev-r"), &rev); ce.claim(people[2], &claims[2]) },
		func() { ce.submit(people[2], must(t, "claim c", &claims[2]), always(answers[2]), &subs[2]) },
		// Two cats and a dog give 0.8 at accuracy 0.8: below 0.9, a fourth is asked.
		func() {
			v, _ := ce.env.QueryWorkflow(QueryStatus)
			_ = v.Get(&status)
			ce.claim(people[3], &claims[3])
		},
		func() { ce.submit(people[3], must(t, "claim d", &claims[3]), always(answers[3]), &subs[3]) },
	)
	sum := ce.run(ChunkInput{Settings: set, Items: 1})
	rejected(t, "reviewer claim before overlap runs out", &rev, ErrNoWork)
	if status.Final != 0 {
		t.Fatalf("settled after three answers: %+v", status)
	}
	// Three cats and a dog: 0.8³·0.2 / (0.8³·0.2 + 0.2³·0.8) = 0.941 ≥ 0.9.
	if sum.Overlap != 1 || sum.Arbitrated != 0 || sum.Annotations != 4 {
		t.Fatalf("summary = %+v", sum)
	}
	r := ce.recorded.Results[0]
	if r.Method != MethodOverlap || string(r.Final) != `"cat"` || len(r.Annotations) != 4 {
		t.Fatalf("result = %+v", r)
	}
}

func TestDynamicOverlapFallsBackToAReviewer(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings()
	set.Overlap = spec.Overlap{Mode: "dynamic", ConfidenceTarget: 0.9, MaxAnnotations: 4}
	people := []Worker{annotator("ann-a"), annotator("ann-b"), annotator("ann-c"), annotator("ann-d")}
	answers := []string{"cat", "dog", "cat", "dog"}
	claims := make([]outcome[Suite], 4)
	subs := make([]outcome[SubmitResult], 4)
	var rev outcome[Suite]
	var rs outcome[SubmitResult]
	steps := []func(){}
	for i := range people {
		steps = append(steps,
			func() { ce.claim(people[i], &claims[i]) },
			func() { ce.submit(people[i], must(t, "claim", &claims[i]), always(answers[i]), &subs[i]) })
	}
	steps = append(steps,
		func() { ce.claim(reviewer("rev-r"), &rev) },
		func() { ce.submit(reviewer("rev-r"), must(t, "reviewer claim", &rev), always("dog"), &rs) })
	ce.script(steps...)
	sum := ce.run(ChunkInput{Settings: set, Items: 1})
	if sum.Arbitrated != 1 || sum.Overlap != 0 || sum.Annotations != 4 || string(ce.recorded.Results[0].Final) != `"dog"` {
		t.Fatalf("summary = %+v, result %+v", sum, ce.recorded.Results[0])
	}
}

func TestBelowTheAccuracyThresholdOnlyGoldIsOffered(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings()
	set.SuiteSize = 3
	set.MinAccuracy = 0.7
	weak := Worker{ID: "ann-weak", Role: RoleAnnotator, Languages: []string{"en"}, Accuracy: 0.55}
	weak2 := Worker{ID: "ann-weak2", Role: RoleAnnotator, Languages: []string{"en"}, Accuracy: 0.55}
	weak3 := Worker{ID: "ann-weak3", Role: RoleAnnotator, Languages: []string{"en"}, Accuracy: 0.55}
	a := Worker{ID: "ann-a", Role: RoleAnnotator, Languages: []string{"en"}, Accuracy: 0.9}
	b := Worker{ID: "ann-b", Role: RoleAnnotator, Languages: []string{"en"}, Accuracy: 0.9}
	var cw, cw2, cw3, ca, cb outcome[Suite]
	var sw, sw2, sa, sb outcome[SubmitResult]
	ce.script(
		func() { ce.claim(weak, &cw); ce.claim(weak2, &cw2) },
		func() {
			for _, s := range []*outcome[Suite]{&cw, &cw2} {
				got := must(t, "weak claim", s)
				if len(got.Tasks) != 1 || got.Tasks[0].Item != 2 {
					t.Fatalf("a person below the threshold got %+v, want the gold item only", got.Tasks)
				}
			}
			ce.submit(weak, must(t, "claim", &cw), always("cat"), &sw)
			ce.submit(weak2, must(t, "claim", &cw2), always("cat"), &sw2)
		},
		func() { ce.claim(weak3, &cw3); ce.claim(a, &ca); ce.claim(b, &cb) },
		func() {
			ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
			ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb)
		},
	)
	ce.run(ChunkInput{Settings: set, Items: 3, Gold: 1})
	rejected(t, "claim below the threshold with no gold left", &cw3, ErrTrainingOnly)
	if !strings.Contains(cw3.err.Error(), "0.55") {
		t.Errorf("the reason does not say the person's accuracy: %v", cw3.err)
	}
}

// Settled answers leave the workflow as the chunk goes: each part is stored, the state keeps who
// answered and when, and RecordChunk gets the rest inline with the number of parts to read back.
func TestSettledAnswersAreStoredAsTheChunkGoes(t *testing.T) {
	round := func(ce *chunkEnv, a, b Worker, ca, cb *outcome[Suite], sa, sb *outcome[SubmitResult]) []func() {
		return []func(){
			func() { ce.claim(a, ca); ce.claim(b, cb) },
			func() {
				ce.submit(a, must(t, "claim a", ca), always("cat"), sa)
				ce.submit(b, must(t, "claim b", cb), always("cat"), sb)
			},
		}
	}
	set := settings()
	set.SpillBytes = 1 // store whatever is settled
	a, b := annotator("ann-a"), annotator("ann-b")

	ce := newChunkEnv(t)
	var ca1, cb1, ca2, cb2 outcome[Suite]
	var sa1, sb1, sa2, sb2 outcome[SubmitResult]
	ce.script(steps(round(ce, a, b, &ca1, &cb1, &sa1, &sb1), round(ce, a, b, &ca2, &cb2, &sa2, &sb2))...)
	sum := ce.run(ChunkInput{Settings: set, Items: 4})
	if len(ce.settled) != 1 || ce.settled[0].Part != 0 || len(ce.settled[0].Results) != 2 {
		t.Fatalf("settled parts = %+v", ce.settled)
	}
	for i, r := range ce.settled[0].Results {
		if r.Item != i || string(r.Final) != `"cat"` || len(r.Annotations) != 2 || string(r.Annotations[1].Answer) != `"cat"` {
			t.Fatalf("settled result %d = %+v", i, r)
		}
	}
	if ce.recorded.Parts != 1 || len(ce.recorded.Results) != 2 || ce.recorded.Results[0].Item != 2 || ce.recorded.Results[1].Item != 3 {
		t.Fatalf("recorded = parts %d, results %+v", ce.recorded.Parts, ce.recorded.Results)
	}
	if sum.Delivered != 4 || sum.Agreed != 4 {
		t.Fatalf("summary = %+v", sum)
	}

	// Continued as new after the first part: the next run carries no stored answer.
	set.MaxUpdatesPerRun = 4
	ce = newChunkEnv(t)
	var ca, cb outcome[Suite]
	var sa, sb outcome[SubmitResult]
	ce.script(round(ce, a, b, &ca, &cb, &sa, &sb)...)
	ce.env.ExecuteWorkflow(ChunkWorkflow, sealed(testWorkflowID, ActionStart, ChunkInput{Settings: set, Items: 4}))
	var next ChunkInput
	continuedAsNew(t, ce.env, &next)
	it := next.State.Items[0]
	if next.State.Parts != 1 || !it.Spilled || len(it.Annotations) != 2 || it.Annotations[0].Answer != nil || it.Annotations[0].Worker != "ann-a" {
		t.Fatalf("next state: parts %d, item 0 %+v", next.State.Parts, it)
	}
}
