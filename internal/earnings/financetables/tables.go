package financetables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// RatesImport is what ImportRates stored.
type RatesImport struct {
	Month string `json:"month"`
	Key   string `json:"key"`
	Pairs int    `json:"pairs"`
	Needs Needs  `json:"needs"`
	// Replaced is set when the month had rates before; PayrollRan when its payroll already ran
	// with them, and must run again to use the new ones.
	Replaced   bool `json:"replaced"`
	PayrollRan bool `json:"payroll_ran"`
}

// ImportRates checks a rates file for month (YYYY-MM) and stores it as the month's rates. It
// refuses, writing nothing, a file earnings.ReadRates refuses, a rate without a source or date or
// dated before the month or after today (earnings.Rates.CheckDated), a file that leaves out a conversion the month needs (MonthNeeds, with the
// stored minimum wage table), and any file once the month's payroll has paid someone.
func ImportRates(ctx context.Context, st *store.Store, month, file string, data []byte, today time.Time) (RatesImport, error) {
	out := RatesImport{Month: month, Key: layout.RatesKey(month)}
	rates, err := earnings.ReadRates(file, bytes.NewReader(data))
	if err != nil {
		return out, err
	}
	if err := rates.CheckDated(month, today); err != nil {
		return out, err
	}
	if err := notPaid(ctx, st, month); err != nil {
		return out, err
	}
	wages, err := storedWages(ctx, st)
	if err != nil {
		return out, err
	}
	if out.Needs, err = MonthNeeds(ctx, st, month, wages); err != nil {
		return out, err
	}
	if missing := out.Needs.Missing(rates); len(missing) > 0 {
		return out, &UncoveredError{File: file, Month: month, Missing: missing}
	}
	if out.Replaced, err = st.Exists(ctx, out.Key); err != nil {
		return out, err
	}
	if out.PayrollRan, err = st.Exists(ctx, layout.PayrollSummaryKey(month)); err != nil {
		return out, err
	}
	out.Pairs = len(rates.Pairs())
	return out, st.Put(ctx, out.Key, data)
}

// UncoveredError is a rates file that leaves out conversions its month needs.
type UncoveredError struct {
	File, Month string
	Missing     []Need
}

func (e *UncoveredError) Error() string {
	lines := make([]string, len(e.Missing))
	for i, m := range e.Missing {
		lines[i] = "  " + m.String()
	}
	return fmt.Sprintf("%s has no rate for what payroll %s converts (a row from,to or to,from for each):\n%s",
		e.File, e.Month, strings.Join(lines, "\n"))
}

// notPaid refuses new rates for a month whose payroll has paid someone: what was paid was
// converted at the rates it had.
func notPaid(ctx context.Context, st *store.Store, month string) error {
	paid := false
	err := st.List(ctx, layout.PayrollPrefix(month)+"paid/", func(string, int64) error {
		paid = true
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if paid {
		return fmt.Errorf("payroll %s has paid people already: its rates stay those it was paid at", month)
	}
	return nil
}

var errStop = errors.New("stop listing")

// storedWages reads the stored minimum wage table; nil when there is none.
func storedWages(ctx context.Context, st *store.Store) (*earnings.WageTable, error) {
	data, err := st.Get(ctx, layout.WageTableKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return earnings.ReadWageTable(layout.WageTableKey, bytes.NewReader(data))
}

// storedRates reads the month's stored rates; nil when there are none.
func storedRates(ctx context.Context, st *store.Store, month string) (*earnings.Rates, error) {
	data, err := st.Get(ctx, layout.RatesKey(month))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return earnings.ReadRates(layout.RatesKey(month), bytes.NewReader(data))
}

// WagesImport is what ImportWages stored.
type WagesImport struct {
	Key       string   `json:"key"`
	Rows      int      `json:"rows"`
	Countries int      `json:"countries"`
	Months    []string `json:"months_checked"`
}

// ImportWages checks a minimum wage table and stores it in place of the one there. month is the
// month (YYYY-MM) it is now; the table is checked for it and the month before (CheckWages). It
// refuses, writing nothing, a file earnings.ReadWageTable refuses and one that leaves a person to
// be paid without a minimum wage or whose minimum wage the month's rates cannot convert.
func ImportWages(ctx context.Context, st *store.Store, month, file string, data []byte) (WagesImport, error) {
	out := WagesImport{Key: layout.WageTableKey}
	t, err := earnings.ReadWageTable(file, bytes.NewReader(data))
	if err != nil {
		return out, err
	}
	first, err := time.Parse("2006-01", month)
	if err != nil {
		return out, fmt.Errorf("month %q is not YYYY-MM", month)
	}
	out.Months = []string{first.AddDate(0, -1, 0).Format("2006-01"), month}
	if err := CheckWages(ctx, st, t, out.Months); err != nil {
		return out, err
	}
	rows := t.Rows()
	countries := map[string]bool{}
	for _, r := range rows {
		countries[r.Country] = true
	}
	out.Rows, out.Countries = len(rows), len(countries)
	return out, st.Put(ctx, out.Key, data)
}

// CheckWages checks that wages has a minimum wage in force, in each of months, for the country of
// every person the month's ledger pays, and for the last month for every annotator and reviewer
// of the roster, who may yet work in it; and that a month with stored rates can convert each of
// those minimum wages into the person's payout currency.
func CheckWages(ctx context.Context, st *store.Store, wages *earnings.WageTable, months []string) error {
	var errs []error
	for i, month := range months {
		needs, err := MonthNeeds(ctx, st, month, nil)
		if err != nil {
			return err
		}
		people := needs.Payees
		if i == len(months)-1 {
			if people, err = withRoster(ctx, st, people); err != nil {
				return err
			}
		}
		rates, err := storedRates(ctx, st, month)
		if err != nil {
			return err
		}
		errs = append(errs, checkMonthWages(wages, month, people, rates)...)
	}
	return errors.Join(errs...)
}

// checkMonthWages checks the minimum wage of each person's country in month, and its conversion
// when the month has rates.
func checkMonthWages(wages *earnings.WageTable, month string, people []Payee, rates *earnings.Rates) []error {
	missing := map[string][]string{} // problem → people
	var order []string
	note := func(problem, person string) {
		if _, seen := missing[problem]; !seen {
			order = append(order, problem)
		}
		missing[problem] = append(missing[problem], person)
	}
	for _, p := range people {
		w, err := wages.For(p.Country, month)
		switch {
		case err != nil:
			note(err.Error(), p.ID)
		case rates != nil && !rates.Covers(w.Currency, p.Currency):
			note(fmt.Sprintf("%s cannot convert the minimum wage of %s (%s) into %s", layout.RatesKey(month), p.Country, w.Currency, p.Currency), p.ID)
		}
	}
	errs := make([]error, len(order))
	for i, problem := range order {
		errs[i] = fmt.Errorf("%s (people: %s)", problem, firstFew(missing[problem]))
	}
	return errs
}

// withRoster adds to people every annotator and reviewer of the roster not among them.
func withRoster(ctx context.Context, st *store.Store, people []Payee) ([]Payee, error) {
	all, err := workforce.Roster{Store: st}.List(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, p := range people {
		seen[p.ID] = true
	}
	for _, p := range all {
		if seen[p.ID] || p.Inactive || (p.Role != role.Annotator && p.Role != role.Reviewer) || p.Currency() == "" {
			continue
		}
		people = append(people, Payee{ID: p.ID, Country: p.Country, Currency: p.Currency()})
	}
	return people, nil
}
