package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// Payroll pays only what LabelFlow itself recorded: entries read from ledger files under their
// exact keys (ParseLedgerKey), that belong to the file they are in, for people of the roster whom
// payroll may pay. Anything else is left out of the statements and reported in the finance
// summary, never silently added.

// RefusedLedger reports what a payroll run would not pay: ledger entries that do not belong to
// the file they were read from or whose worker payroll may not pay, and objects under ledger/
// that are not ledger files.
type RefusedLedger struct {
	Entries     int              `json:"entries"`
	Amounts     map[string]int64 `json:"amounts"` // currency → minor units, as the entries have them
	IgnoredKeys int              `json:"ignored_keys"`
	// Examples are the first few, each naming its key (and line) and why.
	Examples []string `json:"examples"`
}

// refusedExamples keeps the summary small enough for history whatever was planted.
const refusedExamples = 10

func (r *RefusedLedger) entry(key string, line int, e LedgerEntry, why string) {
	r.Entries++
	if r.Amounts == nil {
		r.Amounts = map[string]int64{}
	}
	r.Amounts[e.Currency] += e.Amount
	r.example(fmt.Sprintf("%s line %d: %s", key, line, why))
}

func (r *RefusedLedger) ignore(key, why string) {
	r.IgnoredKeys++
	r.example(key + ": " + why)
}

func (r *RefusedLedger) example(s string) {
	if len(r.Examples) < refusedExamples {
		r.Examples = append(r.Examples, s)
	}
}

func (r *RefusedLedger) empty() bool { return r.Entries == 0 && r.IgnoredKeys == 0 }

// notLedgerFile is why payroll ignores an object under ledger/ that ParseLedgerKey refuses.
const notLedgerFile = "not a ledger file LabelFlow writes (ledger/<YYYY-MM>/<project>/chunk-NNNNNN.jsonl or bonus.jsonl)"

// mismatch says how an entry differs from the file it was read from; "" when it belongs there.
func (f LedgerFile) mismatch(e LedgerEntry) string {
	switch {
	case e.Project != f.Project:
		return fmt.Sprintf("an entry of project %q in a file of project %s", e.Project, f.Project)
	case e.Month != f.Month:
		return fmt.Sprintf("an entry of month %q in a file of %s", e.Month, f.Month)
	case f.Bonus && e.Role != LedgerBonus:
		return fmt.Sprintf("a %q entry in a bonus file", e.Role)
	case !f.Bonus && e.Role == LedgerBonus:
		return "a bonus entry in a chunk file"
	case !f.Bonus && e.Chunk != f.Chunk:
		return fmt.Sprintf("an entry of chunk %d in the file of chunk %d", e.Chunk, f.Chunk)
	}
	return ""
}

// payees decides, once per person, whether payroll may pay them: people of the roster, and
// simulated people only where simulated pay is allowed (the embedded stack).
type payees struct {
	roster       workforce.Roster
	paySimulated bool
	people       map[string]workforce.Person
	refusals     map[string]string // person → why they are not paid
}

func newPayees(a *Activities) *payees {
	return &payees{roster: workforce.Roster{Store: a.Store}, paySimulated: a.PaySimulated,
		people: map[string]workforce.Person{}, refusals: map[string]string{}}
}

// lookUp reads the people of ids not seen yet, side by side.
func (p *payees) lookUp(ctx context.Context, ids []string) error {
	var todo []string
	queued := map[string]bool{}
	for _, id := range ids {
		_, known := p.people[id]
		_, refused := p.refusals[id]
		if !known && !refused && !queued[id] {
			queued[id] = true
			todo = append(todo, id)
		}
	}
	found := make([]workforce.Person, len(todo))
	missing := make([]bool, len(todo))
	if err := store.Parallel(len(todo), ioWidth, func(i int) error {
		var err error
		found[i], err = p.roster.Get(ctx, todo[i])
		if errors.Is(err, store.ErrNotFound) {
			missing[i], err = true, nil
		}
		return err
	}); err != nil {
		return err
	}
	for i, id := range todo {
		switch {
		case missing[i] || found[i].ID != id:
			p.refusals[id] = fmt.Sprintf("worker %q is not in the roster", id)
		case found[i].Simulated && !p.paySimulated:
			p.refusals[id] = fmt.Sprintf("worker %q is a simulated person, paid only on the embedded stack", id)
		default:
			p.people[id] = found[i]
		}
	}
	return nil
}

// refusal is why payroll may not pay id, or "" (after lookUp).
func (p *payees) refusal(id string) string { return p.refusals[id] }
