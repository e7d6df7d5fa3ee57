package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// claimBudget bounds a whole claim, however many chunks it asks: under a burst, or with a chunk
// slow to answer (closing, flooded, its worker gone), the person hears within it, with work or
// with when to claim again. A chunk that leased a suite after the claim gave up on it answers
// the person's next claim with that suite (a repeated claim).
const claimBudget = 2 * time.Second

// claimRetry is when a person whose claim found nothing is asked to claim again, at the latest.
const claimRetry = 5 * time.Second

// claimFromChunks sends req to the open chunks that may have work for its person, as the claim
// book orders them, until one leases a suite. A claim the book finds no chunk for is answered at
// once, without an Update, with how soon to claim again. The chunks are asked within find (the
// claim's budget); the suite found is shown within ctx.
func (g *Gateway) claimFromChunks(ctx, find context.Context, w http.ResponseWriter, sp spec.Project, st workflows.ProjectStatus, req workflows.ClaimRequest) {
	now, project, stage := time.Now(), sp.ID, st.Stage
	work := workOf(req.Worker.Role)
	chunks, wait := g.claims.route(project, st.Running, req.Worker.ID, work, now)
	reason, timedOut, tried := "", 0, 0
	for _, chunk := range chunks {
		if tried == maxClaimTries || find.Err() != nil {
			break
		}
		if !g.claims.ask(project, chunk) {
			continue // this gateway already has enough claims at the chunk
		}
		tried++
		suite, err := g.claimChunk(find, project, chunk, req)
		g.claims.answered(project, chunk)
		switch kind := workflows.ErrorKind(err); {
		case err == nil:
			g.claims.hold(project, suite, time.Now())
			g.answerSuite(ctx, w, sp, suite, stage)
			return
		case workflows.NoWorkReason(err) == workflows.NoWorkPaused:
			reason = workflows.NoWorkPaused // paused since this gateway cached the project's state
			g.forgetState(project)
		case kind == workflows.ErrTrainingOnly || workflows.NoWorkReason(err) != "":
			reason = message(err)
			g.claims.refused(project, chunk, req.Worker.ID, work, workflows.ChunkOpenings{}, false, time.Now(), sp.LeaseDuration())
		case isTimeout(err):
			// A chunk that is closing or flooded may not answer in time, and another chunk may
			// have work; but when no worker polls, no chunk will answer. Whether a worker polls
			// is asked once per claim, in what is left of its budget.
			if timedOut++; timedOut == 1 && g.workerDown(find) {
				writeUnavailable(w, partWorker)
				return
			}
		case kind == workflows.ErrNoWork:
			open, known := workflows.NoWorkOpenings(err)
			g.claims.refused(project, chunk, req.Worker.ID, work, open, known, time.Now(), sp.LeaseDuration())
		case isGone(err):
			g.claims.closed(project, chunk, time.Now(), sp.LeaseDuration())
		case isBusy(err):
			// Too many Updates in flight at this chunk: another chunk may answer.
		default:
			g.fail(w, err)
			return
		}
	}
	if tried > 0 && timedOut == tried {
		writeUnavailable(w, partWorker) // no chunk answered: the work is there, the worker is not
		return
	}
	if tried > 0 || wait == 0 {
		wait = time.Second // the chunks asked may have work again soon, or others not asked yet
	}
	noWorkYet(w, stage, min(wait, claimRetry), reason)
}

// claimChunk sends a claim to one chunk, within the claim's budget (ctx); a repeated claim is
// answered with the suite held.
func (g *Gateway) claimChunk(ctx context.Context, project string, chunk int, req workflows.ClaimRequest) (workflows.Suite, error) {
	var suite workflows.Suite
	err := g.sealedUpdate(ctx, workflows.ChunkWorkflowID(project, chunk), workflows.UpdateClaim, req, &suite)
	if held, ok := workflows.HeldSuite(err); ok {
		return held, nil // a repeated claim: the suite already leased
	}
	return suite, err
}

// noWorkYet answers a claim that got no suite: claim again after wait (also sent as Retry-After).
func noWorkYet(w http.ResponseWriter, stage string, wait time.Duration, reason string) {
	secs := max(1, int((wait+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeJSON(w, http.StatusOK, ClaimResponse{ProjectStage: stage, ProjectOpen: open(stage), RetryAfter: secs, Reason: reason})
}

// answerSuite answers a claim with the suite leased, filled with its items' content.
func (g *Gateway) answerSuite(ctx context.Context, w http.ResponseWriter, sp spec.Project, s workflows.Suite, stage string) {
	view, err := g.view(ctx, sp, s)
	if err != nil {
		g.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ClaimResponse{Suite: &view, ProjectStage: stage, ProjectOpen: true})
}

// isBusy reports an Update refused because the workflow has too many in flight.
func isBusy(err error) bool {
	var re *serviceerror.ResourceExhausted
	return errors.As(err, &re)
}

// nextClaim readies a submission to lease its submitter's next suite in the same Update, with
// the accuracy their claim would carry. False, and the person claims as usual, when the project
// or their accuracy cannot be read.
func (g *Gateway) nextClaim(ctx context.Context, project string, p workforce.Person, w *workflows.Worker) bool {
	sp, err := g.spec(ctx, project)
	if err != nil || (p.Role != workflows.RoleAnnotator && p.Role != workflows.RoleReviewer) {
		return false
	}
	return g.weigh(ctx, sp, p, w) == nil
}

// weigh gives w the person's estimated accuracy where the project's chunks need it.
func (g *Gateway) weigh(ctx context.Context, sp spec.Project, p workforce.Person, w *workflows.Worker) error {
	if !needsAccuracy(sp, p.Role) {
		return nil
	}
	var err error
	w.Accuracy, _, err = g.app.Scores.EstimatedAccuracy(ctx, g.app.Store, sp.Annotation.Type, p.ID, sp.ID)
	return err
}

// submitted is the API's answer to a submission the workflow took, with the next suite leased
// with it (remembered for a repeated claim too). Without the spec or the items at hand the next
// suite is still leased and the person's next claim gets it.
func (g *Gateway) submitted(ctx context.Context, project string, p workforce.Person, res workflows.SubmitResult) SubmitAnswer {
	a := submitAnswer(res)
	sp, err := g.spec(ctx, project)
	if err != nil {
		return a
	}
	if res.Openings != nil {
		g.learnOpenings(sp, p, res)
	}
	if res.Next == nil {
		return a
	}
	g.claims.hold(project, *res.Next, time.Now())
	if view, err := g.view(ctx, sp, *res.Next); err == nil {
		a.Next = &view
	}
	return a
}

// learnOpenings notes what a submission's answer says of its chunk: a chunk with nothing left for
// anyone, or (no next suite) nothing for the submitter, is skipped by the claims that follow.
func (g *Gateway) learnOpenings(sp spec.Project, p workforce.Person, res workflows.SubmitResult) {
	chunk, err := workflows.ParseSuiteID(res.SuiteID)
	if err != nil {
		return
	}
	now, open, work := time.Now(), *res.Openings, workOf(p.Role)
	left := open.Annotate
	if work == workflows.KindArbitrate {
		left = open.Arbitrate
	}
	switch {
	case res.Next == nil:
		g.claims.refused(sp.ID, chunk, p.ID, work, open, true, now, sp.LeaseDuration())
	case left == 0:
		g.claims.refused(sp.ID, chunk, "", work, open, true, now, sp.LeaseDuration())
	}
}
