package payroll

import (
	"fmt"

	"github.com/labelflow/labelflow/internal/ledger"
)

// RefusedLedger reports what a payroll run would not pay: ledger entries that do not belong to
// the file they were read from or whose worker payroll may not pay, and objects under ledger/
// that are not ledger files. Payroll pays only what LabelFlow itself recorded; anything else is
// reported here, never silently added.
type RefusedLedger struct {
	Entries     int              `json:"entries"`
	Amounts     map[string]int64 `json:"amounts"` // currency → minor units, as the entries have them
	IgnoredKeys int              `json:"ignored_keys"`
	// Examples are the first few, each naming its key (and line) and why.
	Examples []string `json:"examples"`
}

// refusedExamples keeps the summary small enough for history whatever was planted.
const refusedExamples = 10

// Entry counts an entry left out: line line of the file at key, and why.
func (r *RefusedLedger) Entry(key string, line int, e ledger.Entry, why string) {
	r.Entries++
	if r.Amounts == nil {
		r.Amounts = map[string]int64{}
	}
	r.Amounts[e.Currency] += e.Amount
	r.example(fmt.Sprintf("%s line %d: %s", key, line, why))
}

// Ignore counts an object under ledger/ that was not read, and why.
func (r *RefusedLedger) Ignore(key, why string) {
	r.IgnoredKeys++
	r.example(key + ": " + why)
}

func (r *RefusedLedger) example(s string) {
	if len(r.Examples) < refusedExamples {
		r.Examples = append(r.Examples, s)
	}
}

// Empty reports whether nothing was left out.
func (r *RefusedLedger) Empty() bool { return r.Entries == 0 && r.IgnoredKeys == 0 }
