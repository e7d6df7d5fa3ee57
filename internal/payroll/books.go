package payroll

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
)

// Books add up a month's ledger entries, one at a time, into statements and the finance summary:
// paid entries into statement lines, entries set aside under a rejection into rejected lines.
// Memory grows with people, projects and rejected entries, not with ledger lines.
type Books struct {
	month         string
	summary       Summary
	statements    map[string]*Statement
	lines         map[string]*StatementLine // by lineKey
	rejectedLines map[string]*RejectedLine  // by worker, project, role, currency, rejection
	setAside      map[string][]ledger.Entry // rejection id → entries set aside
	setAsideFiles map[string]map[string]bool
}

// NewBooks opens the books of month.
func NewBooks(month string) *Books {
	return &Books{
		month: month,
		summary: Summary{Month: month, Totals: map[string]int64{}, SummaryKey: layout.PayrollSummaryKey(month),
			Adjustments: map[string]map[string]int64{}, Rejected: map[string]int64{}},
		statements:    map[string]*Statement{},
		lines:         map[string]*StatementLine{},
		rejectedLines: map[string]*RejectedLine{},
		setAside:      map[string][]ledger.Entry{},
		setAsideFiles: map[string]map[string]bool{},
	}
}

// statement is the person's statement, opened on first use: a person with only rejected work has
// one too, showing it.
func (b *Books) statement(worker string) *Statement {
	st := b.statements[worker]
	if st == nil {
		st = &Statement{Worker: worker, Month: b.month, Totals: map[string]int64{}, Lines: []StatementLine{}}
		b.statements[worker] = st
	}
	return st
}

// Pay adds entry e, read from the file at key, to its person's statement: as an adjustment when
// it is late work or paid back after a reversal (AdjustmentOf).
func (b *Books) Pay(key string, e ledger.Entry) {
	st := b.statement(e.Worker)
	adj, workMonth := AdjustmentOf(key, e, b.month), ""
	if adj != "" {
		workMonth = e.Month
		if b.summary.Adjustments[adj] == nil {
			b.summary.Adjustments[adj] = map[string]int64{}
		}
		b.summary.Adjustments[adj][e.Currency] += e.Amount
	}
	lk := strings.Join([]string{e.Worker, e.Project, e.Role, e.Currency, adj, workMonth}, "\x00")
	l := b.lines[lk]
	if l == nil {
		l = &StatementLine{Project: e.Project, Role: e.Role, Currency: e.Currency, Adjustment: adj, WorkMonth: workMonth}
		b.lines[lk] = l
	}
	l.Count++
	l.Amount += e.Amount
	l.Seconds += e.Seconds
	st.Totals[e.Currency] += e.Amount
	st.Entries++
	st.Seconds += e.Seconds
	b.summary.Totals[e.Currency] += e.Amount
	b.summary.Entries++
}

// SetAside keeps entry e, read from the file at key, out of pay under rejection r: it shows on the
// person's statement as rejected, with the reason, and is kept for a reversal to pay back.
func (b *Books) SetAside(key string, e ledger.Entry, r Rejection) {
	b.statement(e.Worker)
	b.setAside[r.ID] = append(b.setAside[r.ID], e)
	if b.setAsideFiles[r.ID] == nil {
		b.setAsideFiles[r.ID] = map[string]bool{}
	}
	b.setAsideFiles[r.ID][key] = true
	lk := e.Worker + "\x00" + e.Project + "\x00" + e.Role + "\x00" + e.Currency + "\x00" + r.ID
	l := b.rejectedLines[lk]
	if l == nil {
		l = &RejectedLine{Project: e.Project, Role: e.Role, Currency: e.Currency, Rejection: r.ID, Reason: r.Reason}
		b.rejectedLines[lk] = l
	}
	l.Count++
	l.Amount += e.Amount
	b.summary.Rejected[e.Currency] += e.Amount
}

// Statements puts the lines on their statements, in key order (person, project, kind, currency,
// adjustment), and returns the people with a statement, sorted, and their statements. Call it
// once, after the last entry.
func (b *Books) Statements() ([]string, map[string]*Statement) {
	for _, k := range slices.Sorted(maps.Keys(b.lines)) {
		worker, _, _ := strings.Cut(k, "\x00")
		b.statements[worker].Lines = append(b.statements[worker].Lines, *b.lines[k])
	}
	for _, k := range slices.Sorted(maps.Keys(b.rejectedLines)) {
		worker, _, _ := strings.Cut(k, "\x00")
		b.statements[worker].Rejected = append(b.statements[worker].Rejected, *b.rejectedLines[k])
	}
	// Never nil: the summary lists no people as [], as it always has.
	workers := make([]string, 0, len(b.statements))
	for w := range b.statements {
		workers = append(workers, w)
	}
	sort.Strings(workers)
	return workers, b.statements
}

// SetAsideEntries returns the entries set aside under each rejection, by id, each in entry id
// order: the bytes of the file kept for it do not depend on the order the ledger was read in.
func (b *Books) SetAsideEntries() map[string][]ledger.Entry {
	for _, entries := range b.setAside {
		sort.Slice(entries, func(i, j int) bool { return entries[i].ID < entries[j].ID })
	}
	return b.setAside
}

// SetAsideFiles returns, by rejection id, the ledger files it was applied to, sorted.
func (b *Books) SetAsideFiles() map[string][]string {
	out := map[string][]string{}
	for id, files := range b.setAsideFiles {
		out[id] = slices.Sorted(maps.Keys(files))
	}
	return out
}

// Summary is the finance summary so far; the caller completes it (pay totals, people, refused).
func (b *Books) Summary() *Summary { return &b.summary }
