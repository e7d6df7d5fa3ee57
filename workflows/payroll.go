package workflows

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/grant"
	"github.com/labelflow/labelflow/internal/role"
)

// Payroll stages.
const (
	PayrollAggregating      = "aggregating"
	PayrollWaitingForLedger = "waiting-for-ledger" // another month is closing its ledger
	PayrollAwaitingApproval = "awaiting-approval"
	PayrollPaying           = "paying"
	PayrollHolding          = "paid-except-holds" // paid, but held payouts wait for release
	PayrollPaid             = "paid"
)

// Payroll Updates besides approval.
const (
	UpdateHold    = "hold"
	UpdateRelease = "release"
)

// RoleFinance is the roster role allowed to approve payroll and hold payouts.
const RoleFinance = role.Finance

// PayrollInput starts a month's payroll.
type PayrollInput struct {
	Month             string
	ActivityTaskQueue string
}

// FinanceActor is the person acting for finance, as the API established them from the roster;
// the request's seal proves it.
type FinanceActor struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

// ApproveRequest is finance's approval of a month's statements.
type ApproveRequest struct {
	Approver string `json:"approver"`
	Role     string `json:"role"`
	Note     string `json:"note,omitempty"`
	// Credential names the token the approver presented (a fingerprint, never the token).
	Credential string      `json:"credential,omitempty"`
	Seal       *grant.Seal `json:"seal,omitempty"`
}

// HoldRequest holds or releases one person's payout for the month.
type HoldRequest struct {
	By     FinanceActor `json:"by"`
	Person string       `json:"person"`
	Reason string       `json:"reason,omitempty"` // required to hold
	Seal   *grant.Seal  `json:"seal,omitempty"`
}

// Hold is a payout held back, with who held it and why.
type Hold struct {
	Person string    `json:"person"`
	Reason string    `json:"reason"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// PayrollStatus is what `labelflow payroll status` shows.
type PayrollStatus struct {
	Month    string                        `json:"month"`
	Stage    string                        `json:"stage"`
	Summary  activities.PayrollSummary     `json:"summary"`
	Approver string                        `json:"approver,omitempty"`
	Payout   activities.PayPayrollResult   `json:"payout"`
	Holds    []Hold                        `json:"holds,omitempty"`
	Released []activities.PayPayrollResult `json:"released,omitempty"`
}

var monthPattern = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// ValidMonth reports whether m is YYYY-MM.
func ValidMonth(m string) bool { return monthPattern.MatchString(m) }

type payroll struct {
	in       PayrollInput
	st       PayrollStatus
	approved bool
	released []string // released since the last payout, in order
}

// PayrollWorkflow aggregates a month's ledger into statements, waits for finance to approve, then
// pays through the payout provider. Finance may hold a person's payout (fraud review, missing
// payout details) before payment and release it later; the run stays open until every hold is
// released. Running it again for the same month pays only what is new.
func PayrollWorkflow(ctx workflow.Context, in PayrollInput) (PayrollStatus, error) {
	p := &payroll{in: in, st: PayrollStatus{Month: in.Month, Stage: PayrollAggregating}}
	if !ValidMonth(in.Month) {
		return p.st, appErr(ErrInvalidRequest, "month %q must be YYYY-MM", in.Month)
	}
	if err := p.register(ctx); err != nil {
		return p.st, err
	}
	if err := p.aggregate(ctx); err != nil {
		return p.st, err
	}
	if err := p.awaitApproval(ctx); err != nil {
		return p.st, err
	}
	if err := p.payApproved(ctx); err != nil {
		return p.st, err
	}
	if err := p.payReleased(ctx); err != nil {
		return p.st, err
	}
	p.st.Stage = PayrollPaid
	workflow.GetLogger(ctx).Info("Payroll paid", "Month", p.in.Month, "ReleasedPayouts", len(p.st.Released))
	// Let the last reply reach finance before the run closes.
	err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return p.st, err
}

// activityContext runs payroll activities on the month's activity queue.
func (p *payroll) activityContext(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, payrollActivityOptions(p.in.ActivityTaskQueue))
}

// aggregate turns the month's ledger into statements. Runs started before serial-ledger-close
// aggregate directly, as they ran; later ones close the ledger one month at a time.
func (p *payroll) aggregate(ctx workflow.Context) error {
	if !versionSerialLedgerClose.enabled(ctx) {
		var a *activities.Activities
		if err := workflow.ExecuteActivity(p.activityContext(ctx), a.AggregatePayroll, p.in.Month).Get(ctx, &p.st.Summary); err != nil {
			return err
		}
	} else if err := p.closeLedger(ctx); err != nil {
		return err
	}
	workflow.GetLogger(ctx).Info("Payroll statements written", "Month", p.in.Month, "People", p.st.Summary.People,
		"Entries", p.st.Summary.Entries, "SummaryKey", p.st.Summary.SummaryKey)
	return nil
}

// awaitApproval waits, for as long as it takes, for finance to approve the statements.
func (p *payroll) awaitApproval(ctx workflow.Context) error {
	p.st.Stage = PayrollAwaitingApproval
	if err := workflow.Await(ctx, func() bool { return p.approved }); err != nil {
		return err
	}
	workflow.GetLogger(ctx).Info("Payroll approved", "Month", p.in.Month, "Approver", p.st.Approver, "Holds", len(p.st.Holds))
	return nil
}

// payApproved pays everyone whose payout is not held.
func (p *payroll) payApproved(ctx workflow.Context) error {
	p.st.Stage = PayrollPaying
	var a *activities.Activities
	pay := activities.PayPayrollInput{Month: p.in.Month, Approver: p.st.Approver, Exclude: p.heldPeople()}
	return workflow.ExecuteActivity(p.activityContext(ctx), a.PayPayroll, pay).Get(ctx, &p.st.Payout)
}

// payReleased pays held payouts as finance releases them, until no hold is left.
func (p *payroll) payReleased(ctx workflow.Context) error {
	var a *activities.Activities
	for len(p.st.Holds) > 0 || len(p.released) > 0 {
		p.st.Stage = PayrollHolding
		if err := workflow.Await(ctx, func() bool { return len(p.released) > 0 }); err != nil {
			return err
		}
		only := p.released
		p.released = nil
		var res activities.PayPayrollResult
		pay := activities.PayPayrollInput{Month: p.in.Month, Approver: p.st.Approver, Only: only}
		if err := workflow.ExecuteActivity(p.activityContext(ctx), a.PayPayroll, pay).Get(ctx, &res); err != nil {
			return err
		}
		p.st.Released = append(p.st.Released, res)
		workflow.GetLogger(ctx).Info("Released payouts paid", "Month", p.in.Month, "People", only, "StillHeld", len(p.st.Holds))
	}
	return nil
}

// PayrollLedgerWorkflowID is the one id under which a month's ledger is closed. Temporal runs at
// most one workflow per id, so two months never take ledger files at the same time: work accepted
// late for a closed month is taken by exactly one later month.
const PayrollLedgerWorkflowID = "payroll-ledger"

// While another month closes its ledger a payroll tries again after 15 s, then waits twice as
// long each time up to 5 minutes: few events however long the other month takes.
const (
	ledgerBusyWait    = 15 * time.Second
	ledgerBusyWaitMax = 5 * time.Minute
)

// closeLedger aggregates the month in PayrollLedgerWorkflow, waiting its turn if another month is
// closing its ledger.
func (p *payroll) closeLedger(ctx workflow.Context) error {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            PayrollLedgerWorkflowID,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// Abandoned, not terminated, with its parent: the id must stay held until the
		// aggregation itself has ended, or the next month could start while it still writes.
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
	})
	for wait := ledgerBusyWait; ; wait = min(2*wait, ledgerBusyWaitMax) {
		err := workflow.ExecuteChildWorkflow(cctx, PayrollLedgerWorkflow, p.in).Get(ctx, &p.st.Summary)
		if !temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			return err
		}
		p.st.Stage = PayrollWaitingForLedger
		workflow.GetLogger(ctx).Info("Payroll waits for another month to close the ledger", "Month", p.in.Month, "Wait", wait)
		if err := workflow.Sleep(ctx, wait); err != nil {
			return err
		}
		p.st.Stage = PayrollAggregating
	}
}

// PayrollLedgerWorkflow closes one month's ledger: it takes the month's ledger files and any
// accepted late for earlier months, applies rejections and reversals, and writes the statements.
// It runs under PayrollLedgerWorkflowID only.
func PayrollLedgerWorkflow(ctx workflow.Context, in PayrollInput) (activities.PayrollSummary, error) {
	actx := workflow.WithActivityOptions(ctx, payrollActivityOptions(in.ActivityTaskQueue))
	var a *activities.Activities
	var sum activities.PayrollSummary
	err := workflow.ExecuteActivity(actx, a.AggregatePayroll, in.Month).Get(ctx, &sum)
	return sum, err
}

func (p *payroll) heldPeople() []string {
	var out []string
	for _, h := range p.st.Holds {
		out = append(out, h.Person)
	}
	sort.Strings(out)
	return out
}

// register serves the status Query and finance's Updates: approve, hold and release.
func (p *payroll) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (PayrollStatus, error) { return p.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateApprove, p.approve,
		workflow.UpdateHandlerOptions{Validator: p.validateApprove}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateHold, p.hold,
		workflow.UpdateHandlerOptions{Validator: p.validateHold}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateRelease, p.release,
		workflow.UpdateHandlerOptions{Validator: p.validateRelease})
}

func (p *payroll) validateApprove(ctx workflow.Context, req ApproveRequest) error {
	if err := verifySeal(ctx, UpdateApprove, req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Approver) == "" {
		return appErr(ErrInvalidRequest, "approver: the approver's identity is required")
	}
	if req.Role != RoleFinance {
		return appErr(ErrNotQualified, "%s has the role %q; only finance approves payroll", req.Approver, req.Role)
	}
	if p.st.Stage != PayrollAwaitingApproval || p.approved {
		return appErr(ErrWrongStage, "payroll %s is %s, not awaiting approval", p.in.Month, p.st.Stage)
	}
	return nil
}

func (p *payroll) approve(ctx workflow.Context, req ApproveRequest) (PayrollStatus, error) {
	p.st.Approver = strings.TrimSpace(req.Approver)
	p.approved = true
	return p.st, nil
}

func (p *payroll) validateHold(ctx workflow.Context, req HoldRequest) error {
	if err := verifySeal(ctx, UpdateHold, req); err != nil {
		return err
	}
	if err := financeOnly(req.By); err != nil {
		return err
	}
	if strings.TrimSpace(req.Reason) == "" {
		return appErr(ErrInvalidRequest, "reason: say why %s's payout is held", req.Person)
	}
	if p.approved {
		return appErr(ErrWrongStage, "payroll %s is already approved; holds are placed before approval", p.in.Month)
	}
	if p.held(req.Person) {
		return appErr(ErrRepeated, "%s's payout is already held", req.Person)
	}
	if !slices.Contains(p.st.Summary.Workers, req.Person) {
		return appErr(ErrInvalidRequest, "person: %s has no statement for %s", req.Person, p.in.Month)
	}
	return nil
}

func (p *payroll) hold(ctx workflow.Context, req HoldRequest) (PayrollStatus, error) {
	p.st.Holds = append(p.st.Holds, Hold{Person: req.Person, Reason: strings.TrimSpace(req.Reason), By: req.By.ID, At: workflow.Now(ctx)})
	return p.st, nil
}

func (p *payroll) validateRelease(ctx workflow.Context, req HoldRequest) error {
	if err := verifySeal(ctx, UpdateRelease, req); err != nil {
		return err
	}
	if err := financeOnly(req.By); err != nil {
		return err
	}
	if !p.held(req.Person) {
		return appErr(ErrInvalidRequest, "person: %s's payout is not held", req.Person)
	}
	return nil
}

// release lifts a hold; after approval the payout is then paid (payReleased).
func (p *payroll) release(ctx workflow.Context, req HoldRequest) (PayrollStatus, error) {
	p.st.Holds = slices.DeleteFunc(p.st.Holds, func(h Hold) bool { return h.Person == req.Person })
	if p.approved {
		p.released = append(p.released, req.Person)
	}
	return p.st, nil
}

// held reports whether person's payout is held.
func (p *payroll) held(person string) bool {
	return slices.ContainsFunc(p.st.Holds, func(h Hold) bool { return h.Person == person })
}

func financeOnly(by FinanceActor) error {
	if by.ID == "" {
		return appErr(ErrInvalidRequest, "by: the finance person's identity is required")
	}
	if by.Role != RoleFinance {
		return appErr(ErrNotQualified, "%s has the role %q; only finance holds or releases payouts", by.ID, by.Role)
	}
	return nil
}

// ScheduledPayrollInput is what the monthly schedule passes.
type ScheduledPayrollInput struct {
	TimeZone          string
	ActivityTaskQueue string
}

// ScheduledPayrollWorkflow is started by the monthly schedule: it starts the payroll of the
// previous month (in the company's time zone) under its usual id, so that finance finds it with
// `payroll status --month`, and returns.
func ScheduledPayrollWorkflow(ctx workflow.Context, in ScheduledPayrollInput) (string, error) {
	loc, err := time.LoadLocation(in.TimeZone) //workflowcheck:ignore the zone database is read once and does not change
	if err != nil {
		return "", appErr(ErrInvalidRequest, "time zone %q: %v", in.TimeZone, err)
	}
	now := workflow.Now(ctx).In(loc)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -1, 0).Format("2006-01")
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            PayrollWorkflowID(month),
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	})
	child := workflow.ExecuteChildWorkflow(cctx, PayrollWorkflow, PayrollInput{Month: month, ActivityTaskQueue: in.ActivityTaskQueue})
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return "", err
	}
	return month, nil
}
