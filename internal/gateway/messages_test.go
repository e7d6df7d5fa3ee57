package gateway

import (
	"encoding/json"
	"testing"

	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// The gateway's own types keep the wire format the API documents, which is that of the workflow
// messages they convert to and from.
func TestSubmitKeepsItsWireFormat(t *testing.T) {
	body := []byte(`{"answers":[{"item":3,"answer":"positive"},{"item":4,"answer":{"boxes":[]}}]}`)
	var sb SubmitBody
	if err := json.Unmarshal(body, &sb); err != nil {
		t.Fatal(err)
	}
	req := submitRequest(workforce.Person{ID: "ann-a", Role: "annotator", Languages: []string{"en"}}, "c000001-s00002", sb)
	if req.SuiteID != "c000001-s00002" || req.Worker.ID != "ann-a" || req.Worker.Role != "annotator" || len(req.Worker.Languages) != 1 {
		t.Fatalf("request = %+v", req)
	}
	got, _ := json.Marshal(struct {
		Answers []workflows.TaskAnswer `json:"answers"`
	}{req.Answers})
	if string(got) != string(body) {
		t.Fatalf("answers reach the workflow as %s, sent %s", got, body)
	}
	again, _ := json.Marshal(sb)
	if string(again) != string(body) {
		t.Fatalf("SubmitBody encodes as %s", again)
	}
	if req := submitRequest(workforce.Person{}, "s", SubmitBody{}); req.Answers != nil {
		t.Fatal("a body without answers reaches the workflow with answers")
	}
	answer, _ := json.Marshal(submitAnswer(workflows.SubmitResult{SuiteID: "c000001-s00002", Accepted: 2}))
	if string(answer) != `{"suite_id":"c000001-s00002","accepted":2}` {
		t.Fatalf("submit answer = %s", answer)
	}
}

func TestPayrollAnswerNamesTheHeldPeople(t *testing.T) {
	st := workflows.PayrollStatus{Month: "2026-11", Stage: workflows.PayrollAwaitingApproval, Holds: []workflows.Hold{{Person: "ann-a"}, {Person: "ann-b"}}}
	got, _ := json.Marshal(payrollAnswerOf(st))
	if string(got) != `{"month":"2026-11","stage":"awaiting-approval","held":["ann-a","ann-b"]}` {
		t.Fatalf("payroll answer = %s", got)
	}
}
