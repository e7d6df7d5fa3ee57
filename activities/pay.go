package activities

import (
	"context"
	"fmt"
	"slices"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/store"
)

// PayPayrollInput names the month to pay.
type PayPayrollInput struct {
	Month    string
	Approver string
	Exclude  []string // held payouts
	Only     []string // when set, pay only these people (released holds)
}

// PayPayrollResult reports the payouts of one run.
type PayPayrollResult struct {
	Payouts     int              `json:"payouts"`
	Paid        map[string]int64 `json:"paid"`         // paid by this run, per currency
	AlreadyPaid int              `json:"already_paid"` // people with nothing left to pay
	// Recovered counts payouts of this run that an earlier attempt had made before it was cut
	// short (a crash): the provider answered their keys as already paid. They are in Payouts.
	Recovered int `json:"recovered,omitempty"`
	// Rejected lists payouts the provider refused (person: reason); nothing was paid to them, and
	// a later run of the month tries again.
	Rejected []string `json:"rejected,omitempty"`
	// Refused lists people payroll would not pay (person: reason): no longer in the roster, or
	// simulated on a stack that does not pay simulated people.
	Refused []string `json:"refused,omitempty"`
	// Held lists payouts the provider did not ask for (person: reason), such as a person with no
	// payout details on file: nothing was paid or sent, and a later run of the month pays them
	// once the reason is gone.
	Held []string `json:"held,omitempty"`
}

// payee is one person of a payroll run: what their statement asks to pay, what they were paid for
// the month, how they are paid, and why they are not, if they are not.
type payee struct {
	id      string
	st      payroll.PayLine
	rec     *payroll.PaidRecord
	method  string
	refusal string
}

// PayPayroll pays each person what their statement shows beyond what they were already paid for
// the month. The idempotency key names the person, month, currency and amount already paid (and
// the refusals so far). The payouts are recorded as pending, a thousand to an object, before the
// provider is asked, so an attempt cut short is followed by the very same requests, which the
// provider pays once, and a later run of the month pays only what its statements add (see
// payroll.PaidBook).
func (a *Activities) PayPayroll(ctx context.Context, in PayPayrollInput) (PayPayrollResult, error) {
	defer keepAlive(ctx)()
	res := PayPayrollResult{Paid: map[string]int64{}}
	plan, err := payroll.ReadPayPlan(ctx, a.Store, in.Month)
	if err != nil {
		return res, err
	}
	book, err := payroll.ReadPaid(ctx, a.Store, in.Month)
	if err != nil {
		return res, err
	}
	ids := in.payable(plan.Workers)
	people, err := a.readPayees(ctx, in, plan, book, ids)
	if err != nil {
		return res, err
	}
	payouts, intents := decidePayouts(in.Month, people, &res)
	pendingKeys, err := payroll.WritePending(ctx, a.Store, in.Month, pendingOf(intents))
	if err != nil {
		return res, err
	}
	// A provider that fails part-way returns the outcomes so far: they are recorded before the
	// error is, and the rest stay pending for the retry.
	outcomes, payErr := a.Payouts.Pay(ctx, in.Month, payouts)
	settled := recordOutcomes(outcomes, people, &res)
	if err := a.savePaid(ctx, in.Month, book, settled); err != nil {
		return res, err
	}
	if payErr == nil {
		if err := payroll.SettlePending(ctx, a.Store, append(book.PendingSettledBy(ids), pendingKeys...)); err != nil {
			return res, err
		}
	}
	// Counted once recorded: a retry finds these people paid, or answered as already paid
	// (recovered) when this attempt had not recorded them.
	a.Metrics.Paid(res.Payouts, res.Paid, len(res.Rejected))
	if payErr != nil {
		return res, fmt.Errorf("payout provider: %w", payErr)
	}
	return res, nil
}

// payable are the people of workers this run pays: not held, and among Only when it is set.
func (in PayPayrollInput) payable(workers []string) []string {
	var people []string
	for _, w := range workers {
		if slices.Contains(in.Exclude, w) || (in.Only != nil && !slices.Contains(in.Only, w)) {
			continue
		}
		people = append(people, w)
	}
	return people
}

// readPayees finds each person's pay line and payment record, and reads their payout method from
// the roster, side by side.
func (a *Activities) readPayees(ctx context.Context, in PayPayrollInput, plan payroll.PayPlan, book *payroll.PaidBook, ids []string) ([]*payee, error) {
	month := in.Month
	// A run over the month reads the whole roster at once; a run for released holds, theirs.
	pay := newPayees(ctx, a, in.Only == nil)
	if err := pay.lookUp(ctx, ids); err != nil {
		return nil, err
	}
	people := make([]*payee, len(ids))
	err := store.Parallel(len(ids), ioWidth, func(i int) error {
		w := ids[i]
		p := &payee{id: w, rec: book.Record(w), method: "bank-transfer"}
		var err error
		if p.st, err = plan.PayLineOf(ctx, a.Store, month, w); err != nil {
			return err
		}
		if p.refusal = pay.refusal(w); p.refusal == "" {
			p.method = pay.people[w].PayoutMethod
		}
		people[i] = p
		return nil
	})
	return people, err
}

// decidePayouts decides, in order, what to ask the provider for: a payout still pending is asked
// again as it was; otherwise what the statement shows beyond what was paid, recorded as pending.
// It returns the payouts and the people whose record gained a pending payout.
func decidePayouts(month string, people []*payee, res *PayPayrollResult) ([]payout.Payout, []*payee) {
	var payouts []payout.Payout
	var intents []*payee
	for _, p := range people {
		switch {
		case p.refusal != "":
			res.Refused = append(res.Refused, p.id+": "+p.refusal)
		case p.rec.Pending != nil:
			payouts = append(payouts, *p.rec.Pending)
		default:
			if po, ok := p.owed(month, res); ok {
				payouts = append(payouts, po)
				p.rec.Pending = &po
				intents = append(intents, p)
			}
		}
	}
	return payouts, intents
}

// owed is the payout p is owed, if any. Paid in another currency, the payout currency changed
// after a payout: what is owed in the new one cannot be told from the old one without a rate
// finance has not given, so finance settles it by hand.
func (p *payee) owed(month string, res *PayPayrollResult) (payout.Payout, bool) {
	cur := p.st.Currency
	if other := otherCurrencyPaid(p.rec.Paid, cur); other != "" {
		res.Rejected = append(res.Rejected, fmt.Sprintf("%s: already paid %s %s for %s, now to be paid in %s; settle by hand",
			p.id, earnings.FormatMinor(p.rec.Paid[other], other), other, month, cur))
		return payout.Payout{}, false
	}
	owed := p.st.Total - p.rec.Paid[cur]
	if owed <= 0 {
		res.AlreadyPaid++
		return payout.Payout{}, false
	}
	key := payroll.PayoutKey(month, p.id, cur, p.rec.Paid[cur], p.rec.Refused[cur])
	return payout.Payout{IdempotencyKey: key, Worker: p.id, Month: month, Currency: cur, Amount: owed, Method: p.method}, true
}

// recordOutcomes settles the pending payouts on the people's records, and returns the people with
// an outcome. A key the provider had already paid, yet missing from the person's record, was paid
// by an attempt of this run that did not live to write the record: it is this run's payout.
func recordOutcomes(outcomes []payout.Outcome, people []*payee, res *PayPayrollResult) []*payee {
	byID := make(map[string]*payee, len(people))
	for _, p := range people {
		byID[p.id] = p
	}
	var settled []*payee
	for _, o := range outcomes {
		settled = append(settled, byID[o.Worker])
		rec := byID[o.Worker].rec
		rec.Pending = nil
		if o.Held != "" { // nothing was sent: the next run asks again under the same key
			res.Held = append(res.Held, o.Worker+": "+o.Held)
			continue
		}
		if o.Rejected != "" {
			res.Rejected = append(res.Rejected, o.Worker+": "+o.Rejected)
			if rec.Refused == nil {
				rec.Refused = map[string]int{}
			}
			rec.Refused[o.Currency]++
			continue
		}
		rec.Paid[o.Currency] += o.Amount
		res.Payouts++
		res.Paid[o.Currency] += o.Amount
		if o.AlreadyPaid {
			res.Recovered++
		}
	}
	return settled
}

// pendingOf are the payouts people are about to be asked for.
func pendingOf(people []*payee) []payout.Payout {
	out := make([]payout.Payout, len(people))
	for i, p := range people {
		out[i] = *p.rec.Pending
	}
	return out
}

// savePaid writes the payment records of people: a thousand to an object, and on their own for
// people who have a record of their own (months paid before batches).
func (a *Activities) savePaid(ctx context.Context, month string, book *payroll.PaidBook, people []*payee) error {
	var batch []payroll.PaidRecord
	var own []*payee
	for _, p := range people {
		if book.Own[p.id] {
			own = append(own, p)
		} else {
			batch = append(batch, *p.rec)
		}
	}
	if err := payroll.WritePaid(ctx, a.Store, month, batch); err != nil {
		return err
	}
	return store.Parallel(len(own), ioWidth, func(i int) error {
		return a.Store.PutJSON(ctx, layout.PaidKey(month, own[i].id), own[i].rec)
	})
}

// otherCurrencyPaid names a currency other than cur in which something was paid.
func otherCurrencyPaid(paid map[string]int64, cur string) string {
	for c, v := range paid {
		if c != cur && v > 0 {
			return c
		}
	}
	return ""
}
