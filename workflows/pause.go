package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/internal/grant"
)

// Pausing: ops stop a project from offering work for a while, and later resume it. While it is
// paused its chunks lease no suite to anyone (claims are refused with NoWorkPaused), the suites
// already leased can still be submitted or released, so that nobody loses work they hold, and
// the project starts no new chunk. Nothing else changes: leases run out as usual.

// Updates of a project that pause and resume it.
const (
	UpdatePause  = "pause"
	UpdateResume = "resume"
)

// SignalPaused tells a running chunk that its project was paused or resumed (PauseSignal).
const SignalPaused = "paused"

// NoWorkPaused: the project is paused; claims get nothing until ops resume it.
const NoWorkPaused = "paused"

// PauseRequest is ops' request to pause or to resume a project; the seal names which.
type PauseRequest struct {
	By     string      `json:"by"`
	Role   string      `json:"role"`
	Reason string      `json:"reason"`
	Seal   *grant.Seal `json:"seal,omitempty"`
}

func (r PauseRequest) sealOf() *grant.Seal { return r.Seal }
func (r PauseRequest) withSeal(s *grant.Seal) PauseRequest {
	r.Seal = s
	return r
}

// Pause records who paused a project, when and why.
type Pause struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// PauseSignal tells a chunk whether its project is paused. Seq grows with every pause and
// resume of the project, so that a chunk that receives two signals out of order keeps the later.
type PauseSignal struct {
	Paused bool `json:"paused"`
	Seq    int  `json:"seq"`
}

// registerPause serves the pause and resume Updates of a project.
func (p *project) registerPause(ctx workflow.Context) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdatePause,
		func(ctx workflow.Context, req PauseRequest) (ProjectStatus, error) {
			p.st.Paused = &Pause{By: req.By, Reason: strings.TrimSpace(req.Reason), At: workflow.Now(ctx)}
			p.st.PauseSeq++
			p.tellChunks(ctx, p.st.Running)
			return p.status(), nil
		},
		workflow.UpdateHandlerOptions{Validator: p.validatePause})
	if err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateResume,
		func(ctx workflow.Context, req PauseRequest) (ProjectStatus, error) {
			p.st.Paused = nil
			p.st.PauseSeq++
			p.tellChunks(ctx, p.st.Running)
			return p.status(), nil
		},
		workflow.UpdateHandlerOptions{Validator: p.validateResume})
}

func (p *project) validatePause(ctx workflow.Context, req PauseRequest) error {
	if err := checkOpsRequest(ctx, UpdatePause, req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return appErr(ErrInvalidRequest, "reason: say why the project is paused")
	}
	if p.st.Paused != nil {
		return appErr(ErrRepeated, "project %s was already paused by %s", p.in.Spec.ID, p.st.Paused.By)
	}
	if p.st.Stage != StageChunking && p.st.Stage != StageAnnotating {
		return appErr(ErrWrongStage, "project %s is %s: it offers no more work to pause", p.in.Spec.ID, p.st.Stage)
	}
	return nil
}

func (p *project) validateResume(ctx workflow.Context, req PauseRequest) error {
	if err := checkOpsRequest(ctx, UpdateResume, req); err != nil {
		return err
	}
	if p.st.Paused == nil {
		return appErr(ErrWrongStage, "project %s is not paused", p.in.Spec.ID)
	}
	return nil
}

// checkOpsRequest checks the seal of a pause or resume and that it comes from ops.
func checkOpsRequest(ctx workflow.Context, action string, req PauseRequest) error {
	if err := verifySeal(ctx, action, req); err != nil {
		return err
	}
	if req.Role != RoleOps {
		return appErr(ErrNotQualified, "%s has the role %q; only ops pause and resume projects", req.By, req.Role)
	}
	return nil
}

// tellChunks signals the project's pause state to chunks and waits until each has recorded it,
// so that when a pause Update returns no running chunk leases more work. A chunk that has closed
// meanwhile cannot be signalled and needs nothing.
func (p *project) tellChunks(ctx workflow.Context, chunks []int) {
	sig := PauseSignal{Paused: p.st.Paused != nil, Seq: p.st.PauseSeq}
	chunks = slices.Clone(chunks) // Running changes while the signals go out
	futures := make([]workflow.Future, 0, len(chunks))
	for _, c := range chunks {
		futures = append(futures, workflow.SignalExternalWorkflow(ctx, ChunkWorkflowID(p.in.Spec.ID, c), "", SignalPaused, sig))
	}
	for i, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Info("Chunk not told of the pause: it has closed", "Chunk", chunks[i], "Error", err)
		}
	}
}

// mayStartChunk reports whether the window has room for another chunk and one is left to start.
func (p *project) mayStartChunk() bool {
	return p.st.Paused == nil && p.windowHasRoom() && p.st.NextChunk < p.chunksToDeliver()
}

// allChunksDone reports that every chunk to deliver has started and reported.
func (p *project) allChunksDone() bool {
	return len(p.st.Running) == 0 && p.st.NextChunk >= p.chunksToDeliver()
}

// awaitReport waits for the next chunk's report; ok is false when the project woke without one
// because it has something else to do. A running project waits on the channel alone, as it
// always did, so that histories recorded before pausing existed replay unchanged. A paused one
// also wakes when a resume lets it start chunks again, or when a cancel leaves it nothing to
// wait for.
func (p *project) awaitReport(ctx workflow.Context, finished workflow.ReceiveChannel) (sum ChunkSummary, ok bool, err error) {
	if p.drainAware {
		return p.awaitReportOrDrain(ctx, finished)
	}
	if p.st.Paused == nil {
		finished.Receive(ctx, &sum)
		return sum, true, nil
	}
	err = workflow.Await(ctx, func() bool {
		return finished.Len() > 0 || p.mayStartChunk() || p.allChunksDone()
	})
	if err != nil {
		return sum, false, err
	}
	return sum, finished.ReceiveAsync(&sum), nil
}

// --- the chunk's side ---

// The chunk takes its pause signals from the channel's buffer at the points where they matter,
// rather than in a coroutine blocked on the channel: an Update's coroutine runs before any other
// in a workflow task, so a claim arriving with the signal could otherwise be served before the
// signal was applied, and a value handed to a blocked coroutine cannot be taken by anyone else.
// The main loop wakes on a signal and applies it, so that validators see it; the claim handler
// applies any still waiting before it leases, so that no claim is served past a pause.

// takePauses applies the pause signals waiting in the channel.
func (c *chunk) takePauses() {
	var sig PauseSignal
	for c.pauses.ReceiveAsync(&sig) {
		c.applyPause(sig)
	}
}

// pauseWaiting reports a pause signal not yet applied: it wakes the main loop.
func (c *chunk) pauseWaiting() bool { return c.pauses.Len() > 0 }

// applyPause keeps the latest pause state the project sent.
func (c *chunk) applyPause(sig PauseSignal) {
	if sig.Seq > c.st.PauseSeq {
		c.st.Paused, c.st.PauseSeq = sig.Paused, sig.Seq
	}
}

// pausedErr refuses a claim while the project is paused.
func (c *chunk) pausedErr() error {
	return temporal.NewApplicationError(fmt.Sprintf("project %s is paused: no work is offered until ops resume it; suites already leased can still be submitted",
		c.in.Settings.ProjectID), ErrNoWork, NoWorkDetail{Reason: NoWorkPaused})
}
