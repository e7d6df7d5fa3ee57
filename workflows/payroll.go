package workflows

import (
	"regexp"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
)

// Payroll stages.
const (
	PayrollAggregating      = "aggregating"
	PayrollAwaitingApproval = "awaiting-approval"
	PayrollPaying           = "paying"
	PayrollPaid             = "paid"
)

// PayrollInput starts a month's payroll.
type PayrollInput struct {
	Month             string
	ActivityTaskQueue string
}

// ApproveRequest is finance's approval of a month's statements.
type ApproveRequest struct {
	Approver string `json:"approver"`
	Note     string `json:"note,omitempty"`
}

// PayrollStatus is what `labelflow payroll status` shows.
type PayrollStatus struct {
	Month    string                      `json:"month"`
	Stage    string                      `json:"stage"`
	Summary  activities.PayrollSummary   `json:"summary"`
	Approver string                      `json:"approver,omitempty"`
	Payout   activities.PayPayrollResult `json:"payout"`
}

var monthPattern = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// ValidMonth reports whether m is YYYY-MM.
func ValidMonth(m string) bool { return monthPattern.MatchString(m) }

// PayrollWorkflow aggregates a month's ledger into statements, waits for finance to approve, then
// pays through the payout provider. Running it again for the same month pays only what is new.
func PayrollWorkflow(ctx workflow.Context, in PayrollInput) (PayrollStatus, error) {
	st := PayrollStatus{Month: in.Month, Stage: PayrollAggregating}
	if !ValidMonth(in.Month) {
		return st, appErr(ErrInvalidRequest, "month %q must be YYYY-MM", in.Month)
	}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (PayrollStatus, error) { return st, nil }); err != nil {
		return st, err
	}
	approved := false
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateApprove,
		func(ctx workflow.Context, req ApproveRequest) (PayrollStatus, error) {
			st.Approver = strings.TrimSpace(req.Approver)
			approved = true
			return st, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req ApproveRequest) error {
			if strings.TrimSpace(req.Approver) == "" {
				return appErr(ErrInvalidRequest, "approver: the approver's identity is required")
			}
			if st.Stage != PayrollAwaitingApproval || approved {
				return appErr(ErrWrongStage, "payroll %s is %s, not awaiting approval", in.Month, st.Stage)
			}
			return nil
		}})
	if err != nil {
		return st, err
	}
	actx := workflow.WithActivityOptions(ctx, ioActivityOptions(in.ActivityTaskQueue))
	var a *activities.Activities
	if err := workflow.ExecuteActivity(actx, a.AggregatePayroll, in.Month).Get(ctx, &st.Summary); err != nil {
		return st, err
	}
	st.Stage = PayrollAwaitingApproval
	if err := workflow.Await(ctx, func() bool { return approved }); err != nil {
		return st, err
	}
	st.Stage = PayrollPaying
	if err := workflow.ExecuteActivity(actx, a.PayPayroll, activities.PayPayrollInput{Month: in.Month, Approver: st.Approver}).Get(ctx, &st.Payout); err != nil {
		return st, err
	}
	st.Stage = PayrollPaid
	// Let the approval's reply reach finance before the run closes.
	err = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return st, err
}
