package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/store"
)

// Finance's report has a row per person of the month's summary, read from their statements; a
// month without a payroll says so.
func TestPayrollReportHasARowPerPerson(t *testing.T) {
	env := devstacktest.Start(t)
	a := &App{Store: env.Store}
	ctx := context.Background()
	put := func(key string, v any) {
		t.Helper()
		if err := env.Store.PutJSON(ctx, key, v); err != nil {
			t.Fatal(err)
		}
	}
	put(layout.PayrollSummaryKey("2026-11"), payroll.Summary{Month: "2026-11", Workers: []string{"ann-a", "ann-b"}})
	for _, w := range []string{"ann-a", "ann-b"} {
		put(layout.StatementKey("2026-11", w), payroll.Statement{Worker: w, Month: "2026-11", Country: "KE",
			Pay: earnings.Statement{PayoutCurrency: "KES", Seconds: 3600, Earned: 700, Total: 1000, Floor: earnings.FloorCheck{TopUp: 300}}})
	}
	data, err := a.PayrollReport(ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(rows) != 3 || !strings.HasPrefix(rows[1], "2026-11,ann-a,KE,1.00,KES,7.00,") || !strings.HasPrefix(rows[2], "2026-11,ann-b,") ||
		!strings.Contains(rows[1], ",3.00,10.00,") {
		t.Fatalf("report:\n%s", data)
	}
	if _, err := a.PayrollReport(ctx, "2026-10"); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "no payroll statements for 2026-10") {
		t.Fatalf("a month without payroll: %v", err)
	}
	if _, err := a.PayrollSummary(ctx, "11/2026"); err == nil || !strings.Contains(err.Error(), "YYYY-MM") {
		t.Fatalf("a malformed month: %v", err)
	}
	if _, err := a.QualityReport(ctx, "p9"); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "no quality report for p9") {
		t.Fatalf("a project without a report: %v", err)
	}
}
