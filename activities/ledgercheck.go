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
// simulated people only where simulated pay is allowed (the embedded stack). Several lookUps may
// run at once (ledger files are read side by side); each person is read once.
type payees struct {
	roster       workforce.Roster
	paySimulated bool
	mu           sync.Mutex
	people       map[string]workforce.Person
	refusals     map[string]string        // person → why they are not paid
	reading      map[string]chan struct{} // people being read, closed once decided
}

func newPayees(a *Activities) *payees {
	return &payees{roster: workforce.Roster{Store: a.Store}, paySimulated: a.PaySimulated,
		people: map[string]workforce.Person{}, refusals: map[string]string{}, reading: map[string]chan struct{}{}}
}

// lookUp reads the people of ids not seen yet, side by side.
func (p *payees) lookUp(ctx context.Context, ids []string) error {
	return p.lookUpWidth(ctx, ids, ioWidth)
}

// lookUpWidth reads the people of ids not seen yet, width at a time, and waits for those another
// lookUp is reading.
func (p *payees) lookUpWidth(ctx context.Context, ids []string, width int) error {
	todo, others := p.claim(ids)
	found := make([]workforce.Person, len(todo))
	missing := make([]bool, len(todo))
	err := store.Parallel(len(todo), width, func(i int) error {
		var err error
		found[i], err = p.roster.Get(ctx, todo[i])
		if errors.Is(err, store.ErrNotFound) {
			missing[i], err = true, nil
		}
		return err
	})
	p.decide(todo, found, missing, err == nil)
	if err != nil {
		return err
	}
	for _, done := range others {
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return p.undecided(ids)
}

// claim returns the ids nobody has decided or is reading, each once, now marked as being read by
// the caller, and the signals of those another lookUp is reading.
func (p *payees) claim(ids []string) (todo []string, others []chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		_, known := p.people[id]
		_, refused := p.refusals[id]
		done, reading := p.reading[id]
		switch {
		case known || refused:
		case reading:
			others = append(others, done)
		default:
			p.reading[id] = make(chan struct{})
			todo = append(todo, id)
		}
	}
	return todo, others
}

// decide records what was read of todo (when ok) and releases those waiting for them.
func (p *payees) decide(todo []string, found []workforce.Person, missing []bool, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, id := range todo {
		switch {
		case !ok:
		case missing[i] || found[i].ID != id:
			p.refusals[id] = fmt.Sprintf("worker %q is not in the roster", id)
		case found[i].Simulated && !p.paySimulated:
			p.refusals[id] = fmt.Sprintf("worker %q is a simulated person, paid only on the embedded stack", id)
		default:
			p.people[id] = found[i]
		}
		close(p.reading[id])
		delete(p.reading, id)
	}
}

// undecided is an error when a person of ids could not be read (by a lookUp that failed).
func (p *payees) undecided(ids []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		_, known := p.people[id]
		_, refused := p.refusals[id]
		if !known && !refused {
			return fmt.Errorf("roster: %s could not be read", id)
		}
	}
	return nil
}

// refusal is why payroll may not pay id, or "" (after lookUp).
func (p *payees) refusal(id string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusals[id]
}
