// Package payout pays people through a provider. Each payout carries an idempotency key; a
// provider pays a key at most once, whatever the number of calls, so a retried or repeated payroll
// run can never pay anyone twice.
package payout

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/store"
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
}

// Provider pays.
type Provider interface {
	Pay(ctx context.Context, month string, payouts []Payout) ([]Outcome, error)
}

// FileProvider writes one payout batch file per payout method into the finance area of the
// platform store, for finance to upload to the bank or mobile-money operator. It keeps a marker
// per idempotency key so that a key lands in exactly one batch.
type FileProvider struct {
	Store *store.Store
}

// MarkerKey records that an idempotency key was paid.
func MarkerKey(idempotencyKey string) string {
	h := sha256.Sum256([]byte(idempotencyKey))
	return layout.PayoutMarkerKey(hex.EncodeToString(h[:]))
}

// Pay implements Provider. A payout is paid once its batch file exists. Markers are written
// before the batch as an intent naming it; after a crash between the two, the unpaid payouts
// rebuild exactly the same batch (its key derives from the keys it holds), so no key ever lands in
// two batches and none is lost.
func (f *FileProvider) Pay(ctx context.Context, month string, payouts []Payout) ([]Outcome, error) {
	var out []Outcome
	byMethod := map[string][]Payout{}
	batchExists := map[string]bool{}
	// Read every marker side by side; decide in order.
	type marker struct{ Batch string }
	markers := make([]marker, len(payouts))
	readErrs := make([]error, len(payouts))
	_ = store.Parallel(len(payouts), 16, func(i int) error {
		readErrs[i] = f.Store.GetJSON(ctx, MarkerKey(payouts[i].IdempotencyKey), &markers[i])
		return nil
	})
	for i, p := range payouts {
		marker, err := markers[i], readErrs[i]
		switch {
		case err == nil:
			exists, seen := batchExists[marker.Batch]
			if !seen {
				if exists, err = f.Store.Exists(ctx, marker.Batch); err != nil {
					return nil, err
				}
				batchExists[marker.Batch] = exists
			}
			if exists {
				out = append(out, Outcome{Payout: p, AlreadyPaid: true, BatchKey: marker.Batch})
				continue
			}
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
		byMethod[p.Method] = append(byMethod[p.Method], p)
	}
	methods := make([]string, 0, len(byMethod))
	for m := range byMethod {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	for _, m := range methods {
		batch := byMethod[m]
		sort.Slice(batch, func(i, j int) bool { return batch[i].IdempotencyKey < batch[j].IdempotencyKey })
		var buf bytes.Buffer
		h := sha256.New()
		enc := json.NewEncoder(&buf)
		for _, p := range batch {
			h.Write([]byte(p.IdempotencyKey + "\n"))
			if err := enc.Encode(p); err != nil {
				return nil, err
			}
		}
		key := layout.PayoutBatchKey(month, m, hex.EncodeToString(h.Sum(nil))[:16])
		if err := store.Parallel(len(batch), 16, func(i int) error {
			return f.Store.PutJSON(ctx, MarkerKey(batch[i].IdempotencyKey), map[string]string{"batch": key, "key": batch[i].IdempotencyKey})
		}); err != nil {
			return nil, err
		}
		if err := f.Store.Put(ctx, key, buf.Bytes()); err != nil {
			return nil, err
		}
		for _, p := range batch {
			out = append(out, Outcome{Payout: p, BatchKey: key})
		}
	}
	return out, nil
}
