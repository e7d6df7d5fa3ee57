package payroll

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/store"
)

// What a month has paid each person is kept under finance/payroll/<month>/paid/ in three forms,
// read together by ReadPaid:
//
//   - batches/<hash>.json: the records of the people one payment run settled, many to an object,
//     named by a hash of their content, so that a retry writing the same records rewrites the
//     same object;
//   - pending/<hash>.json: the payouts one run is about to ask of the provider, written before it
//     asks, named the same way, and deleted once their outcomes are recorded;
//   - <person>.json: one person's record, as months paid before batches were kept them, and as
//     they are kept still for anyone who has one.
//
// Amounts paid and refusals only ever grow, so records are merged by keeping the largest of each:
// the order in which objects were written does not matter, and a record written twice is the
// same record. A pending payout is still pending while the merged record is the one it was asked
// from (its idempotency key is the one PayoutKey gives for the record); once its outcome is
// recorded, the record has moved on and the payout is settled.

// PaidBatchSize is how many people's records, or pending payouts, one object holds.
const PaidBatchSize = 1000

// paidReadWidth is how many paid objects are read side by side.
const paidReadWidth = 16

// PayoutKey is the idempotency key of a person's next payout in cur for month, after paid was
// paid in it and refused refusals: the same record always asks under the same key.
func PayoutKey(month, person, cur string, paid int64, refused int) string {
	key := fmt.Sprintf("%s/%s/%s/after-%d", month, person, cur, paid)
	if refused > 0 {
		key += fmt.Sprintf("/retry-%d", refused)
	}
	return key
}

// PaidBook is what a month has paid, per person, with the payouts still pending.
type PaidBook struct {
	Month string
	// Records holds each person with anything recorded; Pending is set on the records with a
	// payout still pending.
	Records map[string]*PaidRecord
	// Own names the people with a record of their own (<person>.json), which is kept up to date.
	Own map[string]bool
	// PendingKeys are the objects of pending payouts read, to delete once they are settled, and
	// pendingFor the people each holds payouts of.
	PendingKeys []string
	pendingFor  map[string][]string
}

// PendingSettledBy are the objects of pending payouts that hold payouts of the people of a run
// only: once the run has recorded every outcome, they hold nothing still pending.
func (b *PaidBook) PendingSettledBy(people []string) []string {
	in := make(map[string]bool, len(people))
	for _, p := range people {
		in[p] = true
	}
	var keys []string
	for _, key := range b.PendingKeys {
		all := true
		for _, w := range b.pendingFor[key] {
			all = all && in[w]
		}
		if all {
			keys = append(keys, key)
		}
	}
	return keys
}

// Record returns person's record, an empty one when nothing was recorded.
func (b *PaidBook) Record(person string) *PaidRecord {
	if r, ok := b.Records[person]; ok {
		c := *r
		c.Paid, c.Refused = cloneMap(r.Paid), cloneMap(r.Refused)
		return &c
	}
	return &PaidRecord{Worker: person, Month: b.Month, Paid: map[string]int64{}}
}

// paidPrefix holds everything a month recorded of its payments.
func paidPrefix(month string) string { return layout.PayrollPrefix(month) + "paid/" }

// ReadPaid reads what month has paid: a listing and the objects under it, side by side.
func ReadPaid(ctx context.Context, s *store.Store, month string) (*PaidBook, error) {
	var keys []string
	if err := s.List(ctx, paidPrefix(month), func(key string, _ int64) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		return nil, err
	}
	sort.Strings(keys)
	records := make([][]PaidRecord, len(keys))
	pending := make([][]payout.Payout, len(keys))
	err := store.Parallel(len(keys), paidReadWidth, func(i int) error {
		return readPaidObject(ctx, s, month, keys[i], &records[i], &pending[i])
	})
	if err != nil {
		return nil, err
	}
	b := &PaidBook{Month: month, Records: map[string]*PaidRecord{}, Own: map[string]bool{}, pendingFor: map[string][]string{}}
	var asked []payout.Payout
	for i, key := range keys {
		rest := strings.TrimPrefix(key, paidPrefix(month))
		switch {
		case strings.HasPrefix(rest, "pending/"):
			b.PendingKeys = append(b.PendingKeys, key)
			for _, p := range pending[i] {
				b.pendingFor[key] = append(b.pendingFor[key], p.Worker)
			}
		case !strings.Contains(rest, "/"):
			b.Own[strings.TrimSuffix(rest, ".json")] = true
		}
		for _, r := range records[i] {
			if r.Pending != nil {
				asked = append(asked, *r.Pending)
			}
			b.merge(r)
		}
		asked = append(asked, pending[i]...)
	}
	b.markPending(asked)
	return b, nil
}

// readPaidObject reads one object under paid/: records, or pending payouts.
func readPaidObject(ctx context.Context, s *store.Store, month, key string, records *[]PaidRecord, pending *[]payout.Payout) error {
	rest := strings.TrimPrefix(key, paidPrefix(month))
	switch {
	case strings.HasPrefix(rest, "batches/"):
		return s.GetJSON(ctx, key, records)
	case strings.HasPrefix(rest, "pending/"):
		return s.GetJSON(ctx, key, pending)
	case strings.Contains(rest, "/") || !strings.HasSuffix(rest, ".json"):
		return nil // not a record
	}
	var r PaidRecord
	if err := s.GetJSON(ctx, key, &r); err != nil {
		return err
	}
	r.Worker = strings.TrimSuffix(rest, ".json") // the key names whose record it is
	*records = []PaidRecord{r}
	return nil
}

// merge keeps, per currency, the most paid and the most refusals of r and what b has.
func (b *PaidBook) merge(r PaidRecord) {
	have, ok := b.Records[r.Worker]
	if !ok {
		have = &PaidRecord{Worker: r.Worker, Month: b.Month, Paid: map[string]int64{}}
		b.Records[r.Worker] = have
	}
	for cur, v := range r.Paid {
		have.Paid[cur] = max(have.Paid[cur], v)
	}
	for cur, n := range r.Refused {
		if have.Refused == nil {
			have.Refused = map[string]int{}
		}
		have.Refused[cur] = max(have.Refused[cur], n)
	}
}

// markPending sets each payout asked whose record has not moved on as its person's pending one.
func (b *PaidBook) markPending(asked []payout.Payout) {
	for _, p := range asked {
		r := b.Record(p.Worker)
		if p.IdempotencyKey != PayoutKey(b.Month, p.Worker, p.Currency, r.Paid[p.Currency], r.Refused[p.Currency]) {
			continue // settled: paid or refused since it was asked
		}
		if _, ok := b.Records[p.Worker]; !ok {
			b.Records[p.Worker] = r
		}
		pending := p
		b.Records[p.Worker].Pending = &pending
	}
}

// WritePending records payouts as pending, PaidBatchSize to an object, before the provider is
// asked for them, and returns the keys written.
func WritePending(ctx context.Context, s *store.Store, month string, payouts []payout.Payout) ([]string, error) {
	return writeBatches(ctx, s, paidPrefix(month)+"pending/", len(payouts), func(from, to int) any { return payouts[from:to] })
}

// WritePaid records the records given, PaidBatchSize to an object.
func WritePaid(ctx context.Context, s *store.Store, month string, records []PaidRecord) error {
	_, err := writeBatches(ctx, s, paidPrefix(month)+"batches/", len(records), func(from, to int) any { return records[from:to] })
	return err
}

// SettlePending deletes the objects of pending payouts whose outcomes are recorded.
func SettlePending(ctx context.Context, s *store.Store, keys []string) error {
	return store.Parallel(len(keys), paidReadWidth, func(i int) error {
		err := s.Delete(ctx, keys[i])
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

// writeBatches writes n items, PaidBatchSize to an object named by the hash of its content under
// prefix, and returns the keys.
func writeBatches(ctx context.Context, s *store.Store, prefix string, n int, part func(from, to int) any) ([]string, error) {
	keys := make([]string, (n+PaidBatchSize-1)/PaidBatchSize)
	err := store.Parallel(len(keys), paidReadWidth, func(i int) error {
		data, err := json.Marshal(part(i*PaidBatchSize, min(n, (i+1)*PaidBatchSize)))
		if err != nil {
			return err
		}
		h := sha256.Sum256(data)
		keys[i] = prefix + hex.EncodeToString(h[:16]) + ".json"
		return s.Put(ctx, keys[i], data)
	})
	return keys, err
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
