package gateway

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// Ops pause a project to stop it offering work (no claim gets a suite, no chunk starts; suites
// already leased can still be submitted) and resume it later. Like cancel, each is sealed for the
// project workflow, which checks the role again, and audited.

// PauseBody pauses or resumes a project; a pause needs a reason.
type PauseBody struct {
	Reason string `json:"reason"`
}

// PauseAnswer is a project's state after a pause or resume.
type PauseAnswer struct {
	Project string `json:"project"`
	Stage   string `json:"stage"`
	Paused  bool   `json:"paused"`
}

func pauseAnswerOf(st workflows.ProjectStatus) PauseAnswer {
	return PauseAnswer{Project: st.ID, Stage: st.Stage, Paused: st.Paused != nil}
}

func (g *Gateway) pauseRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/projects/{project}/pause", g.action(g.pauseAction(g.app.PauseProject)))
	mux.HandleFunc("POST /v1/projects/{project}/resume", g.action(g.pauseAction(g.app.ResumeProject)))
}

// pauseFunc is App.PauseProject or App.ResumeProject.
type pauseFunc func(ctx context.Context, act app.Actor, project, reason string) (workflows.ProjectStatus, error)

// pauseAction serves a pause or a resume: the body's reason goes to do, its answer to the person.
func (g *Gateway) pauseAction(do pauseFunc) handler {
	return func(w http.ResponseWriter, r *http.Request, p workforce.Person) {
		var body PauseBody
		if !decodeJSON(w, r, 4<<10, &body) {
			return
		}
		project := r.PathValue("project")
		st, err := do(r.Context(), actor(r, p), project, body.Reason)
		if err != nil {
			g.actionFailed(w, err)
			return
		}
		g.forgetState(project)
		writeJSON(w, http.StatusOK, pauseAnswerOf(st))
	}
}

// forgetState drops the project's cached state, so that this gateway's next claim or feed sees
// the pause or resume at once rather than after the cache's TTL. (The chunks refuse claims
// while paused whatever a gateway's cache says.)
func (g *Gateway) forgetState(project string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running.remove(project)
}

// Pause stops a project from offering work until it is resumed.
func (c *Client) Pause(ctx context.Context, project, reason string) (PauseAnswer, error) {
	var out PauseAnswer
	return out, c.post(ctx, "/v1/projects/"+url.PathEscape(project)+"/pause", PauseBody{Reason: reason}, &out)
}

// Resume makes a paused project's work available again.
func (c *Client) Resume(ctx context.Context, project, reason string) (PauseAnswer, error) {
	var out PauseAnswer
	return out, c.post(ctx, "/v1/projects/"+url.PathEscape(project)+"/resume", PauseBody{Reason: reason}, &out)
}
