package workflows

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
)

// newPayrollEnv is a test environment with the payroll's child workflow registered.
func newPayrollEnv(s *testsuite.WorkflowTestSuite) *testsuite.TestWorkflowEnvironment {
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(PayrollLedgerWorkflow)
	return env
}

func approve(env *testsuite.TestWorkflowEnvironment, who string, out *outcome[PayrollStatus]) {
	sendUpdate(env, UpdateApprove, ApproveRequest{Approver: who, Role: RoleFinance}, out)
}

func TestPayrollWaitsForApprovalThenPays(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := newPayrollEnv(&s)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.AggregatePayroll, mock.Anything, "2026-11").Return(activities.PayrollSummary{Month: "2026-11", People: 3, Entries: 10, Totals: map[string]int64{"USD": 460}, Workers: []string{"amina", "grace", "ruth"}}, nil)
	var paid *activities.PayPayrollInput
	env.OnActivity(a.PayPayroll, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PayPayrollInput) (activities.PayPayrollResult, error) {
		paid = &in
		return activities.PayPayrollResult{Payouts: 3, Paid: map[string]int64{"USD": 460}}, nil
	})
	var anonymous, ok, again outcome[PayrollStatus]
	var before PayrollStatus
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryStatus)
		if err != nil {
			t.Fatal(err)
		}
		_ = v.Get(&before)
		if paid != nil {
			t.Error("paid before approval")
		}
		approve(env, "  ", &anonymous)
	}, time.Hour)
	env.RegisterDelayedCallback(func() { approve(env, "fatuma", &ok) }, 2*time.Hour)
	env.RegisterDelayedCallback(func() { approve(env, "fatuma", &again) }, 2*time.Hour+time.Second)
	env.ExecuteWorkflow(PayrollWorkflow, PayrollInput{Month: "2026-11"})
	var st PayrollStatus
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if before.Stage != PayrollAwaitingApproval || before.Summary.Totals["USD"] != 460 {
		t.Fatalf("before approval: %+v", before)
	}
	rejected(t, "approval without an approver", &anonymous, ErrInvalidRequest)
	must(t, "approval", &ok)
	if again.ok && again.err == nil {
		t.Fatal("a second approval was accepted")
	}
	if st.Stage != PayrollPaid || st.Approver != "fatuma" || st.Payout.Payouts != 3 || paid == nil || paid.Approver != "fatuma" {
		t.Fatalf("status = %+v, paid = %+v", st, paid)
	}
}

func TestPayrollRefusesABadMonth(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := newPayrollEnv(&s)
	env.ExecuteWorkflow(PayrollWorkflow, PayrollInput{Month: "2026-13"})
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("month 2026-13 accepted")
	}
}

func TestOnlyFinanceApproves(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := newPayrollEnv(&s)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.AggregatePayroll, mock.Anything, mock.Anything).Return(activities.PayrollSummary{Month: "2026-11", Workers: []string{"amina"}}, nil)
	env.OnActivity(a.PayPayroll, mock.Anything, mock.Anything).Return(activities.PayPayrollResult{}, nil)
	var byAnnotator, byFinance outcome[PayrollStatus]
	env.RegisterDelayedCallback(func() {
		sendUpdate(env, UpdateApprove, ApproveRequest{Approver: "amina", Role: RoleAnnotator}, &byAnnotator)
	}, time.Minute)
	env.RegisterDelayedCallback(func() { approve(env, "fatuma", &byFinance) }, 2*time.Minute)
	env.ExecuteWorkflow(PayrollWorkflow, PayrollInput{Month: "2026-11"})
	rejected(t, "approval by an annotator", &byAnnotator, ErrNotQualified)
	must(t, "approval by finance", &byFinance)
}

func TestHeldPayoutIsPaidOnlyAfterRelease(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := newPayrollEnv(&s)
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.AggregatePayroll, mock.Anything, mock.Anything).Return(activities.PayrollSummary{Month: "2026-11", People: 2, Workers: []string{"amina", "grace"}}, nil)
	var pays []activities.PayPayrollInput
	env.OnActivity(a.PayPayroll, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.PayPayrollInput) (activities.PayPayrollResult, error) {
		pays = append(pays, in)
		return activities.PayPayrollResult{Payouts: 1}, nil
	})
	fin := FinanceActor{ID: "fatuma", Role: RoleFinance}
	var noReason, byReviewer, hold, holdAgain, unknown, ok, release, releaseAgain outcome[PayrollStatus]
	var mid PayrollStatus
	env.RegisterDelayedCallback(func() {
		sendUpdate(env, UpdateHold, HoldRequest{By: fin, Person: "grace"}, &noReason)
		sendUpdate(env, UpdateHold, HoldRequest{By: FinanceActor{ID: "ruth", Role: RoleReviewer}, Person: "grace", Reason: "x"}, &byReviewer)
		sendUpdate(env, UpdateHold, HoldRequest{By: fin, Person: "grace", Reason: "payout details missing"}, &hold)
		sendUpdate(env, UpdateHold, HoldRequest{By: fin, Person: "nobody", Reason: "fraud review"}, &unknown)
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		sendUpdate(env, UpdateHold, HoldRequest{By: fin, Person: "grace", Reason: "again"}, &holdAgain)
		approve(env, "fatuma", &ok)
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		v, _ := env.QueryWorkflow(QueryStatus)
		_ = v.Get(&mid)
		sendUpdate(env, UpdateRelease, HoldRequest{By: fin, Person: "grace"}, &release)
	}, 24*time.Hour)
	env.RegisterDelayedCallback(func() {
		sendUpdate(env, UpdateRelease, HoldRequest{By: fin, Person: "grace"}, &releaseAgain)
	}, 24*time.Hour+time.Second)
	env.ExecuteWorkflow(PayrollWorkflow, PayrollInput{Month: "2026-11"})
	var st PayrollStatus
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	rejected(t, "hold without a reason", &noReason, ErrInvalidRequest)
	rejected(t, "hold by a reviewer", &byReviewer, ErrNotQualified)
	must(t, "hold", &hold)
	rejected(t, "second hold of the same person", &holdAgain, ErrRepeated)
	rejected(t, "hold of someone without a statement", &unknown, ErrInvalidRequest)
	must(t, "approval", &ok)
	must(t, "release", &release)
	if releaseAgain.ok && releaseAgain.err == nil {
		t.Fatal("a second release was accepted")
	}
	if mid.Stage != PayrollHolding || len(mid.Holds) != 1 || mid.Holds[0].Reason != "payout details missing" || mid.Holds[0].By != "fatuma" {
		t.Fatalf("status while held = %+v", mid)
	}
	if len(pays) != 2 || !slices.Equal(pays[0].Exclude, []string{"grace"}) || !slices.Equal(pays[1].Only, []string{"grace"}) {
		t.Fatalf("payouts = %+v", pays)
	}
	if st.Stage != PayrollPaid || len(st.Holds) != 0 || len(st.Released) != 1 {
		t.Fatalf("final status = %+v", st)
	}
}

func TestScheduledPayrollStartsThePreviousMonth(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(time.Date(2026, 12, 3, 3, 30, 0, 0, time.UTC)) // 06:30 in Nairobi on 3 December
	env.RegisterWorkflow(PayrollWorkflow)
	var started PayrollInput
	env.OnWorkflow(PayrollWorkflow, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in PayrollInput) (PayrollStatus, error) {
		started = in
		return PayrollStatus{}, nil
	})
	env.ExecuteWorkflow(ScheduledPayrollWorkflow, ScheduledPayrollInput{TimeZone: "Africa/Nairobi"})
	var month string
	if err := env.GetWorkflowResult(&month); err != nil {
		t.Fatal(err)
	}
	if month != "2026-11" || started.Month != "2026-11" {
		t.Fatalf("started %q (%+v), want 2026-11", month, started)
	}
}

// twoPayrolls runs two months' payroll side by side, as finance might by hand.
func twoPayrolls(ctx workflow.Context, months []string) error {
	var runs []workflow.ChildWorkflowFuture
	for _, m := range months {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: PayrollWorkflowID(m)})
		runs = append(runs, workflow.ExecuteChildWorkflow(cctx, PayrollWorkflow, PayrollInput{Month: m}))
	}
	for _, r := range runs {
		if err := r.Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// Two months never close the ledger at the same time: the second waits for the first, so a file
// accepted late is taken by one month only.
func TestPayrollsCloseTheLedgerOneAtATime(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := newPayrollEnv(&s)
	env.RegisterWorkflow(PayrollWorkflow)
	var a *activities.Activities
	env.RegisterActivity(a)
	var starts []time.Time
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "AggregatePayroll" {
			starts = append(starts, env.Now())
		}
	})
	env.OnActivity(a.AggregatePayroll, mock.Anything, mock.Anything).After(time.Hour).Return(func(_ context.Context, month string) (activities.PayrollSummary, error) {
		return activities.PayrollSummary{Month: month, People: 1, Workers: []string{"amina"}}, nil
	})
	env.OnActivity(a.PayPayroll, mock.Anything, mock.Anything).Return(activities.PayPayrollResult{Payouts: 1}, nil)
	stages := map[string]string{}
	env.RegisterDelayedCallback(func() {
		for _, m := range []string{"2026-10", "2026-11"} {
			v, err := env.QueryWorkflowByID(PayrollWorkflowID(m), QueryStatus)
			if err != nil {
				t.Error(err)
				continue
			}
			var st PayrollStatus
			_ = v.Get(&st)
			stages[m] = st.Stage
		}
	}, 30*time.Minute)
	env.RegisterDelayedCallback(func() {
		for _, m := range []string{"2026-10", "2026-11"} {
			_ = env.UpdateWorkflowByID(PayrollWorkflowID(m), UpdateApprove, "approve-"+m, &testsuite.TestUpdateCallback{
				OnReject: func(err error) { t.Errorf("approval of %s: %v", m, err) }, OnAccept: func() {}, OnComplete: func(any, error) {},
			}, sealedAt(env.Now(), PayrollWorkflowID(m), UpdateApprove, ApproveRequest{Approver: "fatuma", Role: RoleFinance}))
		}
	}, 4*time.Hour)
	env.ExecuteWorkflow(twoPayrolls, []string{"2026-10", "2026-11"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	waiting, aggregating := 0, 0
	for _, st := range stages {
		switch st {
		case PayrollWaitingForLedger:
			waiting++
		case PayrollAggregating:
			aggregating++
		}
	}
	if waiting != 1 || aggregating != 1 {
		t.Fatalf("stages half an hour in = %v, want one aggregating and one waiting", stages)
	}
	if len(starts) != 2 || starts[1].Sub(starts[0]) < time.Hour {
		t.Fatalf("aggregations started at %v: they overlapped", starts)
	}
}
