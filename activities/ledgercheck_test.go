package activities

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/workforce"
)

// putLedger writes entries as a JSON Lines object at key.
func putLedger(t *testing.T, f *fixture, key string, entries ...ledger.Entry) {
	t.Helper()
	var b []byte
	for _, e := range entries {
		line, _ := json.Marshal(e)
		b = append(append(b, line...), '\n')
	}
	if err := f.env.Store.Put(context.Background(), key, b); err != nil {
		t.Fatal(err)
	}
}

// Payroll pays what the ledger recorded and nothing that merely sits under ledger/: not a stray
// object, not an entry in a file it does not belong to, not an entry for someone outside the
// roster. What it leaves out, it reports.
func TestPayrollPaysOnlyLedgerEntriesOfRosterPeople(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.acts.Clock = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	f.financeTables(t, []string{"2026-11"}, "ann-a", "ann-b", "rev")
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	f.recordChunk0(t, at) // ann-a 7.00, ann-b 7.00, rev 10.00 KES

	planted := ledger.Entry{ID: "x", Worker: "ann-a", Project: "x", Chunk: 0, Item: "x", Role: ledger.Annotation,
		Amount: 1_000_000, Currency: "KES", Month: "2026-11", AcceptedAt: at}
	putLedger(t, f, "ledger/2026-11/x/evil.jsonl", planted)
	putLedger(t, f, "ledger/2026-11/p1/labels/chunk-000000.jsonl", planted)
	good := ledger.Entry{ID: "p1/000007/i7/annotation/ann-b", Worker: "ann-b", Project: "p1", Chunk: 7, Item: "i7", Role: ledger.Annotation,
		Amount: 350, Currency: "KES", Month: "2026-11", AcceptedAt: at, Seconds: 20}
	stranger, otherProject, otherChunk, otherMonth, bonus := good, good, good, good, good
	stranger.Worker = "mallory"
	otherProject.Project = "p2"
	otherChunk.Chunk = 8
	otherMonth.Month = "2026-10"
	bonus.Role = ledger.Bonus
	badID := good
	badID.Worker = "../tokens/abc"
	putLedger(t, f, layout.LedgerKey("2026-11", "p1", 7), good, stranger, otherProject, otherChunk, otherMonth, bonus, badID)

	sum := f.aggregate(t, "2026-11")
	if sum.Totals["KES"] != 700+700+1000+350 || sum.Entries != 6 || sum.People != 3 {
		t.Fatalf("summary = %+v, want the recorded chunk and the one good entry", sum)
	}
	r := sum.Refused
	if r == nil || r.Entries != 6 || r.IgnoredKeys != 2 || r.Amounts["KES"] != 6*350 {
		t.Fatalf("refused = %+v, want 6 entries and 2 objects", r)
	}
	examples := strings.Join(r.Examples, "\n")
	for _, want := range []string{
		"ledger/2026-11/x/evil.jsonl: not a ledger file", "ledger/2026-11/p1/labels/chunk-000000.jsonl: not a ledger file",
		layout.LedgerKey("2026-11", "p1", 7) + ` line 2: worker "mallory" is not in the roster`,
		`line 3: an entry of project "p2"`, "line 4: an entry of chunk 8 in the file of chunk 7", `line 5: an entry of month "2026-10"`,
		"line 6: a bonus entry in a chunk file", `line 7: worker "../tokens/abc" is not in the roster`,
	} {
		if !strings.Contains(examples, want) {
			t.Errorf("the report lacks %q:\n%s", want, examples)
		}
	}
	var closure payroll.Closure
	if err := f.env.Store.GetJSON(ctx, layout.ClosureKey("2026-11"), &closure); err != nil {
		t.Fatal(err)
	}
	for _, k := range closure.LedgerKeys {
		if _, ok := layout.ParseLedgerKey(k); !ok {
			t.Errorf("the month took %s", k)
		}
	}
	res, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Payouts != 3 || res.Paid["KES"] != 700+1050+1000 || len(res.Refused) != 0 {
		t.Fatalf("payouts = %+v", res)
	}
}

// A simulated person is paid on the embedded stack (the demo's payroll) and never on a production
// stack, whether payroll meets them in the ledger or in a summary written before.
func TestSimulatedPeopleArePaidOnlyOnTheEmbeddedStack(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.acts.Clock = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	f.financeTables(t, []string{"2026-11"}, "ann-a")
	sim := workforce.Person{ID: "sim-p1-a-01", Name: "Simulated annotator 1", Country: "KE", Role: "annotator", PayoutMethod: "mobile-money", Simulated: true}
	if err := (workforce.Roster{Store: f.env.Store}).Save(ctx, []workforce.Person{sim}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 1, Results: []ItemResult{
		{Item: 0, Final: label.Answer(`"cat"`), Method: "agreed", Annotations: []Contribution{
			{Worker: "ann-a", Answer: label.Answer(`"cat"`), SubmittedAt: at, Seconds: 20},
			{Worker: sim.ID, Answer: label.Answer(`"cat"`), SubmittedAt: at, Seconds: 20}}},
	}}); err != nil {
		t.Fatal(err)
	}

	// Production: the simulated person's work is left out and reported.
	f.acts.PaySimulated = false
	sum := f.aggregate(t, "2026-11")
	if sum.People != 1 || sum.Workers[0] != "ann-a" || sum.Totals["KES"] != 350 || sum.Refused == nil || sum.Refused.Entries != 1 ||
		!strings.Contains(sum.Refused.Examples[0], "simulated person") {
		t.Fatalf("production summary = %+v, refused %+v", sum, sum.Refused)
	}
	if ok, _ := f.env.Store.Exists(ctx, layout.StatementKey("2026-11", sim.ID)); ok {
		t.Fatal("a statement was written for the simulated person")
	}

	// Embedded stack: the demo's crowd is paid.
	f.acts.PaySimulated = true
	sum = f.aggregate(t, "2026-11")
	if sum.People != 2 || sum.Totals["KES"] != 700 || sum.Refused != nil {
		t.Fatalf("embedded summary = %+v", sum)
	}

	// A summary that names the simulated person is still not paid out on production.
	f.acts.PaySimulated = false
	res, err := f.acts.PayPayroll(ctx, PayPayrollInput{Month: "2026-11", Approver: "fin"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Payouts != 1 || res.Paid["KES"] != 350 || len(res.Refused) != 1 || !strings.HasPrefix(res.Refused[0], sim.ID+": ") {
		t.Fatalf("production payouts = %+v", res)
	}
	var rec payroll.PaidRecord
	if err := f.env.Store.GetJSON(ctx, layout.PaidKey("2026-11", sim.ID), &rec); err == nil && (rec.Pending != nil || rec.Paid["KES"] != 0) {
		t.Fatalf("the simulated person's payment record = %+v", rec)
	}
}
