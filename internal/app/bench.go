package app

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/store"
)

// PayrollRun is what one month's payroll did when run straight through its activities.
type PayrollRun struct {
	Summary   payroll.Summary
	Payouts   int
	Aggregate time.Duration
	Pay       time.Duration
}

// RunPayrollActivities aggregates and pays a month as the payroll's activities do, with the file
// provider, timing each step. `labelflow bench payroll` measures them this way, without a
// workflow around them.
func RunPayrollActivities(ctx context.Context, s *store.Store, month, floorMultiplier string, log zerolog.Logger) (PayrollRun, error) {
	acts := &activities.Activities{Store: s, Payouts: &payout.FileProvider{Store: s, Details: payout.InventedDetails{}}, Months: time.UTC, FloorMultiplier: floorMultiplier, Log: log}
	var run PayrollRun
	start := time.Now()
	sum, err := acts.AggregatePayroll(ctx, month)
	if err != nil {
		return run, err
	}
	run.Summary, run.Aggregate = sum, time.Since(start)
	start = time.Now()
	res, err := acts.PayPayroll(ctx, activities.PayPayrollInput{Month: month, Approver: "bench"})
	if err != nil {
		return run, err
	}
	run.Payouts, run.Pay = res.Payouts, time.Since(start)
	return run, nil
}
