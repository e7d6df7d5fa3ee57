package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/labelflow/labelflow/internal/results"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// Suites a person is done with: a submission the chunk did not answer (it closed, or did not
// answer in time) is looked up in the closed chunk's record, so that a retry gets its original
// answer; and a suite its holder will not finish is released.

// submitUnanswered answers a submission whose Update was not answered. A chunk that closed has
// recorded its accepted suites: the person who submitted one gets the original result again.
func (g *Gateway) submitUnanswered(ctx context.Context, w http.ResponseWriter, project, suiteID string, p workforce.Person, err error) {
	gone, late := isGone(err), isTimeout(err) && ctx.Err() == nil
	if !gone && !late {
		g.fail(w, err)
		return
	}
	if s, ok := g.recordedSuite(ctx, project, suiteID); ok {
		if s.Worker != p.ID {
			writeError(w, http.StatusForbidden, "wrong_annotator", "suite "+suiteID+" was leased to someone else")
			return
		}
		writeJSON(w, http.StatusOK, SubmitAnswer{SuiteID: s.SuiteID, Accepted: s.Accepted})
		return
	}
	if gone {
		writeError(w, http.StatusNotFound, "unknown_suite", "suite "+suiteID+" belongs to no open chunk of project "+project)
		return
	}
	w.Header().Set("Retry-After", "2")
	writeError(w, http.StatusServiceUnavailable, "busy", "the chunk did not answer in time; submit again, the answer is kept only once")
}

// recordedSuite finds suiteID among the accepted suites its chunk recorded when it closed. A
// chunk still open, or one whose record cannot be read now, has none to offer.
func (g *Gateway) recordedSuite(ctx context.Context, project, suiteID string) (results.SubmittedSuite, bool) {
	chunk, err := workflows.ParseSuiteID(suiteID)
	if err != nil {
		return results.SubmittedSuite{}, false
	}
	rec, err := results.ReadChunkSuites(ctx, g.app.Store, project, chunk)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			g.log.Warn().Err(err).Str("suite", suiteID).Msg("the closed chunk's suites could not be read")
		}
		return results.SubmittedSuite{}, false
	}
	return rec.Find(suiteID)
}

// releaseSuite gives back a suite its holder will not finish: its items are offered again at once
// instead of when the lease runs out.
func (g *Gateway) releaseSuite(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	ctx := r.Context()
	project, suiteID := r.PathValue("project"), r.PathValue("suite")
	chunk, err := workflows.ParseSuiteID(suiteID)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "suite: "+err.Error())
		return
	}
	var res workflows.ReleaseResult
	err = g.sealedUpdate(ctx, workflows.ChunkWorkflowID(project, chunk), workflows.UpdateReleaseSuite, releaseRequest(p, suiteID), &res)
	switch {
	case err == nil:
		g.claims.done(project, p.ID, suiteID, chunk, true)
		writeJSON(w, http.StatusOK, releaseAnswer(res))
	case isGone(err):
		writeError(w, http.StatusNotFound, "unknown_suite", "suite "+suiteID+" belongs to no open chunk of project "+project)
	case isTimeout(err) && ctx.Err() == nil:
		w.Header().Set("Retry-After", "2")
		writeError(w, http.StatusServiceUnavailable, "busy", "the chunk did not answer in time; release again")
	default:
		g.fail(w, err)
	}
}
