package activities

import (
	"context"
	"errors"
	"sort"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// ioWidth is how many store round trips an activity keeps in flight.
const ioWidth = 16

// AggregatePayroll closes the month's part of the ledger (see payroll.Closure), streams it one
// file at a time into the books, and writes a statement per person and the finance summary.
// Memory grows with people and projects, and with rejected entries, not with ledger lines.
func (a *Activities) AggregatePayroll(ctx context.Context, month string) (PayrollSummary, error) {
	defer keepAlive(ctx)()
	pay := newPayees(ctx, a, true)
	go pay.everyone() // the roster is read while the ledger is planned
	plan, err := a.planLedger(ctx, month)
	if err != nil {
		return PayrollSummary{}, err
	}
	books := payroll.NewBooks(month)
	sum := books.Summary()
	people, err := a.takeLedger(ctx, plan, books, pay)
	if err != nil {
		return *sum, err
	}
	workers, statements := books.Statements()
	if err := a.applyFloor(ctx, month, workers, statements, people, sum); err != nil {
		return *sum, err
	}
	if err := a.writeStatements(ctx, month, workers, statements); err != nil {
		return *sum, err
	}
	if sum.PaySheet, err = payroll.WritePaySheet(ctx, a.Store, month, workers, statements); err != nil {
		return *sum, err
	}
	applied, err := a.writeSetAside(ctx, month, books.SetAsideEntries())
	if err != nil {
		return *sum, err
	}
	if err := a.writeClosure(ctx, plan, applied, books.SetAsideFiles()); err != nil {
		return *sum, err
	}
	sum.People, sum.Workers, sum.LedgerFiles = len(workers), workers, len(plan.closure.LedgerKeys)
	return *sum, a.Store.PutJSON(ctx, sum.SummaryKey, sum)
}

// takeLedger reads the files the plan takes and puts each entry payroll may pay in the books,
// or sets it aside under the rejection that covers it. What it may not pay is reported in the
// summary's Refused, as pay decides. It returns the roster's record of every person it may pay.
func (a *Activities) takeLedger(ctx context.Context, plan *ledgerPlan, books *payroll.Books, pay *payees) (map[string]workforce.Person, error) {
	refused := &payroll.RefusedLedger{}
	for _, key := range plan.ignored {
		refused.Ignore(key, ledger.NotLedgerFile)
	}
	take := func(key string, e ledger.Entry) {
		if id := plan.rejectionFor(key, e); id != "" {
			books.SetAside(key, e, plan.rejections[id])
			return
		}
		books.Pay(key, e)
	}
	var files []ledgerFile
	for _, key := range plan.closure.LedgerKeys {
		file, ok := layout.ParseLedgerKey(key)
		if !ok { // taken by a run before payroll checked keys
			refused.Ignore(key, ledger.NotLedgerFile)
			continue
		}
		files = append(files, ledgerFile{key: key, file: &file})
	}
	for _, key := range plan.closure.ReversalKeys {
		files = append(files, ledgerFile{key: key})
	}
	err := inOrder(ctx, len(files), ledgerReadAhead, func(ctx context.Context, i int) ([]ledger.Entry, error) {
		return a.readLedgerFile(ctx, files[i].key)
	}, func(i int, entries []ledger.Entry) error {
		return a.takeFile(ctx, files[i], entries, pay, refused, take)
	})
	if err != nil {
		return nil, err
	}
	if !refused.Empty() {
		books.Summary().Refused = refused
		a.logger(ctx).Warn("payroll leaves out ledger entries it may not pay", "month", plan.month,
			"entries", refused.Entries, "ignored_keys", refused.IgnoredKeys, "examples", refused.Examples)
	}
	return pay.people, nil
}

// ledgerReadAhead is how many ledger files are read and decoded ahead of the one being taken: the
// store answers many requests at once, and decoding uses every core.
const ledgerReadAhead = 8

// ledgerFile is a file payroll takes: a ledger file (file names what its key says), or a file of
// entries set aside under a rejection (file nil).
type ledgerFile struct {
	key  string
	file *layout.LedgerFile
}

// readLedgerFile reads the entries of one file payroll takes.
func (a *Activities) readLedgerFile(ctx context.Context, key string) ([]ledger.Entry, error) {
	entries, err := ledger.Read(ctx, a.Store, key)
	var bad *ledger.LineError
	if errors.As(err, &bad) {
		return nil, invalidInput("%v", bad)
	}
	return entries, err
}

// takeFile passes take the entries of f that payroll may pay; it reports the others.
func (a *Activities) takeFile(ctx context.Context, f ledgerFile, entries []ledger.Entry, pay *payees, refused *payroll.RefusedLedger, take func(string, ledger.Entry)) error {
	key := f.key
	if err := pay.lookUp(ctx, workersOf(entries)); err != nil {
		return err
	}
	for i, e := range entries {
		why := ""
		if f.file != nil {
			why = ledger.Mismatch(*f.file, e)
		}
		if why == "" {
			why = pay.refusal(e.Worker)
		}
		if why != "" {
			refused.Entry(key, i+1, e, why)
			continue
		}
		take(key, e)
	}
	return nil
}

// writeStatements stores each person's statement, one object each: the gateway reads a person's
// own. A CSV copy is not stored; payroll.StatementCSV renders one from the statement on demand.
func (a *Activities) writeStatements(ctx context.Context, month string, workers []string, statements map[string]*payroll.Statement) error {
	return store.Parallel(len(workers), ioWidth, func(i int) error {
		return a.Store.PutJSON(ctx, layout.StatementKey(month, workers[i]), statements[workers[i]])
	})
}

// writeSetAside keeps the entries set aside under each rejection, one file per rejection, from
// which a reversal pays them back. It returns the rejections applied, sorted.
func (a *Activities) writeSetAside(ctx context.Context, month string, setAside map[string][]ledger.Entry) ([]string, error) {
	applied := make([]string, 0, len(setAside))
	for id, entries := range setAside {
		applied = append(applied, id)
		data, err := ledger.Encode(entries)
		if err != nil {
			return nil, err
		}
		if err := a.Store.Put(ctx, layout.RejectedKey(month, id), data); err != nil {
			return nil, err
		}
	}
	sort.Strings(applied)
	return applied, nil
}

// workersOf are the people of entries.
func workersOf(entries []ledger.Entry) []string {
	workers := make([]string, len(entries))
	for i, e := range entries {
		workers[i] = e.Worker
	}
	return workers
}

// inOrder reads n things side by side, at most width of them ahead of the one in use, and hands
// each to use in order. It stops at the first error.
func inOrder[T any](ctx context.Context, n, width int, read func(ctx context.Context, i int) (T, error), use func(i int, v T) error) error {
	type result struct {
		v   T
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]chan result, n)
	for i := range results {
		results[i] = make(chan result, 1)
	}
	slots := make(chan struct{}, width)
	go func() {
		for i := 0; i < n; i++ {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				v, err := read(ctx, i)
				results[i] <- result{v, err}
			}()
		}
	}()
	for i := 0; i < n; i++ {
		r := <-results[i]
		<-slots
		if r.err != nil {
			return r.err
		}
		if err := use(i, r.v); err != nil {
			return err
		}
	}
	return nil
}
