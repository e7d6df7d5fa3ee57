package workflows

import (
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/internal/grant"
	"github.com/labelflow/labelflow/internal/role"
)

// UpdateCancel stops a project from starting more chunks.
const UpdateCancel = "cancel"

// RoleOps is the roster role that launches and cancels projects.
const RoleOps = role.Ops

// CancelRequest is ops' request to stop a project.
type CancelRequest struct {
	By     string      `json:"by"`
	Role   string      `json:"role"`
	Reason string      `json:"reason"`
	Seal   *grant.Seal `json:"seal,omitempty"`
}

// Cancellation records who stopped a project, when and why.
type Cancellation struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

func (r CancelRequest) sealOf() *grant.Seal { return r.Seal }
func (r CancelRequest) withSeal(s *grant.Seal) CancelRequest {
	r.Seal = s
	return r
}

// A cancelled project starts no more chunks. Chunks already running finish as usual, so every
// answer given is recorded, paid and delivered; the project then delivers what its finished
// chunks hold, with the manifest written last as always. Nothing is taken back.
func (p *project) registerCancel(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel,
		func(ctx workflow.Context, req CancelRequest) (ProjectStatus, error) {
			p.st.Cancelled = &Cancellation{By: req.By, Reason: strings.TrimSpace(req.Reason), At: workflow.Now(ctx)}
			return p.status(), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req CancelRequest) error {
			if err := verifySeal(ctx, UpdateCancel, req); err != nil {
				return err
			}
			if req.Role != RoleOps {
				return appErr(ErrNotQualified, "%s has the role %q; only ops cancel projects", req.By, req.Role)
			}
			if strings.TrimSpace(req.Reason) == "" {
				return appErr(ErrInvalidRequest, "reason: say why the project is cancelled")
			}
			if p.st.Cancelled != nil {
				return appErr(ErrRepeated, "project %s was already cancelled by %s", p.in.Spec.ID, p.st.Cancelled.By)
			}
			if p.st.Stage != StageChunking && p.st.Stage != StageAnnotating {
				return appErr(ErrWrongStage, "project %s is %s: nothing is left to cancel", p.in.Spec.ID, p.st.Stage)
			}
			return nil
		}})
}

// chunksToDeliver is how many chunks the delivery covers: all of them, or those a cancelled
// project started.
func (p *project) chunksToDeliver() int {
	if p.st.Cancelled != nil {
		return p.st.NextChunk
	}
	return p.st.Split.Chunks
}
