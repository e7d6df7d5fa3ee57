package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// floorTables are what the earnings floor of a month is computed from: the minimum wages, the
// month's exchange rates and the multiplier.
type floorTables struct {
	month      string
	wages      *earnings.WageTable
	rates      *earnings.Rates
	multiplier string
}

// applyFloor converts every statement to the person's payout currency and adds the top-up that
// lifts their month to floor_multiplier × the local minimum wage for the hours they worked. A
// missing rate, minimum wage or payout currency stops the run before approval, naming each. A
// month nobody is paid for needs no tables.
func (a *Activities) applyFloor(ctx context.Context, month string, workers []string, stmts map[string]*payroll.Statement, people map[string]workforce.Person, sum *payroll.Summary) error {
	sum.PayTotals, sum.Countries, sum.TopUps = map[string]int64{}, map[string]payroll.CountryTotals{}, nil
	if len(workers) == 0 {
		return nil
	}
	tables, err := a.floorTables(ctx, month)
	if err != nil {
		return err
	}
	ledgerTotals := map[string]int64{}
	var problems []error
	for _, w := range workers {
		p, ok := people[w] // every worker with a statement was found in the roster (takeFile)
		if !ok {
			problems = append(problems, fmt.Errorf("%s: not in the roster", w))
			continue
		}
		if err := tables.pay(stmts[w], p, ledgerTotals, sum); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return invalidInput("payroll %s cannot be computed: %v", month, errors.Join(problems...))
	}
	// Reconcile: the statements, before conversion and top-ups, hold exactly the ledger.
	for cur, v := range sum.Totals {
		if ledgerTotals[cur] != v {
			return fmt.Errorf("payroll %s does not reconcile: ledger %d %s, statements %d", month, v, cur, ledgerTotals[cur])
		}
	}
	return nil
}

// floorTables reads the minimum wage table and the month's rates that finance imports. A month
// without a rates file converts nothing: paying people in the currencies they earned needs none,
// and a conversion fails naming the missing file.
func (a *Activities) floorTables(ctx context.Context, month string) (floorTables, error) {
	t := floorTables{month: month, multiplier: a.FloorMultiplier}
	if t.multiplier == "" {
		t.multiplier = earnings.DefaultMultiplier
	}
	wagesData, err := a.Store.Get(ctx, layout.WageTableKey)
	if errors.Is(err, store.ErrNotFound) {
		return t, invalidInput("no minimum wage table at %s in the platform store: finance imports it with labelflow finance minimum-wage import FILE", layout.WageTableKey)
	} else if err != nil {
		return t, err
	}
	if t.wages, err = earnings.ReadWageTable(layout.WageTableKey, bytes.NewReader(wagesData)); err != nil {
		return t, invalidInput("%v", err)
	}
	ratesData, err := a.Store.Get(ctx, layout.RatesKey(month))
	if errors.Is(err, store.ErrNotFound) {
		t.rates = earnings.MissingRates(layout.RatesKey(month))
		return t, nil
	} else if err != nil {
		return t, err
	}
	if t.rates, err = earnings.ReadRates(layout.RatesKey(month), bytes.NewReader(ratesData)); err != nil {
		return t, invalidInput("%v", err)
	}
	return t, nil
}

// pay computes what person p is paid on statement st and adds it to the summary's totals; the
// statement's lines, as the ledger has them, are added to ledgerTotals for the reconciliation.
// The error names the person.
func (t floorTables) pay(st *payroll.Statement, p workforce.Person, ledgerTotals map[string]int64, sum *payroll.Summary) error {
	st.Country = p.Country
	var lines []earnings.Line
	for _, l := range st.Lines {
		lines = append(lines, earnings.Line{Project: l.Project, Kind: l.Role, Currency: l.Currency, Count: l.Count, Amount: l.Amount, Seconds: int64(l.Seconds),
			Adjustment: l.Adjustment, WorkMonth: l.WorkMonth})
		ledgerTotals[l.Currency] += l.Amount
	}
	if p.Currency() == "" {
		return fmt.Errorf("%s: no payout currency (set payout_currency in the roster)", st.Worker)
	}
	var err error
	st.Pay, err = earnings.Compute(earnings.Person{ID: st.Worker, Country: p.Country, PayoutCurrency: p.Currency()}, t.month, lines, t.wages, t.rates, t.multiplier)
	if err != nil {
		return fmt.Errorf("%s: %w", st.Worker, err)
	}
	addPay(sum, st, p.Country)
	return nil
}

// addPay adds a computed statement to the summary: pay totals, the country's figures, any top-up.
func addPay(sum *payroll.Summary, st *payroll.Statement, country string) {
	cur := st.Pay.PayoutCurrency
	sum.PayTotals[cur] += st.Pay.Total
	c := sum.Countries[country]
	if c.Paid == nil {
		c.Paid, c.TopUps = map[string]int64{}, map[string]int64{}
	}
	c.People++
	c.Paid[cur] += st.Pay.Total
	if top := st.Pay.Floor.TopUp; top > 0 {
		c.TopUps[cur] += top
		sum.TopUps = append(sum.TopUps, payroll.TopUp{Person: st.Worker, Country: country, Currency: cur, Amount: top})
	}
	sum.Countries[country] = c
}
