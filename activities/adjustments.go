package activities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labelflow/labelflow/internal/store"
)

// A month's payroll records which ledger files it took, so that no file is ever paid by two
// months, and work accepted after a month was closed (a chunk recorded after its month's payroll
// ran) is paid by the next month as an adjustment line. Rejected work is
// set aside with its reason; when a rejection is reversed, the next month pays the work it had
// held back, again as an adjustment line.

// Adjustment kinds on a statement line.
const (
	AdjustmentLate     = "late"     // accepted after its month's payroll had closed
	AdjustmentReversal = "reversal" // rejected by an earlier payroll, since accepted
)

// LedgerLookback is how many months before its own a payroll looks for ledger files that no month
// has taken yet. A chunk settles in days, so late work older than a year does not arise.
const LedgerLookback = 12

// PayrollClosure records what a month's payroll took from the ledger. Once written after the month
// is over it is final: a later run of the month takes exactly the same files and applies the same
// rejections.
type PayrollClosure struct {
	Month string `json:"month"`
	// Closed is when the run that wrote it finished; before the month's end the month is open.
	Closed time.Time `json:"closed"`
	// LedgerKeys are the ledger files this month paid or rejected, its own month's and late ones.
	LedgerKeys []string `json:"ledger_keys"`
	// Rejections are the ids of the rejections applied to them, and RejectedFiles, by rejection,
	// the files each was applied to.
	Rejections    []string            `json:"rejections,omitempty"`
	RejectedFiles map[string][]string `json:"rejected_files,omitempty"`
	// ReversalKeys are files of rejected entries (RejectedKey) that this month paid back.
	ReversalKeys []string `json:"reversal_keys,omitempty"`
}

// ClosureKey holds a month's closure.
func ClosureKey(month string) string { return "finance/closures/" + month + ".json" }

const closurePrefix = "finance/closures/"

// ClosedMonths lists the months a payroll has run for, oldest first.
func ClosedMonths(ctx context.Context, s *store.Store) ([]string, error) {
	var months []string
	err := s.List(ctx, closurePrefix, func(key string, _ int64) error {
		months = append(months, strings.TrimSuffix(strings.TrimPrefix(key, closurePrefix), ".json"))
		return nil
	})
	sort.Strings(months)
	return months, err
}

// Rejection withholds pay for work done in bad faith (spam, copied answers): a person's entries on
// a project, or on some of its chunks. Honest disagreement is never rejected; arbitration settles
// it and both answers are paid.
type Rejection struct {
	ID      string    `json:"id"`
	Project string    `json:"project"`
	Person  string    `json:"person"`
	Chunks  []int     `json:"chunks,omitempty"` // none: every chunk of the project
	Reason  string    `json:"reason"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	// Reversed is set when the rejection was found wrong; the work is then paid.
	Reversed *Reversal `json:"reversed,omitempty"`
}

// Reversal records who found a rejection wrong, and when.
type Reversal struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
}

// Covers reports whether the rejection applies to a ledger entry.
func (r Rejection) Covers(e LedgerEntry) bool {
	return e.Project == r.Project && e.Worker == r.Person && (len(r.Chunks) == 0 || slices.Contains(r.Chunks, e.Chunk))
}

// RejectionKey holds one rejection.
func RejectionKey(id string) string { return rejectionPrefix + id + ".json" }

const rejectionPrefix = "finance/rejections/"

// RejectedKey holds the entries a month's payroll set aside under one rejection.
func RejectedKey(month, rejection string) string {
	return PayrollPrefix(month) + "rejected/" + rejection + ".jsonl"
}

// ListRejections returns every rejection, oldest first.
func ListRejections(ctx context.Context, s *store.Store) ([]Rejection, error) {
	var out []Rejection
	err := s.List(ctx, rejectionPrefix, func(key string, _ int64) error {
		var r Rejection
		if err := s.GetJSON(ctx, key, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// ledgerPlan is what a month's payroll is to take: the closure, and the rejections by id.
type ledgerPlan struct {
	closure    PayrollClosure
	rejections map[string]Rejection // the ones that may apply
	frozen     bool                 // the month was closed by an earlier run
	// earlier are the files an earlier run of the month took, and earlierRejected the rejections
	// it applied to each (file → ids): those files were paid as that run decided, and a rejection
	// made since cannot take back pay already given.
	earlier         map[string]bool
	earlierRejected map[string]map[string]bool
	// unpaid are people with a rejection in force who have not been paid anything for the month
	// yet: for them the rejection reaches the earlier files too, as nothing would be taken back.
	unpaid map[string]bool
	// byPerson indexes rejections by the person they cover, built on first use.
	byPerson map[string][]string
	// ignored are objects under the ledger's months that are not ledger files (ParseLedgerKey).
	ignored []string
}

// planLedger decides which ledger files month takes.
//
// A month closes when its payroll runs after the month is over: a later run takes again exactly
// what that run took. Before then (a forced run) the month stays open, and each run takes what the
// earlier ones took plus what has come since. An open month takes every file of its own month and
// of the LedgerLookback months before it that no other month has taken, applies the rejections in
// force (and those it applied before), and pays back the entries set aside by other months whose
// rejection has since been reversed.
func (a *Activities) planLedger(ctx context.Context, month string) (ledgerPlan, error) {
	plan := ledgerPlan{closure: PayrollClosure{Month: month}, rejections: map[string]Rejection{},
		earlier: map[string]bool{}, earlierRejected: map[string]map[string]bool{}}
	start, err := time.ParseInLocation("2006-01", month, a.location())
	if err != nil {
		return plan, invalidInput("month %q must be YYYY-MM", month)
	}
	all, err := ListRejections(ctx, a.Store)
	if err != nil {
		return plan, err
	}
	byID := map[string]Rejection{}
	for _, r := range all {
		byID[r.ID] = r
	}
	err = a.Store.GetJSON(ctx, ClosureKey(month), &plan.closure)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return plan, err
	}
	for _, id := range plan.closure.Rejections {
		r, ok := byID[id]
		if !ok {
			return plan, fmt.Errorf("%s names rejection %s, which is not in %s", ClosureKey(month), id, rejectionPrefix)
		}
		plan.rejections[id] = r
		for _, k := range plan.closure.RejectedFiles[id] {
			if plan.earlierRejected[k] == nil {
				plan.earlierRejected[k] = map[string]bool{}
			}
			plan.earlierRejected[k][id] = true
		}
	}
	for _, k := range append(slices.Clone(plan.closure.LedgerKeys), plan.closure.ReversalKeys...) {
		plan.earlier[k] = true
	}
	if err == nil && !plan.closure.Closed.Before(start.AddDate(0, 1, 0)) {
		plan.frozen = true
		return plan, nil
	}
	taken := map[string]bool{}
	for _, k := range plan.closure.LedgerKeys {
		taken[k] = true
	}
	for _, k := range plan.closure.ReversalKeys {
		taken[k] = true
	}
	appliedIn := map[string][]string{} // rejection id → other months that applied it
	closed := map[string]bool{}        // months with a closure
	err = a.Store.List(ctx, closurePrefix, func(key string, _ int64) error {
		var c PayrollClosure
		if err := a.Store.GetJSON(ctx, key, &c); err != nil {
			return err
		}
		closed[c.Month] = true
		if c.Month == month {
			return nil
		}
		for _, k := range c.LedgerKeys {
			taken[k] = true
		}
		for _, k := range c.ReversalKeys {
			taken[k] = true
		}
		for _, id := range c.Rejections {
			appliedIn[id] = append(appliedIn[id], c.Month)
		}
		return nil
	})
	if err != nil {
		return plan, err
	}
	for back := LedgerLookback; back >= 0; back-- {
		m := start.AddDate(0, -back, 0).Format("2006-01")
		if back > 0 && !closed[m] {
			// A month paid before months recorded what they took pays its own late work
			// (by running it again), as it always did: its files are not taken here.
			legacy, err := a.Store.Exists(ctx, PayrollPrefix(m)+"summary.json")
			if err != nil {
				return plan, err
			}
			if legacy {
				continue
			}
		}
		err := a.Store.List(ctx, LedgerPrefix(m), func(key string, _ int64) error {
			// Only files LabelFlow's ledger writes are taken: the bucket may hold other objects
			// under ledger/ (a misdirected delivery), and nothing but the ledger is paid.
			if f, ok := ParseLedgerKey(key); !ok || f.Month != m {
				a.Log.Warn().Str("key", key).Msg("payroll ignores an object under ledger/ that is not a ledger file")
				plan.ignored = append(plan.ignored, key)
				return nil
			}
			if !taken[key] {
				plan.closure.LedgerKeys = append(plan.closure.LedgerKeys, key)
			}
			return nil
		})
		if err != nil {
			return plan, err
		}
	}
	plan.unpaid = map[string]bool{}
	checked := map[string]bool{}
	for _, r := range all {
		if r.Reversed == nil {
			plan.rejections[r.ID] = r
			if len(plan.earlier) > 0 && !checked[r.Person] {
				checked[r.Person] = true
				var rec PaidRecord
				switch err := a.Store.GetJSON(ctx, paidKey(month, r.Person), &rec); {
				case errors.Is(err, store.ErrNotFound):
					plan.unpaid[r.Person] = true
				case err != nil:
					return plan, err
				default:
					plan.unpaid[r.Person] = rec.Pending == nil && !slices.ContainsFunc(slices.Collect(maps.Values(rec.Paid)), func(v int64) bool { return v > 0 })
				}
			}
			continue
		}
		for _, m := range appliedIn[r.ID] {
			if k := RejectedKey(m, r.ID); !taken[k] {
				plan.closure.ReversalKeys = append(plan.closure.ReversalKeys, k)
			}
		}
	}
	sort.Strings(plan.closure.LedgerKeys)
	sort.Strings(plan.closure.ReversalKeys)
	return plan, nil
}

// rejectionFor returns the id of the rejection that sets aside entry e of ledger file key, if
// any; the earliest wins. A file an earlier run of the month took keeps that run's rejections,
// unless the person has not been paid for the month yet; a file taken now gets the rejections in
// force. Entries paid back after a reversal are files too: another rejection still in force sets
// them aside again. It runs for every ledger entry, so it looks only at the person's rejections.
func (p *ledgerPlan) rejectionFor(key string, e LedgerEntry) string {
	if p.byPerson == nil {
		p.byPerson = map[string][]string{}
		for id, r := range p.rejections {
			p.byPerson[r.Person] = append(p.byPerson[r.Person], id)
		}
	}
	best := ""
	for _, id := range p.byPerson[e.Worker] {
		r := p.rejections[id]
		if !r.Covers(e) {
			continue
		}
		inForce := r.Reversed == nil
		if p.earlier[key] && !p.earlierRejected[key][id] && !(inForce && p.unpaid[r.Person]) || !p.earlier[key] && !inForce {
			continue
		}
		if best == "" || r.At.Before(p.rejections[best].At) || (r.At.Equal(p.rejections[best].At) && id < best) {
			best = id
		}
	}
	return best
}

// AdjustmentOf names the adjustment a paid entry is, read from key by the payroll of month: a
// reversal when key is a file of rejected entries, late when the work is of an earlier month.
func AdjustmentOf(key string, e LedgerEntry, month string) string {
	switch {
	case strings.HasPrefix(key, "finance/"):
		return AdjustmentReversal
	case e.Month != "" && e.Month < month:
		return AdjustmentLate
	}
	return ""
}

// location is the time zone months are counted in.
func (a *Activities) location() *time.Location {
	if a.Months == nil {
		return time.UTC
	}
	return a.Months
}
