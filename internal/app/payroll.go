package app

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/workflows"
)

// RunPayroll starts the payroll of a month. A month not yet over is refused unless forced; a
// month whose payroll is running is refused; a month already paid may be run again: it takes the
// same ledger files as before and pays only what was not paid (released holds, refused payouts).
// Work accepted after the month closed is paid by the next month, as adjustment lines.
func (a *App) RunPayroll(ctx context.Context, month string, force bool) error {
	if !workflows.ValidMonth(month) {
		return fmt.Errorf("--month %q: must be YYYY-MM", month)
	}
	loc, _ := time.LoadLocation(a.Cfg.MonthTimeZone)
	if current := time.Now().In(loc).Format("2006-01"); month >= current && !force {
		return fmt.Errorf("--month %s is not over yet (it is %s in %s); pass --force to pay the work accepted so far", month, current, a.Cfg.MonthTimeZone)
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

// ApprovePayroll approves the month's statements for a finance person LabelFlow authenticated.
// The approval travels sealed, so the payroll workflow knows it came through here.
func (a *App) ApprovePayroll(ctx context.Context, act Actor, month, note string) (workflows.PayrollStatus, error) {
	var st workflows.PayrollStatus
	err := a.audited(ctx, act, "approve", month, map[string]string{"note": note}, func() error {
		if err := may(act, "approve payroll", RoleFinance); err != nil {
			return err
		}
		if a.Grants == nil {
			return errNoGrantKeys
		}
		req := workflows.ApproveRequest{Approver: act.ID, Role: act.Role, Note: note, Credential: act.Credential}
		sealed, err := workflows.Seal(a.Grants, workflows.PayrollWorkflowID(month), workflows.UpdateApprove, req, time.Now())
		if err != nil {
			return err
		}
		return a.payrollUpdate(ctx, month, workflows.UpdateApprove, sealed, &st)
	})
	return st, err
}

// HoldPayout holds (or, with release, releases) one person's payout for the month.
func (a *App) HoldPayout(ctx context.Context, act Actor, month, person, reason string, release bool) (workflows.PayrollStatus, error) {
	var st workflows.PayrollStatus
	name := workflows.UpdateHold
	if release {
		name = workflows.UpdateRelease
	}
	err := a.audited(ctx, act, name, month, map[string]string{"person": person, "reason": reason}, func() error {
		if err := may(act, name+" payouts", RoleFinance); err != nil {
			return err
		}
		if a.Grants == nil {
			return errNoGrantKeys
		}
		req := workflows.HoldRequest{By: workflows.FinanceActor{ID: act.ID, Role: act.Role}, Person: person, Reason: reason}
		sealed, err := workflows.Seal(a.Grants, workflows.PayrollWorkflowID(month), name, req, time.Now())
		if err != nil {
			return err
		}
		return a.payrollUpdate(ctx, month, name, sealed, &st)
	})
	return st, err
}

func (a *App) payrollUpdate(ctx context.Context, month, name string, arg, result any) error {
	h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.PayrollWorkflowID(month), UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, result)
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("no payroll for %s; start it with `labelflow payroll run --month %s`", month, month)
	}
	return err
}

// PayrollScheduleID names the monthly payroll schedule.
const PayrollScheduleID = "payroll-monthly"

// SchedulePayroll creates (or replaces) the schedule that starts the previous month's payroll on
// day of every month at hour, in the company's time zone.
func (a *App) SchedulePayroll(ctx context.Context, day, hour int) error {
	if day < 1 || day > 28 || hour < 0 || hour > 23 {
		return fmt.Errorf("--day must be 1-28 and --hour 0-23, got %d and %d", day, hour)
	}
	sc := a.Temporal.ScheduleClient()
	_ = sc.GetHandle(ctx, PayrollScheduleID).Delete(ctx)
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID: PayrollScheduleID,
		Spec: client.ScheduleSpec{
			Calendars: []client.ScheduleCalendarSpec{{
				DayOfMonth: []client.ScheduleRange{{Start: day}},
				Hour:       []client.ScheduleRange{{Start: hour}},
				Minute:     []client.ScheduleRange{{Start: 0}},
				Second:     []client.ScheduleRange{{Start: 0}},
			}},
			TimeZoneName: a.Cfg.MonthTimeZone,
		},
		Action: &client.ScheduleWorkflowAction{
			ID:        "payroll-scheduled",
			Workflow:  workflows.ScheduledPayrollWorkflow,
			TaskQueue: a.Cfg.WorkflowTaskQueue,
			Args:      []any{workflows.ScheduledPayrollInput{TimeZone: a.Cfg.MonthTimeZone, ActivityTaskQueue: a.Cfg.ActivityTaskQueue}},
		},
	})
	if err != nil {
		return fmt.Errorf("create the payroll schedule: %w", err)
	}
	return nil
}

// PayrollStatus reads the month's latest payroll run.
func (a *App) PayrollStatus(ctx context.Context, month string) (workflows.PayrollStatus, error) {
	var st workflows.PayrollStatus
	wid := workflows.PayrollWorkflowID(month)
	desc, err := a.Describe(ctx, wid, "")
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
	if err := a.Temporal.GetWorkflow(ctx, wid, "").Get(ctx, &st); err != nil {
		return st, fmt.Errorf("payroll %s stopped: %s", month, rootMessage(err))
	}
	return st, nil
}

// rootMessage is the message of the innermost application error in err (the activity's own
// words, such as which exchange rate is missing), or err's message.
func rootMessage(err error) string {
	msg := err.Error()
	for e := err; e != nil; e = errors.Unwrap(e) {
		var ae *temporal.ApplicationError
		if errors.As(e, &ae) {
			msg = ae.Message()
			e = ae
		}
	}
	return msg
}

// WaitPayroll waits until the month's latest run has paid everyone it may: it has ended, or it
// waits only for held payouts to be released.
func (a *App) WaitPayroll(ctx context.Context, month string) (workflows.PayrollStatus, error) {
	for {
		st, err := a.PayrollStatus(ctx, month)
		if err != nil {
			return st, err
		}
		if st.Stage == workflows.PayrollPaid || st.Stage == workflows.PayrollHolding {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// rejectionID is the shape of the ids RejectWork makes (project-person-time), checked before the
// id becomes part of a store key.
var rejectionID = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._-]{0,200}$`)

// rejectingRoles may reject work and reverse rejections: reviewers, who see the answers, and
// finance, who answers for the pay.
var rejectingRoles = []string{role.Reviewer, role.Finance}

// RejectWork sets aside a person's entries on a project (or on some of its chunks) from payroll,
// with the reason they will see on their statement. Payroll runs that close after this skip the
// entries; ReverseRejection pays them back.
func (a *App) RejectWork(ctx context.Context, act Actor, project, person string, chunks []int, reason string) (payroll.Rejection, error) {
	var r payroll.Rejection
	details := map[string]string{"person": person, "chunks": fmt.Sprint(chunks), "reason": reason}
	err := a.audited(ctx, act, "reject", project, details, func() error {
		var err error
		r, err = a.rejectWork(ctx, act, project, person, chunks, reason)
		return err
	})
	return r, err
}

func (a *App) rejectWork(ctx context.Context, act Actor, project, person string, chunks []int, reason string) (payroll.Rejection, error) {
	r := payroll.Rejection{Project: project, Person: person, Chunks: chunks, Reason: strings.TrimSpace(reason), By: act.ID, At: time.Now().UTC().Truncate(time.Second)}
	switch {
	case project == "":
		return r, fmt.Errorf("--project: which project's work is rejected")
	case person == "":
		return r, fmt.Errorf("--person: whose work is rejected")
	case r.Reason == "":
		return r, fmt.Errorf("--reason: say why the work is rejected; the person sees it on their statement")
	case !spec.ValidID(project):
		return r, fmt.Errorf("--project %q is not a project id", project)
	}
	if err := may(act, "reject work", rejectingRoles...); err != nil {
		return r, err
	}
	if _, err := a.Roster.Get(ctx, person); err != nil {
		return r, fmt.Errorf("--person %q is not in the roster: %w", person, err)
	}
	if ok, err := a.Store.Exists(ctx, layout.SpecKey(project)); err != nil {
		return r, err
	} else if !ok {
		return r, fmt.Errorf("--project %q was never launched", project)
	}
	r.ID = fmt.Sprintf("%s-%s-%s", project, person, r.At.Format("20060102T150405Z"))
	return r, payroll.SaveRejection(ctx, a.Store, r)
}

// ReverseRejection records that a rejection was wrong. The next payroll to close pays the work it
// had set aside, as adjustment lines; work not yet set aside is simply paid.
func (a *App) ReverseRejection(ctx context.Context, act Actor, id, note string) (payroll.Rejection, error) {
	var r payroll.Rejection
	err := a.audited(ctx, act, "reverse", id, map[string]string{"note": note}, func() error {
		var err error
		r, err = a.reverseRejection(ctx, act, id, note)
		return err
	})
	return r, err
}

func (a *App) reverseRejection(ctx context.Context, act Actor, id, note string) (payroll.Rejection, error) {
	if err := may(act, "reverse rejections", rejectingRoles...); err != nil {
		return payroll.Rejection{}, err
	}
	if !rejectionID.MatchString(id) {
		return payroll.Rejection{}, fmt.Errorf("--rejection %q: not a rejection id; see `labelflow payroll rejections`", id)
	}
	r, err := payroll.ReadRejection(ctx, a.Store, id)
	if errors.Is(err, store.ErrNotFound) {
		return r, fmt.Errorf("--rejection %q: no such rejection; see `labelflow payroll rejections`", id)
	} else if err != nil {
		return r, err
	}
	if r.Reversed != nil {
		return r, fmt.Errorf("rejection %s was already reversed by %s at %s", id, r.Reversed.By, r.Reversed.At.Format(time.RFC3339))
	}
	r.Reversed = &payroll.Reversal{By: act.ID, At: time.Now().UTC().Truncate(time.Second), Note: strings.TrimSpace(note)}
	return r, payroll.SaveRejection(ctx, a.Store, r)
}
