package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/labelflow/labelflow/workflows"
)

// WaitProject polls a project until its workflow closes, reporting each reading to progress
// (which may be nil). A project that closed with an error returns that error.
func (a *App) WaitProject(ctx context.Context, project string, progress func(ProjectView)) (ProjectView, error) {
	for {
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
		case <-time.After(500 * time.Millisecond):
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
