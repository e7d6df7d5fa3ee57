package payout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/payoutdetails"
	"github.com/labelflow/labelflow/internal/store"
)

// FileProvider writes one payout batch file per payout method into the finance area of the
// platform store, for finance to upload to the bank or the mobile-money operator: bank transfers
// as an ISO 20022 pain.001.001.09 credit transfer file paid from Debtor, mobile-money payouts as
// a bulk CSV. It keeps a marker per idempotency key so that a key lands in exactly one batch. A
// payout it cannot put in a file a bank or an operator would take (no payout details, details of
// the other method, no account to pay bank transfers from) is held, with its reason.
type FileProvider struct {
	Store   *store.Store
	Details DetailsSource
	// Debtor is the account bank transfers are paid from; without one they are held.
	Debtor Debtor
	// Now stamps the files; time.Now when nil.
	Now func() time.Time
}

// BatchKey — `finance/payouts/<YYYY-MM>/<method>-<hash>.<ext>`: one batch file of the file
// provider; ext is xml for a pain.001 file, csv for a mobile-money file. (Batches written before
// payout details existed are `.jsonl`, at layout.PayoutBatchKey.)
func BatchKey(month, method, hash, ext string) string {
	return "finance/payouts/" + month + "/" + method + "-" + hash + "." + ext
}

// markerWidth is how many markers or intents Pay reads side by side.
const markerWidth = 16

// IntentKey — `payouts/intents/<YYYY-MM>/<method>-<hash>.json`: the intent of one batch file of
// the file provider, naming the batch and every idempotency key it holds. It is written before
// the batch.
func IntentKey(month, method, hash string) string {
	return "payouts/intents/" + month + "/" + method + "-" + hash + ".json"
}

// intent is what an intent object holds.
type intent struct {
	Batch string   `json:"batch"`
	Keys  []string `json:"keys"`
}

// Pay implements Provider. A payout is paid once its batch file exists. An intent naming the batch
// and the keys it holds is written before the batch; after a crash between the two, the unpaid
// payouts rebuild exactly the same batch (its key derives from the keys it holds), so no key ever
// lands in two batches and none is lost. (Batches written before intents existed have a marker
// per key instead, MarkerKey, which Pay still reads for them.)
func (f *FileProvider) Pay(ctx context.Context, month string, payouts []Payout) ([]Outcome, error) {
	out, unpaid, err := f.alreadyPaid(ctx, month, payouts)
	if err != nil {
		return nil, err
	}
	ok, held, err := payableOrHeld(ctx, f.Details, unpaid)
	if err != nil {
		return nil, err
	}
	ok, held = f.holdUnwritable(ok, held)
	out = append(out, held...)
	byMethod := map[string][]payable{}
	for _, p := range ok {
		byMethod[p.Method] = append(byMethod[p.Method], p)
	}
	methods := make([]string, 0, len(byMethod))
	for m := range byMethod {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	for _, m := range methods {
		paid, err := f.writeBatch(ctx, month, m, byMethod[m])
		if err != nil {
			return nil, err
		}
		out = append(out, paid...)
	}
	return out, nil
}

// alreadyPaid finds the payouts in a batch that exists: from the month's intents, and from the
// markers of the payouts not named by any when the month has batches that no intent names. The
// others are returned to pay.
func (f *FileProvider) alreadyPaid(ctx context.Context, month string, payouts []Payout) ([]Outcome, []Payout, error) {
	paidIn, legacy, err := f.Batched(ctx, month)
	if err != nil {
		return nil, nil, err
	}
	var out []Outcome
	var rest []Payout
	for _, p := range payouts {
		if batch, ok := paidIn[p.IdempotencyKey]; ok {
			out = append(out, Outcome{Payout: p, AlreadyPaid: true, BatchKey: batch})
		} else {
			rest = append(rest, p)
		}
	}
	if !legacy {
		return out, rest, nil
	}
	marked, unpaid, err := f.markedPaid(ctx, rest)
	return append(out, marked...), unpaid, err
}

// Batched maps each idempotency key of month in a batch file that exists to that batch, from the
// month's intents. legacy reports batch files of the month that no intent names: written with a
// marker per key.
func (f *FileProvider) Batched(ctx context.Context, month string) (paidIn map[string]string, legacy bool, err error) {
	var keys []string
	if err := f.Store.List(ctx, "payouts/intents/"+month+"/", func(key string, _ int64) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		return nil, false, err
	}
	intents := make([]intent, len(keys))
	exists := make([]bool, len(keys))
	if err := store.Parallel(len(keys), markerWidth, func(i int) error {
		if err := f.Store.GetJSON(ctx, keys[i], &intents[i]); err != nil {
			return err
		}
		var err error
		exists[i], err = f.Store.Exists(ctx, intents[i].Batch)
		return err
	}); err != nil {
		return nil, false, err
	}
	paidIn = map[string]string{}
	named := map[string]bool{}
	for i, in := range intents {
		named[in.Batch] = true
		for _, k := range in.Keys {
			if exists[i] {
				paidIn[k] = in.Batch
			}
		}
	}
	err = f.Store.List(ctx, "finance/payouts/"+month+"/", func(key string, _ int64) error {
		legacy = legacy || !named[key]
		return nil
	})
	return paidIn, legacy, err
}

// markedPaid reads every payout's marker side by side: a payout whose marker names a batch that
// exists was paid; the others are returned to pay.
func (f *FileProvider) markedPaid(ctx context.Context, payouts []Payout) ([]Outcome, []Payout, error) {
	type marker struct{ Batch string }
	markers := make([]marker, len(payouts))
	readErrs := make([]error, len(payouts))
	_ = store.Parallel(len(payouts), markerWidth, func(i int) error {
		readErrs[i] = f.Store.GetJSON(ctx, MarkerKey(payouts[i].IdempotencyKey), &markers[i])
		return nil
	})
	var out []Outcome
	var unpaid []Payout
	batchExists := map[string]bool{}
	for i, p := range payouts {
		switch err := readErrs[i]; {
		case err == nil:
			exists, seen := batchExists[markers[i].Batch]
			if !seen {
				if exists, err = f.Store.Exists(ctx, markers[i].Batch); err != nil {
					return nil, nil, err
				}
				batchExists[markers[i].Batch] = exists
			}
			if exists {
				out = append(out, Outcome{Payout: p, AlreadyPaid: true, BatchKey: markers[i].Batch})
				continue
			}
		case !errors.Is(err, store.ErrNotFound):
			return nil, nil, err
		}
		unpaid = append(unpaid, p)
	}
	return out, unpaid, nil
}

// holdUnwritable holds the payouts no file could carry: bank transfers with no account to pay them
// from, methods without a file format, amounts in a currency whose minor units are unknown.
func (f *FileProvider) holdUnwritable(ok []payable, held []Outcome) ([]payable, []Outcome) {
	var keep []payable
	for _, p := range ok {
		why := ""
		if _, err := earnings.CurrencyExponent(p.Currency); err != nil {
			why = fmt.Sprintf("%v; settle by hand", err)
		}
		switch {
		case why != "":
		case p.Method == payoutdetails.BankTransfer && f.Debtor.IBAN == "":
			why = "no account to pay bank transfers from: set LABELFLOW_PAYOUT_DEBTOR, then run the month's payroll again"
		case p.Method != payoutdetails.BankTransfer && p.Method != payoutdetails.MobileMoney:
			why = fmt.Sprintf("payout method %q has no batch file", p.Method)
		}
		if why != "" {
			held = append(held, Outcome{Payout: p.Payout, Held: why})
			continue
		}
		keep = append(keep, p)
	}
	return keep, held
}

// writeBatch writes the intent, then the batch file, of the payouts of one method.
func (f *FileProvider) writeBatch(ctx context.Context, month, method string, batch []payable) ([]Outcome, error) {
	sort.Slice(batch, func(i, j int) bool { return batch[i].IdempotencyKey < batch[j].IdempotencyKey })
	hash := hashOf(batch)
	data, ext, err := f.batchFile(month, method, hash, batch)
	if err != nil {
		return nil, err
	}
	key := BatchKey(month, method, hash, ext)
	in := intent{Batch: key, Keys: make([]string, len(batch))}
	for i, p := range batch {
		in.Keys[i] = p.IdempotencyKey
	}
	if err := f.Store.PutJSON(ctx, IntentKey(month, method, hash), in); err != nil {
		return nil, err
	}
	if err := f.Store.Put(ctx, key, data); err != nil {
		return nil, err
	}
	out := make([]Outcome, len(batch))
	for i, p := range batch {
		out[i] = Outcome{Payout: p.Payout, BatchKey: key}
	}
	return out, nil
}

// hashOf names a batch by the keys it holds, sorted, so that the same payouts always make the same
// batch.
func hashOf(batch []payable) string {
	keys := make([]string, len(batch))
	for i, p := range batch {
		keys[i] = p.IdempotencyKey
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// batchFile is the file of one batch, and its extension.
func (f *FileProvider) batchFile(month, method, hash string, batch []payable) ([]byte, string, error) {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	if method == payoutdetails.BankTransfer {
		data, err := pain001(f.Debtor, "LF-"+month+"-"+hash, now(), month, batch)
		return data, "xml", err
	}
	data, err := mobileMoneyCSV(month, batch)
	return data, "csv", err
}
