package app

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/workflows"
)

// RunPayroll starts the payroll of a month. A month whose payroll is running is refused; a month
// already paid may be run again, and then pays only work accepted since.
func (a *App) RunPayroll(ctx context.Context, month string) error {
	if !workflows.ValidMonth(month) {
		return fmt.Errorf("--month %q: must be YYYY-MM", month)
	}
	_, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       workflows.PayrollWorkflowID(month),
		TaskQueue:                                a.Cfg.WorkflowTaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.PayrollWorkflow, workflows.PayrollInput{Month: month, ActivityTaskQueue: a.Cfg.ActivityTaskQueue})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return fmt.Errorf("payroll for %s is already running; see `labelflow payroll status --month %s`", month, month)
	}
	return err
}

// ApprovePayroll approves the month's statements on behalf of approver.
func (a *App) ApprovePayroll(ctx context.Context, month, approver string) (workflows.PayrollStatus, error) {
	var st workflows.PayrollStatus
	h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.PayrollWorkflowID(month), UpdateName: workflows.UpdateApprove,
		Args: []any{workflows.ApproveRequest{Approver: approver}}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &st)
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return st, fmt.Errorf("no payroll for %s; start it with `labelflow payroll run --month %s`", month, month)
	}
	return st, err
}

// PayrollStatus reads the month's latest payroll run.
func (a *App) PayrollStatus(ctx context.Context, month string) (workflows.PayrollStatus, error) {
	var st workflows.PayrollStatus
	wid := workflows.PayrollWorkflowID(month)
	desc, err := a.Temporal.DescribeWorkflowExecution(ctx, wid, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return st, fmt.Errorf("no payroll for %s; start it with `labelflow payroll run --month %s`: %w", month, month, ErrNotFound)
		}
		return st, err
	}
	if desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		res, err := a.Temporal.QueryWorkflow(ctx, wid, "", workflows.QueryStatus)
		if err != nil {
			return st, err
		}
		return st, res.Get(&st)
	}
	return st, a.Temporal.GetWorkflow(ctx, wid, "").Get(ctx, &st)
}

// WaitPayroll waits for the month's latest run to end.
func (a *App) WaitPayroll(ctx context.Context, month string) (workflows.PayrollStatus, error) {
	var st workflows.PayrollStatus
	err := a.Temporal.GetWorkflow(ctx, workflows.PayrollWorkflowID(month), "").Get(ctx, &st)
	return st, err
}
