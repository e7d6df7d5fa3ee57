package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/labelflow/labelflow/internal/formats"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/results"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/workflows"
)

// What ops and finance read from the platform store, each record through the package that owns
// it. Errors say what is missing and when it will exist.

// ProjectSpec reads a launched project's spec.
func (a *App) ProjectSpec(ctx context.Context, project string) (spec.Project, error) {
	sp, err := spec.Load(ctx, a.Store, project)
	if errors.Is(err, store.ErrNotFound) {
		return sp, fmt.Errorf("project %s was never launched: %w", project, err)
	}
	return sp, err
}

// QualityReport reads a finished project's quality report.
func (a *App) QualityReport(ctx context.Context, project string) (quality.Report, error) {
	r, err := quality.ReadReport(ctx, a.Store, project)
	if err != nil {
		return r, fmt.Errorf("no quality report for %s (it is written when the project's delivery completes): %w", project, err)
	}
	return r, nil
}

// ProjectResults reads a project's recorded results one chunk at a time (results.ForEachChunk):
// fn gets each chunk file's key and its delivered lines.
func (a *App) ProjectResults(ctx context.Context, project string, fn func(key string, lines []formats.Line) error) error {
	return results.ForEachChunk(ctx, a.Store, project, fn)
}

// PayrollSummary reads the finance summary of a month's payroll.
func (a *App) PayrollSummary(ctx context.Context, month string) (payroll.Summary, error) {
	if !workflows.ValidMonth(month) {
		return payroll.Summary{}, fmt.Errorf("--month %q: must be YYYY-MM", month)
	}
	sum, err := payroll.ReadSummary(ctx, a.Store, month)
	if err != nil {
		return sum, fmt.Errorf("no payroll statements for %s: %w", month, err)
	}
	return sum, nil
}

// Statement reads a person's statement of a month.
func (a *App) Statement(ctx context.Context, month, person string) (payroll.Statement, error) {
	st, err := payroll.ReadStatement(ctx, a.Store, month, person)
	if errors.Is(err, store.ErrNotFound) {
		return st, fmt.Errorf("no statement of %s for %s: %w", person, month, err)
	}
	return st, err
}

// Rejections lists every rejection of work, oldest first.
func (a *App) Rejections(ctx context.Context) ([]payroll.Rejection, error) {
	return payroll.ListRejections(ctx, a.Store)
}

// PayrollReport renders finance's report of a month as CSV (payroll.ReportCSV): one row per
// person of the summary, with what they earned, the floor, any top-up and what they are paid.
func (a *App) PayrollReport(ctx context.Context, month string) ([]byte, error) {
	sum, err := a.PayrollSummary(ctx, month)
	if err != nil {
		return nil, err
	}
	statements := make([]payroll.Statement, len(sum.Workers))
	err = store.Parallel(len(sum.Workers), 16, func(i int) error {
		var err error
		statements[i], err = a.Statement(ctx, month, sum.Workers[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	return payroll.ReportCSV(month, statements)
}
