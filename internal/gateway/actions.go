package gateway

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// Finance and ops act through these routes with their own tokens: the gateway establishes who
// they are and their role from the roster, seals the request for the workflow, and every action
// leaves an audit record (internal/audit), refused or not. Ids in the path (month, project) are
// checked by authenticated before anything else.

// ApproveBody approves a month's payroll.
type ApproveBody struct {
	Note string `json:"note,omitempty"`
}

// HoldBody holds one person's payout.
type HoldBody struct {
	Person string `json:"person"`
	Reason string `json:"reason"`
}

// RejectBody sets a person's work aside from pay.
type RejectBody struct {
	Project string `json:"project"`
	Person  string `json:"person"`
	Chunks  []int  `json:"chunks,omitempty"`
	Reason  string `json:"reason"`
}

// ReverseBody reverses a rejection.
type ReverseBody struct {
	Note string `json:"note,omitempty"`
}

// PayrollAnswer is the month's payroll after an action.
type PayrollAnswer struct {
	Month    string   `json:"month"`
	Stage    string   `json:"stage"`
	Approver string   `json:"approver,omitempty"`
	Held     []string `json:"held,omitempty"`
}

// RejectionAnswer names a rejection after an action.
type RejectionAnswer struct {
	ID       string `json:"id"`
	Project  string `json:"project"`
	Person   string `json:"person"`
	Reversed bool   `json:"reversed"`
}

// CancelBody cancels a project.
type CancelBody struct {
	Reason string `json:"reason"`
}

// CancelAnswer is a cancelled project's state.
type CancelAnswer struct {
	Project       string `json:"project"`
	Stage         string `json:"stage"`
	ChunksStarted int    `json:"chunks_started"`
	Chunks        int    `json:"chunks"`
}

// LaunchAnswer names a launched project.
type LaunchAnswer struct {
	Project string `json:"project"`
}

// maxSpecBytes bounds a spec sent to launch.
const maxSpecBytes = 256 << 10

func (g *Gateway) actionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/payroll/{month}/approve", g.action(g.approve))
	mux.HandleFunc("POST /v1/payroll/{month}/holds", g.action(g.hold))
	mux.HandleFunc("POST /v1/payroll/{month}/holds/{person}/release", g.action(g.release))
	mux.HandleFunc("POST /v1/rejections", g.action(g.reject))
	mux.HandleFunc("POST /v1/rejections/{id}/reverse", g.action(g.reverse))
	mux.HandleFunc("POST /v1/projects", g.action(g.launch))
	mux.HandleFunc("POST /v1/projects/{project}/cancel", g.action(g.cancel))
}

// actionTime bounds a finance or ops action (the Update, the store and the audit record), below
// the CLI's own timeout so that the person gets the gateway's answer.
const actionTime = 3 * updateTimeout

// action serves a finance or ops route. Unlike work, an action needs the roster itself, not
// a remembered person: while the roster cannot be read the action is refused with 503 before
// anything happens, rather than taken on a stale role and left without its audit record.
func (g *Gateway) action(h handler) http.HandlerFunc {
	return g.authenticated(func(w http.ResponseWriter, r *http.Request, p workforce.Person) {
		ctx, cancel := context.WithTimeout(r.Context(), actionTime)
		defer cancel()
		h(w, r.WithContext(ctx), p)
	}, false)
}

// actor is the authenticated person with the credential they presented.
func actor(r *http.Request, p workforce.Person) app.Actor {
	return app.Actor{Person: p, Credential: credentialFrom(r.Context())}
}

func (g *Gateway) approve(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	var body ApproveBody
	if !decodeJSON(w, r, 4<<10, &body) {
		return
	}
	st, err := g.app.ApprovePayroll(r.Context(), actor(r, p), r.PathValue("month"), body.Note)
	g.payrollAnswer(w, st, err)
}

func (g *Gateway) hold(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	var body HoldBody
	if !decodeJSON(w, r, 4<<10, &body) {
		return
	}
	st, err := g.app.HoldPayout(r.Context(), actor(r, p), r.PathValue("month"), body.Person, body.Reason, false)
	g.payrollAnswer(w, st, err)
}

func (g *Gateway) release(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	st, err := g.app.HoldPayout(r.Context(), actor(r, p), r.PathValue("month"), r.PathValue("person"), "", true)
	g.payrollAnswer(w, st, err)
}

func (g *Gateway) reject(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	var body RejectBody
	if !decodeJSON(w, r, 16<<10, &body) {
		return
	}
	rej, err := g.app.RejectWork(r.Context(), actor(r, p), body.Project, body.Person, body.Chunks, body.Reason)
	if err != nil {
		g.actionFailed(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, RejectionAnswer{ID: rej.ID, Project: rej.Project, Person: rej.Person})
}

func (g *Gateway) reverse(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	var body ReverseBody
	if !decodeJSON(w, r, 4<<10, &body) {
		return
	}
	rej, err := g.app.ReverseRejection(r.Context(), actor(r, p), r.PathValue("id"), body.Note)
	if err != nil {
		g.actionFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, RejectionAnswer{ID: rej.ID, Project: rej.Project, Person: rej.Person, Reversed: true})
}

// launch takes a project spec (YAML or JSON) and starts the project for an ops person.
func (g *Gateway) launch(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSpecBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "the spec is larger than 256 KiB")
		return
	}
	name := r.Header.Get("X-Spec-File")
	if name == "" || len(name) > 200 {
		name = "spec"
	}
	sp, err := g.app.ParseSpec(name, data)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid_spec", err.Error())
		return
	}
	id, err := g.app.Launch(r.Context(), actor(r, p), sp)
	if err != nil {
		g.actionFailed(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, LaunchAnswer{Project: id})
}

// cancel stops a project for an ops person: no more chunks start; running ones finish.
func (g *Gateway) cancel(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	var body CancelBody
	if !decodeJSON(w, r, 4<<10, &body) {
		return
	}
	st, err := g.app.CancelProject(r.Context(), actor(r, p), r.PathValue("project"), body.Reason)
	if err != nil {
		g.actionFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, CancelAnswer{Project: st.ID, Stage: st.Stage, ChunksStarted: st.ChunksStarted, Chunks: st.Chunks})
}

func (g *Gateway) payrollAnswer(w http.ResponseWriter, st workflows.PayrollStatus, err error) {
	if err != nil {
		g.actionFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, payrollAnswerOf(st))
}

// actionFailed answers a refused finance or ops action in plain words.
func (g *Gateway) actionFailed(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, app.ErrForbidden):
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, app.ErrProjectExists):
		writeError(w, http.StatusConflict, "exists", err.Error())
	case errors.Is(err, app.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case workflows.ErrorKind(err) != "":
		g.fail(w, err)
	case errors.Is(err, context.DeadlineExceeded):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "busy", "the action did not complete in time; check its state before trying again")
	case unavailable(err):
		g.fail(w, err) // 503: nothing was refused, a part of the stack is down
	default:
		// Refusals from the app layer (unknown person, missing reason, no such rejection) are
		// written for people; anything else is logged by fail.
		if msg := err.Error(); !strings.Contains(msg, "rpc error") {
			writeError(w, http.StatusUnprocessableEntity, "refused", msg)
			return
		}
		g.fail(w, err)
	}
}

// sealedUpdate seals a worker's request for the chunk workflow it goes to, then sends it.
func (g *Gateway) sealedUpdate(ctx context.Context, workflowID, name string, req any, result any) error {
	var sealed any
	var err error
	switch r := req.(type) {
	case workflows.ClaimRequest:
		sealed, err = workflows.Seal(g.app.Grants, workflowID, name, r, time.Now())
	case workflows.SubmitRequest:
		sealed, err = workflows.Seal(g.app.Grants, workflowID, name, r, time.Now())
	case workflows.ReleaseRequest:
		sealed, err = workflows.Seal(g.app.Grants, workflowID, name, r, time.Now())
	default:
		return errors.New("no seal for this request type")
	}
	if err != nil {
		return err
	}
	return g.update(ctx, workflowID, name, sealed, result)
}
