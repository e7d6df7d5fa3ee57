package payroll

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/store"
)

func put(t *testing.T, s *store.Store, key string, entries ...ledger.Entry) {
	t.Helper()
	data, err := ledger.Encode(entries)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), key, data); err != nil {
		t.Fatal(err)
	}
}

func putJSON(t *testing.T, s *store.Store, key string, v any) {
	t.Helper()
	if err := s.PutJSON(context.Background(), key, v); err != nil {
		t.Fatal(err)
	}
}

// A person's statement items are the entries behind their statement, read from the files the
// month took: each entry once (a rejected entry as rejected, with its reason), late work and
// work paid back as adjustments, nothing of other people or of projects not on the statement.
func TestStatementItemsTraceTheStatement(t *testing.T) {
	s := devstacktest.Start(t).Store
	ctx := context.Background()
	own, late, other := layout.LedgerKey("2026-11", "p1", 0), layout.LedgerKey("2026-10", "p1", 5), layout.LedgerKey("2026-11", "p2", 0)
	back, setAside := layout.RejectedKey("2026-10", "r0"), layout.RejectedKey("2026-11", "r1")
	put(t, s, own, entry("p1/0/a", "ann-a", "p1", ledger.Annotation, "2026-11", 350), entry("p1/0/b", "ann-b", "p1", ledger.Annotation, "2026-11", 350),
		entry("p1/0/c", "ann-a", "p1", ledger.Annotation, "2026-11", 350))
	put(t, s, late, entry("p1/5/a", "ann-a", "p1", ledger.Annotation, "2026-10", 350))
	put(t, s, other, entry("p2/0/a", "ann-a", "p2", ledger.Annotation, "2026-11", 350))
	put(t, s, back, entry("p1/3/a", "ann-a", "p1", ledger.Annotation, "2026-09", 350))
	put(t, s, setAside, entry("p1/0/c", "ann-a", "p1", ledger.Annotation, "2026-11", 350))
	putJSON(t, s, layout.ClosureKey("2026-11"), Closure{Month: "2026-11", LedgerKeys: []string{late, own, other}, ReversalKeys: []string{back},
		Rejections: []string{"r1"}})
	putJSON(t, s, layout.StatementKey("2026-11", "ann-a"), Statement{Worker: "ann-a", Month: "2026-11", Totals: map[string]int64{"KES": 1050},
		Lines:    []StatementLine{{Project: "p1", Role: ledger.Annotation, Currency: "KES", Count: 3, Amount: 1050}},
		Rejected: []RejectedLine{{Project: "p1", Role: ledger.Annotation, Currency: "KES", Count: 1, Amount: 350, Rejection: "r1", Reason: "copied"}}})

	items, err := StatementItems(ctx, s, "2026-11", "ann-a")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.ID+":"+it.Adjustment+":"+it.Rejection+":"+it.Reason)
	}
	want := "p1/0/a:::,p1/0/c::r1:copied,p1/3/a:reversal::,p1/5/a:late::"
	if strings.Join(got, ",") != want {
		t.Fatalf("items = %s, want %s", strings.Join(got, ","), want)
	}
	if _, err := StatementItems(ctx, s, "2026-11", "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("items of a person without a statement: %v", err)
	}

	// A month paid before closures existed took its own ledger files.
	putJSON(t, s, layout.StatementKey("2026-08", "ann-a"), Statement{Worker: "ann-a", Month: "2026-08", Totals: map[string]int64{"KES": 350},
		Lines: []StatementLine{{Project: "p1", Role: ledger.Annotation, Currency: "KES", Count: 1, Amount: 350}}})
	put(t, s, layout.LedgerKey("2026-08", "p1", 0), entry("p1/0/old", "ann-a", "p1", ledger.Annotation, "2026-08", 350))
	if items, err := StatementItems(ctx, s, "2026-08", "ann-a"); err != nil || len(items) != 1 || items[0].ID != "p1/0/old" {
		t.Fatalf("items of a month without a closure = %+v, %v", items, err)
	}

	// The months with a statement are those a payroll closed, newest first.
	putJSON(t, s, layout.ClosureKey("2026-09"), Closure{Month: "2026-09"})
	putJSON(t, s, layout.StatementKey("2026-09", "ann-a"), Statement{Worker: "ann-a", Month: "2026-09", Totals: map[string]int64{"KES": 700}})
	months, err := StatementMonths(ctx, s, "ann-a")
	if err != nil || len(months) != 2 || months[0].Month != "2026-11" || months[1].Month != "2026-09" || months[1].Totals["KES"] != 700 {
		t.Fatalf("statement months = %+v, %v", months, err)
	}
	if months, err := StatementMonths(ctx, s, "ann-b"); err != nil || len(months) != 0 {
		t.Fatalf("months of a person without statements = %+v, %v", months, err)
	}
}
