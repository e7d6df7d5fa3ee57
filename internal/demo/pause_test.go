package demo

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/audit"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/workflows"
)

// Ops pause a project through the gateway: nobody gets new work, the suite an annotator already
// holds is still taken, only ops may pause or resume, a resume offers the work again, and every
// attempt leaves an audit record.
func TestPauseAndResumeThroughTheGateway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, _, err := LaunchProject(ctx, env, RunOptions{ProjectID: "it-pause", Items: 30, Seed: 14, ChunkSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	awaitRunning(ctx, t, p.ID)
	annotator := crowdToken(ctx, t) // amina
	base := env.GatewayURL + "/v1/projects/" + p.ID
	held := claimSuite(t, tokAmina, base)

	var apiErr *gateway.APIError
	crowd := gateway.NewClient(env.GatewayURL, annotator)
	if _, err := crowd.Pause(ctx, p.ID, "annotator"); !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Fatalf("an annotator pausing: %v, want 403", err)
	}
	opsToken, err := StaffToken(ctx, env.App, OpsDemo)
	if err != nil {
		t.Fatal(err)
	}
	ops := gateway.NewClient(env.GatewayURL, opsToken)
	out, err := ops.Pause(ctx, p.ID, "client is revising the taxonomy")
	if err != nil {
		t.Fatal(err)
	}
	if !out.Paused || out.Project != p.ID {
		t.Fatalf("pause answered %+v", out)
	}
	if _, err := ops.Pause(ctx, p.ID, "again"); !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict {
		t.Fatalf("a second pause: %v, want 409", err)
	}
	st, err := env.App.ProjectState(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Paused == nil || st.Paused.By != OpsDemo.ID || st.Paused.Reason != "client is revising the taxonomy" {
		t.Fatalf("project state while paused: %+v", st.Paused)
	}

	if got := claimOnce(t, tokGrace, base); got.Suite != nil || got.Reason != workflows.NoWorkPaused {
		t.Fatalf("grace's claim while paused: suite %v, reason %q; want none, because paused", got.Suite, got.Reason)
	}
	// The suite amina held before the pause is still hers to submit.
	var res gateway.SubmitAnswer
	mustJSON(t, call(t, tokAmina, "POST", base+"/suites/"+held.ID+"/submit", held.answers("positive"), 200, ""), &res)
	if res.Accepted != len(held.Tasks) {
		t.Fatalf("submit while paused accepted %d of %d answers", res.Accepted, len(held.Tasks))
	}

	if _, err := crowd.Resume(ctx, p.ID, ""); !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Fatalf("an annotator resuming: %v, want 403", err)
	}
	if out, err = ops.Resume(ctx, p.ID, "taxonomy confirmed"); err != nil || out.Paused {
		t.Fatalf("resume: %+v %v", out, err)
	}
	if got := claimOnce(t, tokGrace, base); got.Suite == nil {
		t.Fatalf("grace's claim after the resume got nothing: %+v", got)
	}

	if recs := auditRecords(ctx, t, "pause", p.ID); len(recs) != 3 || recs[0].Outcome != audit.Refused ||
		recs[1].Outcome != audit.Done || recs[1].Person != OpsDemo.ID || recs[2].Outcome != audit.Refused {
		t.Fatalf("audit of pause: %+v", recs)
	}
	if recs := auditRecords(ctx, t, "resume", p.ID); len(recs) != 2 || recs[0].Outcome != audit.Refused ||
		recs[1].Outcome != audit.Done || recs[1].Details["reason"] != "taxonomy confirmed" {
		t.Fatalf("audit of resume: %+v", recs)
	}
}

// claimOnce claims work of the project at base through the gateway, once.
func claimOnce(t *testing.T, token, base string) gateway.ClaimResponse {
	t.Helper()
	var out gateway.ClaimResponse
	mustJSON(t, call(t, token, "POST", base+"/claim", nil, 200, ""), &out)
	return out
}
