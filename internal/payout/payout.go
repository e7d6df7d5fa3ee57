// Package payout pays people through a provider. Each payout carries an idempotency key; a
// provider pays a key at most once, whatever the number of calls, so a retried or repeated payroll
// run can never pay anyone twice.
package payout

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"

	"github.com/labelflow/labelflow/internal/layout"
)

// Payout is one payment to one person.
type Payout struct {
	IdempotencyKey string `json:"idempotency_key"`
	Worker         string `json:"worker"`
	Month          string `json:"month"`
	Currency       string `json:"currency"`
	Amount         int64  `json:"amount"` // minor units
	Method         string `json:"method"` // bank-transfer | mobile-money
}

// Outcome of one payout.
type Outcome struct {
	Payout
	// AlreadyPaid is true when the key had been paid by an earlier call.
	AlreadyPaid bool   `json:"already_paid"`
	BatchKey    string `json:"batch_key,omitempty"`
	// Rejected says why the provider refused this payout for good (nothing was paid).
	Rejected string `json:"rejected,omitempty"`
	// Held says why the payout was not asked for: nothing was paid and nothing was sent, and a
	// later run of the month pays it once the reason is gone (such as payout details imported).
	Held string `json:"held,omitempty"`
}

// Reference is the payout's end-to-end reference: "LF" and 18 characters of the base32 SHA-256
// of its idempotency key, 20 letters and digits that any bank or operator takes. The batch files
// (a pain.001 EndToEndId, the mobile-money file's reference column) and the payment API's request
// carry it, so that a payment seen at the bank or the operator traces to the one payout it is,
// however many times it was asked for.
func (p Payout) Reference() string {
	h := sha256.Sum256([]byte(p.IdempotencyKey))
	return "LF" + base32.StdEncoding.EncodeToString(h[:])[:18]
}

// Provider pays.
type Provider interface {
	Pay(ctx context.Context, month string, payouts []Payout) ([]Outcome, error)
}

// MarkerKey records that an idempotency key was paid.
func MarkerKey(idempotencyKey string) string {
	h := sha256.Sum256([]byte(idempotencyKey))
	return layout.PayoutMarkerKey(hex.EncodeToString(h[:]))
}
