package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/labelflow/labelflow/workflows"
)

// watchEvery is how often a watched project is read: each reading Queries the project and its
// running chunks, and every Query is a billed action.
const watchEvery = 2 * time.Second

// WaitProject waits until a project's workflow closes. With progress, it reads the project every
// watchEvery and reports each reading; without, it waits on the workflow's result, a long poll
// that costs no action, and reads the project once at the end. A project that closed with an
// error returns that error.
func (a *App) WaitProject(ctx context.Context, project string, progress func(ProjectView)) (ProjectView, error) {
	every := watchEvery
	if progress == nil {
		every = 500 * time.Millisecond // only after a wait cut short, by a server restart say
	}
	for {
		if progress == nil {
			// Follows the project's continued runs; any outcome, error included, is read below.
			_ = a.Temporal.GetWorkflow(ctx, workflows.ProjectWorkflowID(project), "").Get(ctx, nil)
		}
		v, err := a.ProjectStatus(ctx, project)
		if err == nil {
			if progress != nil {
				progress(v)
			}
			if v.Closed {
				if v.Error != "" {
					return v, fmt.Errorf("project %s: %s", project, v.Error)
				}
				return v, nil
			}
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(every):
		}
	}
}

// AwaitPayrollStage polls until the month's payroll reaches stage. A payroll already past
// approval never comes back to an earlier stage, so waiting for one is an error that says how to
// pay what remains.
func (a *App) AwaitPayrollStage(ctx context.Context, month, stage string) (workflows.PayrollStatus, error) {
	for {
		st, err := a.PayrollStatus(ctx, month)
		switch {
		case errors.Is(err, ErrNotFound):
			return st, err
		case err == nil && st.Stage == stage:
			return st, nil
		case err == nil && (st.Stage == workflows.PayrollPaid || st.Stage == workflows.PayrollHolding):
			return st, fmt.Errorf("payroll %s is already approved by %s (%s); `labelflow payroll run --month %s` pays what it has not paid yet", month, st.Approver, st.Stage, month)
		case err != nil:
			return st, err // the run stopped (a missing rate or wage names itself) or cannot be read
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("payroll %s never reached %s: %w", month, stage, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
