package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// Payroll pays only what LabelFlow itself recorded: entries read from ledger files under their
// exact keys (layout.ParseLedgerKey), that belong to the file they are in (ledger.Mismatch), for
// people of the roster whom payroll may pay (payees). Anything else is left out of the statements
// and reported in the finance summary (payroll.RefusedLedger), never silently added.

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
	todo := p.unseen(ids)
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

// unseen are the ids not decided yet, each once.
func (p *payees) unseen(ids []string) []string {
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
	return todo
}

// refusal is why payroll may not pay id, or "" (after lookUp).
func (p *payees) refusal(id string) string { return p.refusals[id] }
