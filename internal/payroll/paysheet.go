package payroll

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/store"
)

// PayLine is what one statement asks to pay: its total in the person's payout currency.
type PayLine struct {
	Worker   string `json:"worker"`
	Currency string `json:"currency"`
	Total    int64  `json:"total"` // minor units
}

// The pay sheet lists, in one object, what every statement of a month asks to pay, so that paying
// a month reads one object rather than a statement per person. AggregatePayroll writes it with
// the statements and names it in the finance summary (Summary.PaySheet); its key is a hash of its
// content, so a summary names exactly the sheet of its statements. A summary that names none (a
// month aggregated before sheets existed) is paid from the statements.

// WritePaySheet writes the pay sheet of statements (in workers' order) and returns its key.
func WritePaySheet(ctx context.Context, s *store.Store, month string, workers []string, statements map[string]*Statement) (string, error) {
	lines := make([]PayLine, len(workers))
	for i, w := range workers {
		st := statements[w]
		lines[i] = PayLine{Worker: w, Currency: st.Pay.PayoutCurrency, Total: st.Pay.Total}
	}
	data, err := json.Marshal(lines)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(data)
	key := layout.PayrollPrefix(month) + "pay-sheets/" + hex.EncodeToString(h[:16]) + ".json"
	return key, s.Put(ctx, key, data)
}

// PayPlan is what paying a month starts from: the people with a statement and, where the month has
// one, its pay sheet by person.
type PayPlan struct {
	Workers []string
	Sheet   map[string]PayLine // nil: read each statement
}

// ReadPayPlan reads the month's finance summary and the pay sheet it names.
func ReadPayPlan(ctx context.Context, s *store.Store, month string) (PayPlan, error) {
	var sum struct {
		Workers  []string
		PaySheet string `json:"pay_sheet"`
	}
	if err := s.GetJSON(ctx, layout.PayrollSummaryKey(month), &sum); err != nil {
		return PayPlan{}, err
	}
	plan := PayPlan{Workers: sum.Workers}
	if sum.PaySheet == "" {
		return plan, nil
	}
	var lines []PayLine
	if err := s.GetJSON(ctx, sum.PaySheet, &lines); err != nil {
		return plan, fmt.Errorf("pay sheet of %s: %w", month, err)
	}
	plan.Sheet = make(map[string]PayLine, len(lines))
	for _, l := range lines {
		plan.Sheet[l.Worker] = l
	}
	return plan, nil
}

// PayLineOf is what person's statement asks to pay: from the sheet, or read from the statement.
func (p PayPlan) PayLineOf(ctx context.Context, s *store.Store, month, person string) (PayLine, error) {
	if p.Sheet != nil {
		if l, ok := p.Sheet[person]; ok {
			return l, nil
		}
		return PayLine{}, fmt.Errorf("the pay sheet of %s has no line for %s", month, person)
	}
	st, err := ReadStatement(ctx, s, month, person)
	if err != nil {
		return PayLine{}, err
	}
	return PayLine{Worker: person, Currency: st.Pay.PayoutCurrency, Total: st.Pay.Total}, nil
}
