package payroll

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"

	"github.com/labelflow/labelflow/internal/earnings"
)

// StatementCSV renders a statement as CSV, one row per line of work and one for any top-up, each
// with its amount as earned and as paid. It is rendered from the stored statement when wanted:
// the CSV is not stored.
func StatementCSV(st *Statement) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	cur := st.Pay.PayoutCurrency
	w.Write([]string{"month", "person", "project", "kind", "count", "hours", "currency", "amount", "rate", "payout_currency", "amount_paid", "adjustment", "work_month", "note"})
	for _, l := range st.Pay.Lines {
		w.Write([]string{st.Month, st.Worker, l.Project, l.Kind, strconv.Itoa(l.Count), hours(l.Seconds),
			l.Currency, earnings.FormatMinor(l.Amount, l.Currency), l.Rate, cur, earnings.FormatMinor(l.AmountPayout, cur), l.Adjustment, l.WorkMonth, ""})
	}
	if top := st.Pay.Floor.TopUp; top > 0 {
		w.Write([]string{st.Month, st.Worker, "", "floor-top-up", "", hours(st.Pay.Seconds),
			"", "", "", cur, earnings.FormatMinor(top, cur), "", "", ""})
	}
	// Rejected work is listed, unpaid, with the reason, so that the person can contest it.
	for _, l := range st.Rejected {
		w.Write([]string{st.Month, st.Worker, l.Project, l.Role, strconv.Itoa(l.Count), "",
			l.Currency, earnings.FormatMinor(l.Amount, l.Currency), "", cur, "0", "rejected", "", l.Rejection + ": " + l.Reason})
	}
	w.Flush()
	return b.Bytes()
}

// ReportCSV renders finance's report of a month: one row per person, in the order given, with
// what they earned, the floor, any top-up and what they are paid, in their payout currency.
func ReportCSV(month string, statements []Statement) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"month", "person", "country", "hours", "payout_currency", "earned", "hourly_effective", "minimum_hourly", "required", "top_up", "total", "minimum_wage_source"})
	for _, st := range statements {
		p, cur := st.Pay, st.Pay.PayoutCurrency
		w.Write([]string{month, st.Worker, st.Country, hours(p.Seconds), cur,
			earnings.FormatMinor(p.Earned, cur), earnings.FormatMinor(p.HourlyEffective, cur), earnings.FormatMinor(p.Floor.MinimumWage.HourlyMinor, cur),
			earnings.FormatMinor(p.Floor.Required, cur), earnings.FormatMinor(p.Floor.TopUp, cur), earnings.FormatMinor(p.Total, cur), p.Floor.InForce.Source})
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// hours shows seconds of work as hours with two decimals.
func hours[T int | int64](seconds T) string { return fmt.Sprintf("%.2f", float64(seconds)/3600) }
