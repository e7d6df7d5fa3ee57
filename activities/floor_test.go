package activities

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/workforce"
)

// A month nobody is paid for needs no finance tables, and a month paid in the currencies it was
// earned in needs no rates; a conversion without the month's rates file names the file.
func TestPayrollNeedsOnlyTheTablesItUses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if empty, err := f.acts.AggregatePayroll(ctx, "2026-09"); err != nil || empty.People != 0 || empty.Entries != 0 {
		t.Fatalf("a month without work: %+v, %v", empty, err)
	}

	f.env.Store.Put(ctx, layout.WageTableKey, []byte("country,currency,hourly_minimum,effective_from,source\nKE,KES,85.00,2026-01-01,test\n"))
	var people []workforce.Person
	for _, id := range []string{"ann-a", "ann-b", "rev"} {
		people = append(people, workforce.Person{ID: id, Name: id, Country: "KE", Role: "annotator", PayoutMethod: "mobile-money"})
	}
	if err := (workforce.Roster{Store: f.env.Store}).Save(ctx, people); err != nil {
		t.Fatal(err)
	}
	// The fixture's project pays in KES, and its people are paid in KES.
	if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: settled(time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))}); err != nil {
		t.Fatal(err)
	}
	if sum, err := f.acts.AggregatePayroll(ctx, "2026-11"); err != nil || sum.People != 3 || sum.PayTotals["KES"] != 2400 {
		t.Fatalf("KES work paid in KES without a rates file: %+v, %v", sum, err)
	}

	// Work in USD, paid in KES, in a month without rates.
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	data, _ := ledger.Encode([]ledger.Entry{{ID: ledger.EntryID("p2", 0, "i1", ledger.Annotation, "ann-a"), Worker: "ann-a", Project: "p2", Chunk: 0,
		Item: "i1", Role: ledger.Annotation, Amount: 4, Currency: "USD", Month: "2026-12", AcceptedAt: at, Seconds: 20}})
	if err := f.env.Store.Put(ctx, layout.LedgerKey("2026-12", "p2", 0), data); err != nil {
		t.Fatal(err)
	}
	_, err := f.acts.AggregatePayroll(ctx, "2026-12")
	for _, want := range []string{"no exchange rate USD→KES", layout.RatesKey("2026-12"), "labelflow finance rates import"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("USD work paid in KES without rates: %v, want it to say %q", err, want)
		}
	}
}
