package workflows

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/label"
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
	ce.env.OnActivity(a.DeliverChunk, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeliverChunkInput) (activities.DeliveryReceipt, error) {
			return activities.DeliveryReceipt{Chunk: in.Chunk, Items: len(ce.recorded.Results), Key: "k"}, nil
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

func (ce *chunkEnv) claim(w Worker, out *outcome[Suite]) {
	ce.env.UpdateWorkflow(UpdateClaim, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { out.err, out.ok = err, true },
		OnAccept: func() {},
		OnComplete: func(v any, err error) {
			out.err, out.ok = err, true
			if s, ok := v.(Suite); ok {
				out.val = s
			}
		},
	}, ClaimRequest{Worker: w})
}

func (ce *chunkEnv) submit(w Worker, s Suite, answer func(item int) label.Answer, out *outcome[SubmitResult]) {
	req := SubmitRequest{Worker: w, SuiteID: s.ID}
	for _, t := range s.Tasks {
		req.Answers = append(req.Answers, TaskAnswer{Item: t.Item, Answer: answer(t.Item)})
	}
	ce.submitReq(req, out)
}

func (ce *chunkEnv) submitReq(req SubmitRequest, out *outcome[SubmitResult]) {
	ce.env.UpdateWorkflow(UpdateSubmit, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { out.err, out.ok = err, true },
		OnAccept: func() {},
		OnComplete: func(v any, err error) {
			out.err, out.ok = err, true
			if r, ok := v.(SubmitResult); ok {
				out.val = r
			}
		},
	}, req)
}

// script runs steps one simulated second apart, so each sees the previous step's outcome.
func (ce *chunkEnv) script(steps ...func()) {
	for i, fn := range steps {
		ce.step(time.Duration(i+1)*time.Second, fn)
	}
}

func (ce *chunkEnv) run(in ChunkInput) ChunkSummary {
	ce.t.Helper()
	ce.env.ExecuteWorkflow(ChunkWorkflow, in)
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
