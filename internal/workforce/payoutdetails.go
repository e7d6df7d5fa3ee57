package workforce

import (
	"context"
	"errors"
	"fmt"

	"github.com/labelflow/labelflow/internal/payoutdetails"
	"github.com/labelflow/labelflow/internal/store"
)

// ImportPayoutDetails keeps the payout details of a details file, sealed. Each line must name a
// person of the roster whose payout method the details are for; every line is checked before
// anything is written, and one bad line imports nothing.
func (r Roster) ImportPayoutDetails(ctx context.Context, entries []payoutdetails.Entry) error {
	if err := r.Details.Ready(); err != nil {
		return err
	}
	people := make([]Person, len(entries))
	found := make([]bool, len(entries))
	if err := store.Parallel(len(entries), listWidth, func(i int) error {
		var err error
		people[i], err = r.Get(ctx, entries[i].Details.Person)
		found[i] = err == nil
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		return err
	}); err != nil {
		return err
	}
	ie := &payoutdetails.ImportError{What: "payout details"}
	details := make([]payoutdetails.Details, len(entries))
	for i, e := range entries {
		details[i] = e.Details
		switch method := e.Details.Method(); {
		case !found[i]:
			ie.Lines = append(ie.Lines, payoutdetails.LineError{File: e.File, Line: e.Line, Field: "id",
				Msg: fmt.Sprintf("%q is not in the roster; import the roster first", e.Details.Person)})
		case people[i].PayoutMethod != method:
			ie.Lines = append(ie.Lines, payoutdetails.LineError{File: e.File, Line: e.Line, Field: detailField(method),
				Msg: fmt.Sprintf("these are %s details, but the roster pays %s by %s; change their payout_method in the roster (it may give the details too)",
					method, e.Details.Person, people[i].PayoutMethod)})
		}
	}
	if len(ie.Lines) > 0 {
		return ie
	}
	return r.Details.Save(ctx, details)
}

// detailField is the column that says which kind of details a line gives.
func detailField(method string) string {
	if method == payoutdetails.MobileMoney {
		return "msisdn"
	}
	return "iban"
}

// PayoutDetailsShown is a person's payout details as finance and ops may see them: masked.
type PayoutDetailsShown struct {
	Person string `json:"person"`
	Method string `json:"method"`
	// Account is the masked account, such as mpesa ****5678; empty when none is on file.
	Account string `json:"account,omitempty"`
	// Problem says why the person's payouts would be held: no details, or details of the other
	// method.
	Problem string `json:"problem,omitempty"`
}

// ShowPayoutDetails lists every person of the roster with their payout details, masked, and what
// would hold their payouts.
func (r Roster) ShowPayoutDetails(ctx context.Context) ([]PayoutDetailsShown, error) {
	people, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]PayoutDetailsShown, len(people))
	err = store.Parallel(len(people), listWidth, func(i int) error {
		p := people[i]
		out[i] = PayoutDetailsShown{Person: p.ID, Method: p.PayoutMethod}
		d, err := r.Details.Get(ctx, p.ID)
		switch {
		case errors.Is(err, payoutdetails.ErrNoDetails):
			out[i].Problem = "no payout details on file"
		case err != nil:
			return err
		case d.Method() != p.PayoutMethod:
			out[i].Account, out[i].Problem = d.String(), "the details are for "+d.Method()
		default:
			out[i].Account = d.String()
		}
		return nil
	})
	return out, err
}
