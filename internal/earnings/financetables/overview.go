package financetables

import (
	"context"
	"errors"
	"strings"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/store"
)

// Overview is what the finance tables in the store hold.
type Overview struct {
	WageKey string                 `json:"wage_table_key"`
	Wages   []earnings.MinimumWage `json:"minimum_wages"` // empty when no table is stored
	Rates   []MonthRates           `json:"rates"`         // by month
	// Month, when asked about, is the month whose needs are set below.
	Month string `json:"month,omitempty"`
	Needs *Needs `json:"needs,omitempty"`
	// Missing are the month's needs its rates (or their absence) leave out.
	Missing []Need `json:"missing,omitempty"`
	// Problems are stored tables that cannot be read, as the error reading them.
	Problems []string `json:"problems,omitempty"`
}

// MonthRates are the stored rates of a month.
type MonthRates struct {
	Month string              `json:"month"`
	Key   string              `json:"key"`
	Pairs []earnings.RatePair `json:"pairs"`
}

// ratesPrefix holds one rates file per month (layout.RatesKey).
var ratesPrefix = strings.TrimSuffix(layout.RatesKey(""), ".csv")

// Tables reads the stored minimum wage table and every month's rates. With month (YYYY-MM) set,
// it also works out what that month's payroll converts and which of it the stored rates leave out.
func Tables(ctx context.Context, st *store.Store, month string) (Overview, error) {
	o := Overview{WageKey: layout.WageTableKey, Month: month}
	wages, err := storedWages(ctx, st)
	if err != nil && !isFileError(err) {
		return o, err
	}
	if err != nil {
		o.Problems = append(o.Problems, err.Error())
	} else if wages != nil {
		o.Wages = wages.Rows()
	}
	var months []string
	err = st.List(ctx, ratesPrefix, func(key string, _ int64) error {
		if m, ok := strings.CutSuffix(strings.TrimPrefix(key, ratesPrefix), ".csv"); ok && layout.RatesKey(m) == key {
			months = append(months, m)
		}
		return nil
	})
	if err != nil {
		return o, err
	}
	for _, m := range months {
		r, err := storedRates(ctx, st, m)
		if err != nil && !isFileError(err) {
			return o, err
		}
		if err != nil {
			o.Problems = append(o.Problems, err.Error())
			continue
		}
		o.Rates = append(o.Rates, MonthRates{Month: m, Key: layout.RatesKey(m), Pairs: r.Pairs()})
	}
	if month == "" {
		return o, nil
	}
	return o, o.addNeeds(ctx, st, month, wages)
}

// addNeeds sets what month converts and what its rates leave out.
func (o *Overview) addNeeds(ctx context.Context, st *store.Store, month string, wages *earnings.WageTable) error {
	needs, err := MonthNeeds(ctx, st, month, wages)
	if err != nil {
		return err
	}
	o.Needs = &needs
	rates, err := storedRates(ctx, st, month)
	if err != nil && !isFileError(err) {
		return err
	}
	if rates == nil {
		rates = earnings.MissingRates(layout.RatesKey(month))
	}
	o.Missing = needs.Missing(rates)
	return nil
}

// isFileError reports an error in a stored table's content, rather than in reading it.
func isFileError(err error) bool {
	var fe *earnings.FileError
	return errors.As(err, &fe)
}
