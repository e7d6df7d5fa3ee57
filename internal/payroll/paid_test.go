package payroll

import (
	"context"
	"testing"

	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/payout"
)

// What a month paid is read from records of its own, batches and pending payouts together: the
// most paid wins, a payout stays pending until its person's record moves on, and settled pending
// objects go.
func TestPaidBookMergesRecordsAndKeepsOnlyLivePendingPayouts(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	const month = "2026-08"
	ask := func(person string, after, amount int64) payout.Payout {
		return payout.Payout{IdempotencyKey: PayoutKey(month, person, "KES", after, 0), Worker: person, Month: month, Currency: "KES", Amount: amount}
	}
	// ann has a record of her own, written before batches, with a payout pending.
	annPending := ask("ann", 100, 50)
	if err := env.Store.PutJSON(ctx, layout.PaidKey(month, "ann"), PaidRecord{Worker: "ann", Month: month, Paid: map[string]int64{"KES": 100}, Pending: &annPending}); err != nil {
		t.Fatal(err)
	}
	// bob was paid 200 by a batch; an older batch says 80. Both his payouts were asked.
	if err := WritePaid(ctx, env.Store, month, []PaidRecord{{Worker: "bob", Month: month, Paid: map[string]int64{"KES": 200}}}); err != nil {
		t.Fatal(err)
	}
	if err := WritePaid(ctx, env.Store, month, []PaidRecord{{Worker: "bob", Month: month, Paid: map[string]int64{"KES": 80}}}); err != nil {
		t.Fatal(err)
	}
	pending, err := WritePending(ctx, env.Store, month, []payout.Payout{ask("bob", 80, 120), ask("cy", 0, 30)})
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending %v, %v", pending, err)
	}

	book, err := ReadPaid(ctx, env.Store, month)
	if err != nil {
		t.Fatal(err)
	}
	ann, bob, cy := book.Record("ann"), book.Record("bob"), book.Record("cy")
	switch {
	case ann.Paid["KES"] != 100 || ann.Pending == nil || *ann.Pending != annPending || !book.Own["ann"]:
		t.Errorf("ann = %+v, own %v", ann, book.Own["ann"])
	case bob.Paid["KES"] != 200 || bob.Pending != nil || book.Own["bob"]:
		t.Errorf("bob = %+v: his pending payout was settled by the batch that paid him", bob)
	case cy.Paid["KES"] != 0 || cy.Pending == nil || cy.Pending.Amount != 30:
		t.Errorf("cy = %+v: her payout is still pending", cy)
	case len(book.PendingKeys) != 1 || book.PendingKeys[0] != pending[0]:
		t.Errorf("pending keys %v, want %v", book.PendingKeys, pending)
	}

	if keys := book.PendingSettledBy([]string{"cy"}); len(keys) != 0 {
		t.Errorf("a run of cy alone may delete %v, which holds bob's payout too", keys)
	}
	// cy's payout is recorded: it is pending no more, and the pending object can go.
	if err := WritePaid(ctx, env.Store, month, []PaidRecord{{Worker: "cy", Month: month, Paid: map[string]int64{"KES": 30}}}); err != nil {
		t.Fatal(err)
	}
	if err := SettlePending(ctx, env.Store, book.PendingSettledBy([]string{"bob", "cy"})); err != nil {
		t.Fatal(err)
	}
	book, err = ReadPaid(ctx, env.Store, month)
	if err != nil {
		t.Fatal(err)
	}
	if cy := book.Record("cy"); cy.Paid["KES"] != 30 || cy.Pending != nil || len(book.PendingKeys) != 0 {
		t.Fatalf("cy = %+v, pending keys %v", cy, book.PendingKeys)
	}
	if nobody := book.Record("dee"); nobody.PaidAnything() || nobody.Worker != "dee" {
		t.Fatalf("a person with nothing recorded: %+v", nobody)
	}
}
