package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/store"
)

// A month's payroll records which ledger files it took, so that no file is ever paid by two
// months, and work accepted after a month was closed (a chunk recorded after its month's payroll
// ran) is paid by the next month as an adjustment line. Rejected work is set aside with its
// reason; when a rejection is reversed, the next month pays the work it had held back, again as
// an adjustment line.

// ledgerPlan is what a month's payroll is to take: the closure, and the rejections by id.
type ledgerPlan struct {
	month      string
	closure    payroll.Closure
	rejections map[string]payroll.Rejection // the ones that may apply
	frozen     bool                         // the month was closed by an earlier run
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

// closureIndex is what the closures of the other months say: the files they took, the months
// that applied each rejection, and which months have a closure at all.
type closureIndex struct {
	taken     map[string]bool
	appliedIn map[string][]string // rejection id → other months that applied it
	closed    map[string]bool
}

// planLedger decides which ledger files month takes.
//
// A month closes when its payroll runs after the month is over: a later run takes again exactly
// what that run took. Before then (a forced run) the month stays open, and each run takes what the
// earlier ones took plus what has come since. An open month takes every file of its own month and
// of the LedgerLookback months before it that no other month has taken, applies the rejections in
// force (and those it applied before), and pays back the entries set aside by other months whose
// rejection has since been reversed.
func (a *Activities) planLedger(ctx context.Context, month string) (*ledgerPlan, error) {
	start, err := time.ParseInLocation("2006-01", month, a.location())
	if err != nil {
		return nil, invalidInput("month %q must be YYYY-MM", month)
	}
	all, err := payroll.ListRejections(ctx, a.Store)
	if err != nil {
		return nil, err
	}
	plan, found, err := a.earlierRun(ctx, month, all)
	if err != nil {
		return nil, err
	}
	if found && !plan.closure.Closed.Before(start.AddDate(0, 1, 0)) {
		plan.frozen = true
		return plan, nil
	}
	idx, err := a.otherClosures(ctx, month)
	if err != nil {
		return nil, err
	}
	for k := range plan.earlier {
		idx.taken[k] = true
	}
	if err := a.collectLedgerFiles(ctx, plan, start, idx); err != nil {
		return nil, err
	}
	if err := a.applyRejections(ctx, plan, month, all, idx); err != nil {
		return nil, err
	}
	sort.Strings(plan.closure.LedgerKeys)
	sort.Strings(plan.closure.ReversalKeys)
	return plan, nil
}

// earlierRun starts the plan from the month's own closure, if an earlier run wrote one: the files
// it took and the rejections it applied to each. found reports whether there was one.
func (a *Activities) earlierRun(ctx context.Context, month string, all []payroll.Rejection) (plan *ledgerPlan, found bool, err error) {
	plan = &ledgerPlan{month: month, closure: payroll.Closure{Month: month}, rejections: map[string]payroll.Rejection{},
		earlier: map[string]bool{}, earlierRejected: map[string]map[string]bool{}}
	err = a.Store.GetJSON(ctx, layout.ClosureKey(month), &plan.closure)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return plan, false, nil
	case err != nil:
		return nil, false, err
	}
	byID := map[string]payroll.Rejection{}
	for _, r := range all {
		byID[r.ID] = r
	}
	for _, id := range plan.closure.Rejections {
		r, ok := byID[id]
		if !ok {
			return nil, false, fmt.Errorf("%s names rejection %s, which is not in %s", layout.ClosureKey(month), id, layout.RejectionPrefix)
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
	return plan, true, nil
}

// otherClosures reads the closures of every month but month.
func (a *Activities) otherClosures(ctx context.Context, month string) (closureIndex, error) {
	idx := closureIndex{taken: map[string]bool{}, appliedIn: map[string][]string{}, closed: map[string]bool{}}
	err := a.Store.List(ctx, layout.ClosurePrefix, func(key string, _ int64) error {
		var c payroll.Closure
		if err := a.Store.GetJSON(ctx, key, &c); err != nil {
			return err
		}
		idx.closed[c.Month] = true
		if c.Month == month {
			return nil
		}
		for _, k := range append(slices.Clone(c.LedgerKeys), c.ReversalKeys...) {
			idx.taken[k] = true
		}
		for _, id := range c.Rejections {
			idx.appliedIn[id] = append(idx.appliedIn[id], c.Month)
		}
		return nil
	})
	return idx, err
}

// collectLedgerFiles adds to the plan the ledger files of month (starting at start) and of the
// LedgerLookback months before it that no month has taken.
func (a *Activities) collectLedgerFiles(ctx context.Context, plan *ledgerPlan, start time.Time, idx closureIndex) error {
	for back := payroll.LedgerLookback; back >= 0; back-- {
		m := start.AddDate(0, -back, 0).Format("2006-01")
		if back > 0 && !idx.closed[m] {
			// A month paid before months recorded what they took pays its own late work
			// (by running it again), as it always did: its files are not taken here.
			legacy, err := a.Store.Exists(ctx, layout.PayrollSummaryKey(m))
			if err != nil {
				return err
			}
			if legacy {
				continue
			}
		}
		if err := a.collectMonth(ctx, plan, m, idx.taken); err != nil {
			return err
		}
	}
	return nil
}

// collectMonth adds the untaken ledger files of month m. Only files LabelFlow's ledger writes are
// taken: the bucket may hold other objects under ledger/ (a misdirected delivery), and nothing but
// the ledger is paid.
func (a *Activities) collectMonth(ctx context.Context, plan *ledgerPlan, m string, taken map[string]bool) error {
	return a.Store.List(ctx, layout.LedgerPrefix(m), func(key string, _ int64) error {
		if f, ok := layout.ParseLedgerKey(key); !ok || f.Month != m {
			a.logger(ctx).Warn("payroll ignores an object under ledger/ that is not a ledger file", "key", key)
			plan.ignored = append(plan.ignored, key)
			return nil
		}
		if !taken[key] {
			plan.closure.LedgerKeys = append(plan.closure.LedgerKeys, key)
		}
		return nil
	})
}

// applyRejections adds the rejections in force to the plan, noting which of their people have
// not been paid for the month yet, and the files of entries set aside under a rejection since
// reversed, for this month to pay back.
func (a *Activities) applyRejections(ctx context.Context, plan *ledgerPlan, month string, all []payroll.Rejection, idx closureIndex) error {
	plan.unpaid = map[string]bool{}
	var paid *payroll.PaidBook
	for _, r := range all {
		if r.Reversed != nil {
			for _, m := range idx.appliedIn[r.ID] {
				if k := layout.RejectedKey(m, r.ID); !idx.taken[k] {
					plan.closure.ReversalKeys = append(plan.closure.ReversalKeys, k)
				}
			}
			continue
		}
		plan.rejections[r.ID] = r
		if _, checked := plan.unpaid[r.Person]; len(plan.earlier) == 0 || checked {
			continue
		}
		if paid == nil { // what the month paid, read once for every rejection's person
			var err error
			if paid, err = payroll.ReadPaid(ctx, a.Store, month); err != nil {
				return err
			}
		}
		// Unpaid: nothing paid to the person for the month, nor asked of the provider.
		plan.unpaid[r.Person] = !paid.Record(r.Person).PaidAnything()
	}
	return nil
}

// rejectionFor returns the id of the rejection that sets aside entry e of ledger file key, if
// any; the earliest wins. A file an earlier run of the month took keeps that run's rejections,
// unless the person has not been paid for the month yet; a file taken now gets the rejections in
// force. Entries paid back after a reversal are files too: another rejection still in force sets
// them aside again. It runs for every ledger entry, so it looks only at the person's rejections.
func (p *ledgerPlan) rejectionFor(key string, e ledger.Entry) string {
	if p.byPerson == nil {
		p.byPerson = map[string][]string{}
		for id, r := range p.rejections {
			p.byPerson[r.Person] = append(p.byPerson[r.Person], id)
		}
	}
	best := ""
	for _, id := range p.byPerson[e.Worker] {
		r := p.rejections[id]
		if !r.Covers(e) || !p.applies(key, r) {
			continue
		}
		if best == "" || r.Before(p.rejections[best]) {
			best = id
		}
	}
	return best
}

// applies reports whether rejection r may set aside entries of the file at key: on a file an
// earlier run took, only a rejection that run applied to it, or one in force for a person not yet
// paid; on a file taken now, only a rejection in force.
func (p *ledgerPlan) applies(key string, r payroll.Rejection) bool {
	inForce := r.Reversed == nil
	if p.earlier[key] {
		return p.earlierRejected[key][r.ID] || (inForce && p.unpaid[r.Person])
	}
	return inForce
}

// writeClosure records what the month took. It is written last before the summary: until then a
// retry plans afresh. A month keeps the rejections it applied, whatever became of them since; a
// reversal is paid back by a later month, from the file of entries set aside. A frozen month
// keeps its closure as it is.
func (a *Activities) writeClosure(ctx context.Context, plan *ledgerPlan, applied []string, files map[string][]string) error {
	if plan.frozen {
		return nil
	}
	for id := range plan.rejections {
		if slices.Contains(plan.closure.Rejections, id) && !slices.Contains(applied, id) {
			applied = append(applied, id)
		}
	}
	sort.Strings(applied)
	plan.closure.Rejections = applied
	plan.closure.RejectedFiles = files
	plan.closure.Closed = a.now().UTC()
	return a.Store.PutJSON(ctx, layout.ClosureKey(plan.month), plan.closure)
}

// location is the time zone months are counted in.
func (a *Activities) location() *time.Location {
	if a.Months == nil {
		return time.UTC
	}
	return a.Months
}
