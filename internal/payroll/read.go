package payroll

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"sync"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/store"
)

// readWidth is how many store reads a listing keeps in flight.
const readWidth = 16

// ClosedMonths lists the months a payroll has run for, oldest first.
func ClosedMonths(ctx context.Context, s *store.Store) ([]string, error) {
	var months []string
	err := s.List(ctx, layout.ClosurePrefix, func(key string, _ int64) error {
		months = append(months, layout.ClosureMonth(key))
		return nil
	})
	sort.Strings(months)
	return months, err
}

// ReadClosure reads a month's closure; store.ErrNotFound when no payroll of it has closed
// anything (or it ran before closures existed).
func ReadClosure(ctx context.Context, s *store.Store, month string) (Closure, error) {
	var c Closure
	err := s.GetJSON(ctx, layout.ClosureKey(month), &c)
	return c, err
}

// ReadSummary reads a month's finance summary; store.ErrNotFound when its payroll has not run.
func ReadSummary(ctx context.Context, s *store.Store, month string) (Summary, error) {
	var sum Summary
	err := s.GetJSON(ctx, layout.PayrollSummaryKey(month), &sum)
	return sum, err
}

// ReadWorkers reads the people with a statement for a month, from its finance summary; only that
// field is decoded, so that summaries written by any version serve.
func ReadWorkers(ctx context.Context, s *store.Store, month string) ([]string, error) {
	var sum struct{ Workers []string }
	err := s.GetJSON(ctx, layout.PayrollSummaryKey(month), &sum)
	return sum.Workers, err
}

// ReadStatement reads a person's statement of a month; store.ErrNotFound when they have none.
func ReadStatement(ctx context.Context, s *store.Store, month, person string) (Statement, error) {
	var st Statement
	err := s.GetJSON(ctx, layout.StatementKey(month, person), &st)
	return st, err
}

// ReadRejection reads one rejection; store.ErrNotFound when there is none of that id.
func ReadRejection(ctx context.Context, s *store.Store, id string) (Rejection, error) {
	var r Rejection
	err := s.GetJSON(ctx, layout.RejectionKey(id), &r)
	return r, err
}

// SaveRejection writes a rejection (a new one, or one just reversed).
func SaveRejection(ctx context.Context, s *store.Store, r Rejection) error {
	return s.PutJSON(ctx, layout.RejectionKey(r.ID), r)
}

// ListRejections returns every rejection, oldest first.
func ListRejections(ctx context.Context, s *store.Store) ([]Rejection, error) {
	var out []Rejection
	err := s.List(ctx, layout.RejectionPrefix, func(key string, _ int64) error {
		var r Rejection
		if err := s.GetJSON(ctx, key, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, err
}

// MonthTotals is what a person earned in one month, per currency, as their statement says.
type MonthTotals struct {
	Month  string
	Totals map[string]int64 // currency → minor units
}

// StatementMonths lists the months a person has a statement for, newest first. Every payroll run
// writes its month's closure, so the closures name the months (a few a year) and each month costs
// one read, however many people the month paid.
func StatementMonths(ctx context.Context, s *store.Store, person string) ([]MonthTotals, error) {
	months, err := ClosedMonths(ctx, s)
	if err != nil {
		return nil, err
	}
	found := make([]*MonthTotals, len(months))
	err = store.Parallel(len(months), 8, func(i int) error {
		st, err := ReadStatement(ctx, s, months[i], person)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil // nothing for this person that month
		case err != nil:
			return err
		}
		found[i] = &MonthTotals{Month: months[i], Totals: st.Totals}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := []MonthTotals{}
	for i := len(found) - 1; i >= 0; i-- {
		if found[i] != nil {
			out = append(out, *found[i])
		}
	}
	return out, nil
}

// StatementItem is one ledger entry behind a statement: paid, paid as an adjustment of an earlier
// month, or set aside under a rejection.
type StatementItem struct {
	ledger.Entry
	Adjustment string `json:"adjustment,omitempty"` // late | reversal
	Rejection  string `json:"rejection,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// StatementItems lists every ledger entry behind a person's statement of a month: each item of
// each project they are paid for, with the kind of work, the amount and the time, and the items
// set aside under a rejection with its reason, in entry id order. It reads the files the month's
// payroll took (its closure). A person without a statement that month gets store.ErrNotFound.
func StatementItems(ctx context.Context, s *store.Store, month, person string) ([]StatementItem, error) {
	st, err := ReadStatement(ctx, s, month, person)
	if err != nil {
		return nil, err
	}
	projects, reasons := statementProjects(st)
	keys, err := takenFiles(ctx, s, month, projects)
	if err != nil {
		return nil, err
	}
	rejectedIn := map[string]string{} // file of set-aside entries → rejection
	for id := range reasons {
		keys = append(keys, layout.RejectedKey(month, id))
		rejectedIn[layout.RejectedKey(month, id)] = id
	}
	items, err := personsEntries(ctx, s, keys, person, func(key string, e ledger.Entry) StatementItem {
		it := StatementItem{Entry: e}
		if id, rejected := rejectedIn[key]; rejected {
			it.Rejection, it.Reason = id, reasons[id]
		} else {
			it.Adjustment = AdjustmentOf(key, e, month)
		}
		return it
	})
	if err != nil {
		return nil, err
	}
	return showEachOnce(items), nil
}

// statementProjects names the projects a statement pays or sets aside work of, and the reason of
// each rejection on it.
func statementProjects(st Statement) (projects map[string]bool, reasons map[string]string) {
	projects, reasons = map[string]bool{}, map[string]string{}
	for _, l := range st.Lines {
		projects[l.Project] = true
	}
	for _, l := range st.Rejected {
		projects[l.Project] = true
		reasons[l.Rejection] = l.Reason
	}
	return projects, reasons
}

// takenFiles are the ledger files of projects that month's payroll took, and the files of
// set-aside entries it paid back.
func takenFiles(ctx context.Context, s *store.Store, month string, projects map[string]bool) ([]string, error) {
	closure, err := ReadClosure(ctx, s, month)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// A month paid before months recorded what they took: it took its own ledger files.
		for project := range projects {
			err := s.List(ctx, layout.LedgerProjectPrefix(month, project), func(key string, _ int64) error {
				closure.LedgerKeys = append(closure.LedgerKeys, key)
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	case err != nil:
		return nil, err
	}
	var keys []string
	for _, k := range closure.LedgerKeys {
		if f, ok := layout.ParseLedgerKey(k); ok && projects[f.Project] {
			keys = append(keys, k)
		}
	}
	return append(keys, closure.ReversalKeys...), nil
}

// personsEntries reads the files at keys side by side and turns each entry of person into an item.
// Lines that are not entries are skipped: the statement, not this listing, is what is paid.
func personsEntries(ctx context.Context, s *store.Store, keys []string, person string, item func(key string, e ledger.Entry) StatementItem) ([]StatementItem, error) {
	var mu sync.Mutex
	items := []StatementItem{}
	err := store.Parallel(len(keys), readWidth, func(i int) error {
		data, err := s.Get(ctx, keys[i])
		if err != nil {
			return err
		}
		for _, line := range bytes.Split(bytes.TrimSpace(data), []byte{'\n'}) {
			var e ledger.Entry
			if json.Unmarshal(line, &e) != nil || e.Worker != person {
				continue
			}
			it := item(keys[i], e)
			mu.Lock()
			items = append(items, it)
			mu.Unlock()
		}
		return nil
	})
	return items, err
}

// showEachOnce drops the paid copy of an entry also set aside under a rejection (it sits in its
// ledger file and in the file of set-aside entries), and orders the items by entry id.
func showEachOnce(items []StatementItem) []StatementItem {
	rejected := map[string]bool{}
	for _, it := range items {
		if it.Rejection != "" {
			rejected[it.ID] = true
		}
	}
	items = slices.DeleteFunc(items, func(it StatementItem) bool { return it.Rejection == "" && rejected[it.ID] })
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	return items
}
