// Package payroll owns what a month's payroll keeps in the platform store: the statements, the
// finance summary, the closure of the ledger, the rejections of work and what was paid, with the
// rules that read them (which adjustment an entry is, which entries a rejection covers) and the
// statement read model people and finance see.
package payroll

import (
	"slices"
	"time"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/payout"
)

// Statement is what one person earned in a month.
type Statement struct {
	Worker  string           `json:"worker"`
	Month   string           `json:"month"`
	Lines   []StatementLine  `json:"lines"`
	Totals  map[string]int64 `json:"totals"` // currency → minor units, as the ledger has them
	Entries int              `json:"entries"`
	Seconds int              `json:"seconds"`
	Country string           `json:"country"`
	// Rejected is work set aside under a rejection, with its reason.
	Rejected []RejectedLine `json:"rejected,omitempty"`
	// Pay is what the person is paid: every line converted to their payout currency at the
	// month's rate, and the earnings floor with any top-up.
	Pay earnings.Statement `json:"pay"`
}

// StatementLine sums one kind of work on one project. An adjustment line pays work of an
// earlier month: accepted after that month closed (late), or rejected then and accepted since
// (reversal); WorkMonth is the month the work was accepted in.
type StatementLine struct {
	Project    string `json:"project"`
	Role       string `json:"role"`
	Currency   string `json:"currency"`
	Count      int    `json:"count"`
	Amount     int64  `json:"amount"`
	Seconds    int    `json:"seconds"`
	Adjustment string `json:"adjustment,omitempty"` // late | reversal
	WorkMonth  string `json:"work_month,omitempty"`
}

// RejectedLine sums work set aside under one rejection: shown to the person with the reason, and
// not paid unless the rejection is reversed.
type RejectedLine struct {
	Project   string `json:"project"`
	Role      string `json:"role"`
	Currency  string `json:"currency"`
	Count     int    `json:"count"`
	Amount    int64  `json:"amount"`
	Rejection string `json:"rejection"`
	Reason    string `json:"reason"`
}

// TopUp is a payment that lifts a person's month to the earnings floor.
type TopUp struct {
	Person   string `json:"person"`
	Country  string `json:"country"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// CountryTotals sums a country's payroll in its payout currency.
type CountryTotals struct {
	People int              `json:"people"`
	Paid   map[string]int64 `json:"paid"`    // payout currency → total, top-ups included
	TopUps map[string]int64 `json:"top_ups"` // payout currency → top-ups
}

// Summary is the finance summary of a month; it is small enough for history (the payroll
// workflow keeps it, so its JSON shape is fixed).
type Summary struct {
	Month      string           `json:"month"`
	People     int              `json:"people"`
	Entries    int              `json:"entries"`
	Totals     map[string]int64 `json:"totals"`
	SummaryKey string           `json:"summary_key"`
	// Workers lists the people with a statement; small (thousands of ids), and the payroll
	// workflow checks holds against it.
	Workers   []string                 `json:"workers"`
	PayTotals map[string]int64         `json:"pay_totals"` // payout currency → total to pay, top-ups included
	TopUps    []TopUp                  `json:"top_ups"`
	Countries map[string]CountryTotals `json:"countries"`
	// Adjustments sums the adjustment lines by kind (late, reversal) and currency; they are
	// included in Totals. Rejected sums work set aside, which Totals excludes.
	Adjustments map[string]map[string]int64 `json:"adjustments,omitempty"`
	Rejected    map[string]int64            `json:"rejected,omitempty"`
	// LedgerFiles counts the ledger files the month took (see Closure).
	LedgerFiles int `json:"ledger_files"`
	// Refused is what the run would not pay: entries that do not belong to their ledger file or
	// whose worker payroll may not pay, and objects under ledger/ that are not ledger files.
	Refused *RefusedLedger `json:"refused,omitempty"`
	// PaySheet is the key of the month's pay sheet (WritePaySheet), from which it is paid.
	PaySheet string `json:"pay_sheet,omitempty"`
}

// Adjustment kinds on a statement line.
const (
	AdjustmentLate     = "late"     // accepted after its month's payroll had closed
	AdjustmentReversal = "reversal" // rejected by an earlier payroll, since accepted
)

// LedgerLookback is how many months before its own a payroll looks for ledger files that no month
// has taken yet. A chunk settles in days, so late work older than a year does not arise.
const LedgerLookback = 12

// AdjustmentOf names the adjustment a paid entry is, read from key by the payroll of month: a
// reversal when key is a file of rejected entries (layout.RejectedKey), late when the work is of
// an earlier month.
func AdjustmentOf(key string, e ledger.Entry, month string) string {
	switch {
	case isRejectedKey(key):
		return AdjustmentReversal
	case e.Month != "" && e.Month < month:
		return AdjustmentLate
	}
	return ""
}

func isRejectedKey(key string) bool {
	_, _, ok := layout.ParseRejectedKey(key)
	return ok
}

// Closure records what a month's payroll took from the ledger, so that no ledger file is ever
// paid by two months. Once written after the month is over it is final: a later run of the month
// takes exactly the same files and applies the same rejections.
type Closure struct {
	Month string `json:"month"`
	// Closed is when the run that wrote it finished; before the month's end the month is open.
	Closed time.Time `json:"closed"`
	// LedgerKeys are the ledger files this month paid or rejected, its own month's and late ones.
	LedgerKeys []string `json:"ledger_keys"`
	// Rejections are the ids of the rejections applied to them, and RejectedFiles, by rejection,
	// the files each was applied to.
	Rejections    []string            `json:"rejections,omitempty"`
	RejectedFiles map[string][]string `json:"rejected_files,omitempty"`
	// ReversalKeys are files of rejected entries (layout.RejectedKey) that this month paid back.
	ReversalKeys []string `json:"reversal_keys,omitempty"`
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
func (r Rejection) Covers(e ledger.Entry) bool {
	return e.Project == r.Project && e.Worker == r.Person && (len(r.Chunks) == 0 || slices.Contains(r.Chunks, e.Chunk))
}

// Before orders rejections: the earlier one first, the smaller id among those of the same time.
// Where two rejections cover an entry, the earlier one sets it aside.
func (r Rejection) Before(o Rejection) bool {
	if !r.At.Equal(o.At) {
		return r.At.Before(o.At)
	}
	return r.ID < o.ID
}

// PaidRecord is what a person has been paid for a month, per currency.
type PaidRecord struct {
	Worker string           `json:"worker"`
	Month  string           `json:"month"`
	Paid   map[string]int64 `json:"paid"`
	// Refused counts the provider's refusals per currency; each retry after one carries a new key,
	// since a provider may answer a key it refused with the same refusal for good.
	Refused map[string]int `json:"refused,omitempty"`
	// Pending is a payout asked of the provider whose outcome is not known yet. It is written
	// before the provider is called; a later attempt asks for exactly it again (same key, same
	// amount) before anything else, whatever the statement says by then.
	Pending *payout.Payout `json:"pending,omitempty"`
}

// PaidAnything reports whether anything was paid, or asked of the provider, for the month.
func (p PaidRecord) PaidAnything() bool {
	if p.Pending != nil {
		return true
	}
	for _, v := range p.Paid {
		if v > 0 {
			return true
		}
	}
	return false
}
