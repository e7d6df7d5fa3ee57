package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workflows"
)

// PauseProject stops a project from offering work for an ops person: no claim gets a suite and
// no chunk starts until it is resumed. Suites already leased can still be submitted.
func (a *App) PauseProject(ctx context.Context, act Actor, project, reason string) (workflows.ProjectStatus, error) {
	return a.pauseUpdate(ctx, act, workflows.UpdatePause, "pause", project, reason)
}

// ResumeProject makes a paused project's work available again, for an ops person.
func (a *App) ResumeProject(ctx context.Context, act Actor, project, reason string) (workflows.ProjectStatus, error) {
	return a.pauseUpdate(ctx, act, workflows.UpdateResume, "resume", project, reason)
}

// pauseUpdate sends a sealed pause or resume Update to the project, audited either way.
func (a *App) pauseUpdate(ctx context.Context, act Actor, update, verb, project, reason string) (workflows.ProjectStatus, error) {
	var st workflows.ProjectStatus
	err := a.audited(ctx, act, verb, project, map[string]string{"reason": reason}, func() error {
		if err := may(act, verb+" projects", RoleOps); err != nil {
			return err
		}
		if !spec.ValidID(project) {
			return fmt.Errorf("project %q is not a project id", project)
		}
		if a.Grants == nil {
			return errNoGrantKeys
		}
		id := workflows.ProjectWorkflowID(project)
		req, err := workflows.Seal(a.Grants, id, update, workflows.PauseRequest{By: act.ID, Role: act.Role, Reason: reason}, time.Now())
		if err != nil {
			return err
		}
		h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: id, UpdateName: update, Args: []any{req}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, &st)
		}
		return projectGone(err, project)
	})
	return st, err
}

// projectGone turns the error of an Update sent to a project that is not running into
// ErrNotFound, and leaves any other as it is.
func projectGone(err error, project string) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) || (err != nil && strings.Contains(err.Error(), "workflow execution already completed")) {
		return fmt.Errorf("%w: project %s is not running", ErrNotFound, project)
	}
	return err
}

// ProjectState is the project workflow's own status (stage, chunks, cancellation, pause),
// without its chunks' live progress: one query, cheap enough for every claim.
func (a *App) ProjectState(ctx context.Context, project string) (workflows.ProjectStatus, error) {
	var st workflows.ProjectStatus
	res, err := a.Temporal.QueryWorkflow(ctx, workflows.ProjectWorkflowID(project), "", workflows.QueryStatus)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return st, fmt.Errorf("project %s not found: %w", project, ErrNotFound)
		}
		return st, err
	}
	return st, res.Get(&st)
}
