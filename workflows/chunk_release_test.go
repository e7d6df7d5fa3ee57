package workflows

import (
	"testing"

	"go.temporal.io/sdk/testsuite"

	"github.com/labelflow/labelflow/activities"
)

// validated records whether an Update was refused by its validator (which leaves no event in
// history) or handled.
type validated[T any] struct {
	outcome[T]
	refused bool
}

// sendValidated sends a sealed Update and records how it ended.
func sendValidated[T any](env *testsuite.TestWorkflowEnvironment, name string, arg any, out *validated[T]) {
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnReject: func(err error) { out.err, out.ok, out.refused = err, true, true },
		OnAccept: func() {},
		OnComplete: func(v any, err error) {
			out.err, out.ok = err, true
			if r, ok := v.(T); ok {
				out.val = r
			}
		},
	}, sealedAt(env.Now(), testWorkflowID, name, arg))
}

// A person repeating an accepted submission (a lost answer, a "busy" retry) gets the original
// result back, by the validator's rejection, so nothing reaches history; anyone else is refused.
// The closed chunk's record keeps the accepted suites for repeats after it ends.
func TestRepeatedSubmitReturnsTheOriginalResult(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	var ca, cb outcome[Suite]
	var first, sb outcome[SubmitResult]
	var again, byOther validated[SubmitResult]
	var req SubmitRequest
	ce.script(
		func() { ce.claim(a, &ca) },
		func() {
			s := must(t, "claim a", &ca)
			req = SubmitRequest{Worker: a, SuiteID: s.ID}
			for _, task := range s.Tasks {
				req.Answers = append(req.Answers, TaskAnswer{Item: task.Item, Answer: ans("cat")})
			}
			ce.submitReq(req, &first)
		},
		func() {
			sendValidated(ce.env, UpdateSubmit, req, &again)
			other := req
			other.Worker = b
			sendValidated(ce.env, UpdateSubmit, other, &byOther)
			ce.claim(b, &cb)
		},
		func() { ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb) },
	)
	ce.run(ChunkInput{Settings: settings(), Items: 2})
	want := must(t, "first submit", &first)
	rejected(t, "repeated submit", &again.outcome, ErrAlreadySubmitted)
	if got, ok := SubmittedResult(again.err); !ok || got != want || !again.refused {
		t.Fatalf("repeat carries %+v (ok %v, refused by the validator %v), want %+v", got, ok, again.refused, want)
	}
	rejected(t, "repeat by another person", &byOther.outcome, ErrWrongPerson)
	sa := activities.SubmittedSuite{SuiteID: want.SuiteID, Worker: "ann-a", Accepted: 2}
	if s := ce.recorded.Suites; len(s) != 2 || s[0] != sa || s[1].Worker != "ann-b" {
		t.Fatalf("recorded suites = %+v, want ann-a's %+v first, then ann-b's", s, sa)
	}
}

// A released suite's items are offered again at once, long before its lease would run out, to
// someone who could not get them while the suite was held. Only its holder, with a seal, can
// release it.
func TestReleasedSuiteGoesBackAtOnce(t *testing.T) {
	ce := newChunkEnv(t)
	a, b, c := annotator("ann-a"), annotator("ann-b"), annotator("ann-c")
	var ca, cb, cBefore, cAfter outcome[Suite]
	var forged, byOther, unknown, again validated[ReleaseResult]
	var released outcome[ReleaseResult]
	var sb, sc outcome[SubmitResult]
	ce.script(
		func() { ce.claim(a, &ca); ce.claim(b, &cb) },
		func() {
			ce.claim(c, &cBefore) // both annotators of each item are taken
			id := must(t, "claim a", &ca).ID
			sendRaw(ce.env, UpdateReleaseSuite, ReleaseRequest{Worker: a, SuiteID: id}, &forged.outcome)
			sendValidated(ce.env, UpdateReleaseSuite, ReleaseRequest{Worker: c, SuiteID: id}, &byOther)
			sendValidated(ce.env, UpdateReleaseSuite, ReleaseRequest{Worker: a, SuiteID: "c000000-s00099"}, &unknown)
		},
		func() {
			sendUpdate(ce.env, UpdateReleaseSuite, ReleaseRequest{Worker: a, SuiteID: must(t, "claim a", &ca).ID}, &released)
		},
		func() {
			sendValidated(ce.env, UpdateReleaseSuite, ReleaseRequest{Worker: a, SuiteID: must(t, "claim a", &ca).ID}, &again)
			ce.claim(c, &cAfter)
		},
		func() {
			ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb)
			ce.submit(c, must(t, "claim c after the release", &cAfter), always("cat"), &sc)
		},
	)
	sum := ce.run(ChunkInput{Settings: settings(), Items: 2})
	rejected(t, "claim while the items are held", &cBefore, ErrNoWork)
	rejected(t, "release without a seal", &forged.outcome, ErrUnauthenticated)
	rejected(t, "release by someone else", &byOther.outcome, ErrWrongPerson)
	rejected(t, "release of a suite never leased", &unknown.outcome, ErrUnknownSuite)
	if r := must(t, "release", &released); !r.Released || r.SuiteID != must(t, "claim a", &ca).ID {
		t.Fatalf("release = %+v", r)
	}
	rejected(t, "release of a suite already released", &again.outcome, ErrUnknownSuite)
	if sum.Agreed != 2 || sum.LeasesExpired != 0 {
		t.Fatalf("summary = %+v, want both items agreed and no lease expired", sum)
	}
	for _, r := range ce.recorded.Results {
		for _, an := range r.Annotations {
			if an.Worker == "ann-a" {
				t.Fatalf("item %d has an answer of the person who released it", r.Item)
			}
		}
	}
}
