package gateway

import (
	"encoding/json"
	"errors"

	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// The gateway's JSON is its own: requests and answers are declared here and converted to and from
// the workflows' messages below, in one place, so that a change to a workflow message never
// changes the API by accident (and the reverse).

// SubmitBody is the body of a submission: an answer to each task of the suite.
type SubmitBody struct {
	Answers []AnswerBody `json:"answers"`
	// Next asks for the submitter's next suite with the answer, in the same message to the chunk.
	Next bool `json:"next,omitempty"`
}

// AnswerBody answers one task of a suite, named by its item.
type AnswerBody struct {
	Item   int             `json:"item"`
	Answer json.RawMessage `json:"answer"`
}

// SubmitAnswer acknowledges a submission: the suite and how many of its answers were accepted.
type SubmitAnswer struct {
	SuiteID  string `json:"suite_id"`
	Accepted int    `json:"accepted"`
	// Next is the submitter's next suite, when they asked for it and the chunk had one for them.
	Next *SuiteView `json:"next,omitempty"`
}

// ReleaseAnswer acknowledges the release of a suite: its items are offered to others again.
type ReleaseAnswer struct {
	SuiteID  string `json:"suite_id"`
	Released bool   `json:"released"`
}

// releaseRequest is p's release of a suite they hold.
func releaseRequest(p workforce.Person, suiteID string) workflows.ReleaseRequest {
	return workflows.ReleaseRequest{Worker: asWorker(p), SuiteID: suiteID}
}

// releaseAnswer is the API's answer to a release the workflow took.
func releaseAnswer(r workflows.ReleaseResult) ReleaseAnswer {
	return ReleaseAnswer{SuiteID: r.SuiteID, Released: r.Released}
}

// asWorker is a person as the chunk workflows know them.
func asWorker(p workforce.Person) workflows.Worker {
	return workflows.Worker{ID: p.ID, Role: p.Role, Skills: p.Skills, Languages: p.Languages}
}

// claimRequest is p's claim for work.
func claimRequest(p workforce.Person) workflows.ClaimRequest {
	return workflows.ClaimRequest{Worker: asWorker(p)}
}

// submitRequest is p's submission of body for the suite.
func submitRequest(p workforce.Person, suiteID string, body SubmitBody) workflows.SubmitRequest {
	answers := make([]workflows.TaskAnswer, len(body.Answers))
	for i, a := range body.Answers {
		answers[i] = workflows.TaskAnswer{Item: a.Item, Answer: a.Answer}
	}
	if body.Answers == nil {
		answers = nil // no answers stays no answers: the workflow names what is missing
	}
	return workflows.SubmitRequest{Worker: asWorker(p), SuiteID: suiteID, Answers: answers}
}

// submitAnswer is the API's answer to a submission the workflow took.
func submitAnswer(r workflows.SubmitResult) SubmitAnswer {
	return SubmitAnswer{SuiteID: r.SuiteID, Accepted: r.Accepted}
}

// suiteView is a leased suite as its worker sees it: each task with its item's content (from the
// chunk's items) and, for arbitration, the two answers, unattributed.
// media, when given, adds each task's image link.
func suiteView(sp spec.Project, s workflows.Suite, items []manifest.Item, media func(*TaskView, manifest.Item)) (SuiteView, error) {
	v := SuiteView{ID: s.ID, Kind: s.Kind, ExpiresAt: s.ExpiresAt, AnnotationType: sp.Annotation.Type,
		Taxonomy: sp.Annotation.Taxonomy, Instructions: sp.Annotation.Instructions}
	for _, t := range s.Tasks {
		if t.Item < 0 || t.Item >= len(items) {
			return v, errors.New("suite names an item outside its chunk")
		}
		it := items[t.Item]
		tv := TaskView{Item: t.Item, Source: it.Source, SourceRef: it.SourceRef, Answers: t.Answers, Width: t.Width, Height: t.Height}
		if media != nil {
			media(&tv, it)
		}
		v.Tasks = append(v.Tasks, tv)
	}
	return v, nil
}

// payrollAnswerOf is the API's answer about a month's payroll: its stage, approver and the people
// whose payouts are held.
func payrollAnswerOf(st workflows.PayrollStatus) PayrollAnswer {
	a := PayrollAnswer{Month: st.Month, Stage: st.Stage, Approver: st.Approver}
	for _, h := range st.Holds {
		a.Held = append(a.Held, h.Person)
	}
	return a
}
