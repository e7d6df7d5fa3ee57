package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// pauseCall is what a pause or resume route passed on to the application.
type pauseCall struct {
	actor           app.Actor
	project, reason string
}

// servePause runs one request through a pause route whose application answers with st and err.
func servePause(t *testing.T, body string, st workflows.ProjectStatus, err error) (*httptest.ResponseRecorder, *pauseCall) {
	t.Helper()
	var got *pauseCall
	do := func(_ context.Context, act app.Actor, project, reason string) (workflows.ProjectStatus, error) {
		got = &pauseCall{act, project, reason}
		return st, err
	}
	r := httptest.NewRequest(http.MethodPost, "/v1/projects/p1/pause", strings.NewReader(body))
	r.SetPathValue("project", "p1")
	w := httptest.NewRecorder()
	g := &Gateway{running: newLRU[string, runningCache](4)}
	g.running.put("p1", runningCache{status: workflows.ProjectStatus{ID: "p1", Stage: workflows.StageAnnotating}, at: time.Now()})
	g.pauseAction(do)(w, r, workforce.Person{ID: "olu", Role: app.RoleOps})
	// A pause or resume that took effect drops the state cached before it; a refusal keeps it.
	done := err == nil && got != nil
	if _, cached := g.running.get("p1"); cached == done {
		t.Errorf("after HTTP %d (took effect: %v) the project's state is cached: %v", w.Code, done, cached)
	}
	return w, got
}

func TestPauseAnswersTheProjectState(t *testing.T) {
	st := workflows.ProjectStatus{ID: "p1", Stage: workflows.StageAnnotating, Paused: &workflows.Pause{By: "olu", Reason: "taxonomy"}}
	w, got := servePause(t, `{"reason":"taxonomy"}`, st, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d %s", w.Code, w.Body)
	}
	if got == nil || got.project != "p1" || got.reason != "taxonomy" || got.actor.ID != "olu" {
		t.Fatalf("the application was asked %+v", got)
	}
	var answer map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"project": "p1", "stage": "annotating", "paused": true}
	if fmt.Sprint(answer) != fmt.Sprint(want) {
		t.Fatalf("answer %v, want %v", answer, want)
	}
	st.Paused = nil
	if w, _ := servePause(t, `{}`, st, nil); !strings.Contains(w.Body.String(), `"paused":false`) {
		t.Fatalf("a resumed project answers %s", w.Body)
	}
}

func TestPauseRefusalsKeepTheirStatus(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		err    error
		status int
		code   string
	}{
		{"unknown field", `{"reason":"x","force":true}`, nil, http.StatusBadRequest, "invalid_request"},
		{"body too large", `{"reason":"` + strings.Repeat("x", 5<<10) + `"}`, nil, http.StatusRequestEntityTooLarge, "too_large"},
		{"not ops", `{"reason":"x"}`, fmt.Errorf("%w: amina has the role annotator", app.ErrForbidden), http.StatusForbidden, "forbidden"},
		{"not running", `{"reason":"x"}`, fmt.Errorf("%w: project p1 is not running", app.ErrNotFound), http.StatusNotFound, "not_found"},
		{"already paused", `{"reason":"x"}`, temporal.NewApplicationError("project p1 was already paused by olu", workflows.ErrRepeated), http.StatusConflict, "repeated_submission"},
		{"not paused", `{}`, temporal.NewApplicationError("project p1 is not paused", workflows.ErrWrongStage), http.StatusConflict, "wrong_stage"},
		{"no reason", `{}`, temporal.NewApplicationError("reason: say why the project is paused", workflows.ErrInvalidRequest), http.StatusBadRequest, "invalid_request"},
	}
	for _, c := range cases {
		w, got := servePause(t, c.body, workflows.ProjectStatus{}, c.err)
		var e ErrorBody
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != c.status || e.Error.Code != c.code || e.Error.Message == "" {
			t.Errorf("%s: HTTP %d %s, want %d %s", c.name, w.Code, w.Body, c.status, c.code)
		}
		if c.err == nil && got != nil {
			t.Errorf("%s: a refused body reached the application", c.name)
		}
	}
}
