package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/labelflow/labelflow/activities"
)

func approve(env *testsuite.TestWorkflowEnvironment, who string, out *outcome[PayrollStatus]) {
	sendUpdate(env, UpdateApprove, ApproveRequest{Approver: who}, out)
}

func TestPayrollWaitsForApprovalThenPays(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.AggregatePayroll, mock.Anything, "2026-11").Return(activities.PayrollSummary{Month: "2026-11", People: 3, Entries: 10, Totals: map[string]int64{"USD": 460}}, nil)
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
	env := s.NewTestWorkflowEnvironment()
	env.ExecuteWorkflow(PayrollWorkflow, PayrollInput{Month: "2026-13"})
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("month 2026-13 accepted")
	}
}
