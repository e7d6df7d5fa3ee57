package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// Payroll pays only what LabelFlow itself recorded: entries read from ledger files under their
// exact keys (layout.ParseLedgerKey), that belong to the file they are in (ledger.Mismatch), for
// people of the roster whom payroll may pay (payees). Anything else is left out of the statements
// and reported in the finance summary (payroll.RefusedLedger), never silently added.

// payees decides, once per person, whether payroll may pay them: people of the roster, and
// simulated people only where simulated pay is allowed (the embedded stack). A run over the month
// decides from the whole roster, read once in a request per thousand people (Roster.Everyone); a
// run for a few people (released holds) reads theirs one by one. Several lookUps may run at once.
type payees struct {
	roster       workforce.Roster
	paySimulated bool
	whole        bool
	everyone     func() (map[string]workforce.Person, error) // the whole roster, read on first use
	mu           sync.Mutex
	people       map[string]workforce.Person
	refusals     map[string]string // person → why they are not paid
}

// newPayees decides from the whole roster when whole is set, else from each person's record.
func newPayees(ctx context.Context, a *Activities, whole bool) *payees {
	p := &payees{roster: workforce.Roster{Store: a.Store}, paySimulated: a.PaySimulated, whole: whole,
		people: map[string]workforce.Person{}, refusals: map[string]string{}}
	p.everyone = sync.OnceValues(func() (map[string]workforce.Person, error) { return p.roster.Everyone(ctx) })
	return p
}

// lookUp decides each person of ids.
func (p *payees) lookUp(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if p.whole {
		everyone, err := p.everyone()
		if err != nil {
			return fmt.Errorf("roster: %w", err)
		}
		p.decide(ids, func(i int) (workforce.Person, bool) {
			person, ok := everyone[ids[i]]
			return person, ok
		})
		return nil
	}
	found := make([]workforce.Person, len(ids))
	missing := make([]bool, len(ids))
	err := store.Parallel(len(ids), ioWidth, func(i int) error {
		var err error
		found[i], err = p.roster.Get(ctx, ids[i])
		if errors.Is(err, store.ErrNotFound) {
			missing[i], err = true, nil
		}
		return err
	})
	if err != nil {
		return err
	}
	p.decide(ids, func(i int) (workforce.Person, bool) { return found[i], !missing[i] })
	return nil
}

// decide records whether payroll may pay each person of ids not decided yet; person tells what the
// roster holds for the i-th, and whether it holds anything.
func (p *payees) decide(ids []string, person func(i int) (workforce.Person, bool)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, id := range ids {
		if _, known := p.people[id]; known {
			continue
		}
		if _, refused := p.refusals[id]; refused {
			continue
		}
		found, ok := person(i)
		switch {
		case !ok || found.ID != id:
			p.refusals[id] = fmt.Sprintf("worker %q is not in the roster", id)
		case found.Simulated && !p.paySimulated:
			p.refusals[id] = fmt.Sprintf("worker %q is a simulated person, paid only on the embedded stack", id)
		default:
			p.people[id] = found
		}
	}
}

// refusal is why payroll may not pay id, or "" (after lookUp).
func (p *payees) refusal(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusals[id]
}
