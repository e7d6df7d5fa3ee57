package payout

import (
	"context"
	"errors"
	"fmt"

	"github.com/labelflow/labelflow/internal/payoutdetails"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// DetailsSource tells a provider where a person is paid. It returns payoutdetails.ErrNoDetails
// for a person whose details are not on file; method is how the roster pays them.
type DetailsSource interface {
	PayoutDetails(ctx context.Context, person, method string) (payoutdetails.Details, error)
}

// Directory is the DetailsSource of a running stack: the details kept in the vault, and on the
// embedded stack made-up ones for the simulator's people, who have no account anywhere.
type Directory struct {
	Vault  payoutdetails.Vault
	Roster workforce.Roster
	// InventForSimulated gives simulated people made-up details (payoutdetails.Invent). Set it
	// only where simulated people are paid: the embedded stack.
	InventForSimulated bool
}

// PayoutDetails implements DetailsSource.
func (d Directory) PayoutDetails(ctx context.Context, person, method string) (payoutdetails.Details, error) {
	det, err := d.Vault.Get(ctx, person)
	if !d.InventForSimulated || !errors.Is(err, payoutdetails.ErrNoDetails) {
		return det, err
	}
	p, err := d.Roster.Get(ctx, person)
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && !p.Simulated:
		return det, payoutdetails.ErrNoDetails
	case err != nil:
		return det, err
	}
	return payoutdetails.Invent(p.ID, p.Name, p.Country, method), nil
}

// InventedDetails gives everyone made-up details: for tests and benchmarks of payroll, where
// nobody is paid for real.
type InventedDetails struct{}

// PayoutDetails implements DetailsSource.
func (InventedDetails) PayoutDetails(_ context.Context, person, method string) (payoutdetails.Details, error) {
	return payoutdetails.Invent(person, person, "KE", method), nil
}

// lookupWidth is how many people's details a provider reads side by side.
const lookupWidth = 16

// payable is a payout with the details it is paid to.
type payable struct {
	Payout
	to payoutdetails.Details
}

// payableOrHeld finds each payout's details. A payout that cannot be paid as it stands is held,
// with the reason finance reads; the others come back with their details, in order.
func payableOrHeld(ctx context.Context, src DetailsSource, payouts []Payout) ([]payable, []Outcome, error) {
	found := make([]payoutdetails.Details, len(payouts))
	errs := make([]error, len(payouts))
	if src != nil {
		_ = store.Parallel(len(payouts), lookupWidth, func(i int) error {
			found[i], errs[i] = src.PayoutDetails(ctx, payouts[i].Worker, payouts[i].Method)
			return nil
		})
	}
	var ok []payable
	var held []Outcome
	for i, p := range payouts {
		why, err := holdReason(src, p, found[i], errs[i])
		if err != nil {
			return nil, nil, fmt.Errorf("payout details of %s: %w", p.Worker, err)
		}
		if why != "" {
			held = append(held, Outcome{Payout: p, Held: why})
			continue
		}
		ok = append(ok, payable{Payout: p, to: found[i]})
	}
	return ok, held, nil
}

// holdReason says why p cannot be paid to d (looked up with error err), "" when it can. An error
// that is not about the details themselves (the store is down) is returned, for a retry.
func holdReason(src DetailsSource, p Payout, d payoutdetails.Details, err error) (string, error) {
	const again = ", then run the month's payroll again"
	switch {
	case src == nil:
		return "this worker has no payout details to pay to (its provider was given none)", nil
	case errors.Is(err, payoutdetails.ErrNoDetails):
		return "no payout details on file: import them with `labelflow workforce payout-details import`" + again, nil
	case errors.Is(err, payoutdetails.ErrNoKey):
		return "this worker cannot open payout details: set LABELFLOW_PAYOUT_DETAILS_KEY" + again, nil
	case err != nil:
		return "", err
	case d.Method() != p.Method:
		return fmt.Sprintf("the roster pays them by %s, but their payout details are for %s: import %s details or change their payout_method%s",
			p.Method, d.Method(), p.Method, again), nil
	}
	return "", nil
}
