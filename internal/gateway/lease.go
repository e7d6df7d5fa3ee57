package gateway

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// Leases that fit people: while a person works on a suite, the workbench sends a heartbeat (at
// most once a minute), and the chunk extends the lease to a lease from now, up to its limit. A
// heartbeat that comes soon after the last is answered by the chunk's validator with the lease as
// it stands, so a busy client costs the chunk no history.

// HeartbeatAnswer is a suite's lease after a heartbeat. MediaURLs renews each image link of the
// suite (by item) for the longer lease; it is absent for types without images.
type HeartbeatAnswer struct {
	SuiteID      string            `json:"suite_id"`
	ExpiresAt    time.Time         `json:"expires_at"`
	ExtendsUntil time.Time         `json:"extends_until"`
	LeaseSeconds int               `json:"lease_seconds"`
	MediaURLs    map[string]string `json:"media_urls,omitempty"`
}

func (g *Gateway) leaseRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/projects/{project}/suites/{suite}/heartbeat", g.auth(g.heartbeat))
}

// heartbeat extends the lease of a suite its holder is working on.
func (g *Gateway) heartbeat(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	ctx := r.Context()
	project, suiteID := r.PathValue("project"), r.PathValue("suite")
	chunk, err := workflows.ParseSuiteID(suiteID)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "suite: "+err.Error())
		return
	}
	res, err := g.sendHeartbeat(ctx, workflows.ChunkWorkflowID(project, chunk), workflows.HeartbeatRequest{Worker: asWorker(p), SuiteID: suiteID})
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, g.heartbeatAnswer(ctx, project, chunk, p.ID, res))
	case isGone(err):
		writeError(w, http.StatusNotFound, "unknown_suite", "suite "+suiteID+" belongs to no open chunk of project "+project)
	case isTimeout(err) && ctx.Err() == nil:
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "busy", "the chunk did not answer in time; your lease runs as it did")
	default:
		g.fail(w, err) // 403 wrong_annotator, 404 unknown_suite, 410 lease_expired, 503 when down
	}
}

// sendHeartbeat seals the heartbeat for its chunk and sends it; a heartbeat the chunk found too
// soon after the last is answered with the lease it carries.
func (g *Gateway) sendHeartbeat(ctx context.Context, workflowID string, req workflows.HeartbeatRequest) (workflows.HeartbeatResult, error) {
	var res workflows.HeartbeatResult
	sealed, err := workflows.Seal(g.app.Grants, workflowID, workflows.UpdateHeartbeat, req, time.Now())
	if err != nil {
		return res, err
	}
	err = g.update(ctx, workflowID, workflows.UpdateHeartbeat, sealed, &res)
	if cur, ok := workflows.CurrentLease(err); ok {
		return cur, nil
	}
	return res, err
}

// heartbeatAnswer is the API's answer to a heartbeat: the lease, and for images links that last
// as long as it. Without the spec or the chunk's items (the store is slow or down) the lease
// still stands; the links given with the claim are kept.
func (g *Gateway) heartbeatAnswer(ctx context.Context, project string, chunk int, worker string, res workflows.HeartbeatResult) HeartbeatAnswer {
	a := HeartbeatAnswer{SuiteID: res.SuiteID, ExpiresAt: res.ExpiresAt, ExtendsUntil: res.Limit}
	sp, err := g.spec(ctx, project)
	if err != nil {
		return a
	}
	a.LeaseSeconds = int(sp.LeaseDuration() / time.Second)
	a.MediaURLs = g.renewedMedia(ctx, sp, chunk, worker, res)
	return a
}

// renewedMedia signs each image of the suite's items again, until the extended lease ends.
func (g *Gateway) renewedMedia(ctx context.Context, sp spec.Project, chunk int, worker string, res workflows.HeartbeatResult) map[string]string {
	if !imageAnnotation(sp.Annotation.Type) {
		return nil
	}
	items, err := g.chunkItems(ctx, sp.ID, chunk)
	if err != nil {
		g.log.Warn().Err(err).Str("suite", res.SuiteID).Msg("image links not renewed with the lease")
		return nil
	}
	out := map[string]string{}
	for _, i := range res.Items {
		if i >= 0 && i < len(items) && items[i].SourceRef != "" {
			out[strconv.Itoa(i)] = g.mediaURL(sp.ID, chunk, i, worker, res.ExpiresAt)
		}
	}
	return out
}
