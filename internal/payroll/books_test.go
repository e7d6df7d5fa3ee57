package payroll

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
)

func entry(id, worker, project, role, month string, amount int64) ledger.Entry {
	return ledger.Entry{ID: id, Worker: worker, Project: project, Role: role, Amount: amount, Currency: "KES", Month: month, Seconds: 30}
}

// The books add paid entries into one line per person, project, kind, currency and adjustment,
// keep rejected entries apart with their reason, and sum both into the summary.
func TestBooksSumStatementsAndSetAsideRejectedWork(t *testing.T) {
	b := NewBooks("2026-11")
	own := layout.LedgerKey("2026-11", "p1", 0)
	late := layout.LedgerKey("2026-10", "p1", 4)
	back := layout.RejectedKey("2026-09", "r0")
	b.Pay(own, entry("e1", "ann-b", "p1", ledger.Annotation, "2026-11", 350))
	b.Pay(own, entry("e2", "ann-b", "p1", ledger.Annotation, "2026-11", 350))
	b.Pay(late, entry("e3", "ann-b", "p1", ledger.Annotation, "2026-10", 350))
	b.Pay(back, entry("e4", "ann-b", "p1", ledger.Annotation, "2026-09", 350))
	b.Pay(own, entry("e5", "ann-a", "p1", ledger.Arbitration, "2026-11", 1000))
	r := Rejection{ID: "r1", Project: "p1", Person: "spam", Reason: "copied answers"}
	b.SetAside(own, entry("e7", "spam", "p1", ledger.Annotation, "2026-11", 350), r)
	b.SetAside(own, entry("e6", "spam", "p1", ledger.Annotation, "2026-11", 350), r)

	workers, st := b.Statements()
	if strings.Join(workers, ",") != "ann-a,ann-b,spam" {
		t.Fatalf("workers = %v", workers)
	}
	lines := st["ann-b"].Lines
	if len(lines) != 3 || lines[0].Adjustment != "" || lines[0].Count != 2 || lines[0].Seconds != 60 ||
		lines[1].Adjustment != AdjustmentLate || lines[1].WorkMonth != "2026-10" || lines[2].Adjustment != AdjustmentReversal {
		t.Fatalf("ann-b's lines = %+v", lines)
	}
	if st["ann-b"].Totals["KES"] != 1400 || st["ann-b"].Entries != 4 {
		t.Fatalf("ann-b's statement = %+v", st["ann-b"])
	}
	spam := st["spam"]
	if len(spam.Lines) != 0 || len(spam.Rejected) != 1 || spam.Rejected[0].Count != 2 || spam.Rejected[0].Reason != "copied answers" || spam.Totals["KES"] != 0 {
		t.Fatalf("spam's statement = %+v", spam)
	}
	sum := b.Summary()
	if sum.Totals["KES"] != 2400 || sum.Entries != 5 || sum.Rejected["KES"] != 700 ||
		sum.Adjustments[AdjustmentLate]["KES"] != 350 || sum.Adjustments[AdjustmentReversal]["KES"] != 350 ||
		sum.SummaryKey != layout.PayrollSummaryKey("2026-11") {
		t.Fatalf("summary = %+v", sum)
	}
	set := b.SetAsideEntries()["r1"]
	if len(set) != 2 || set[0].ID != "e6" || set[1].ID != "e7" {
		t.Fatalf("set aside = %+v, want e6 then e7", set)
	}
	if files := b.SetAsideFiles(); len(files["r1"]) != 1 || files["r1"][0] != own {
		t.Fatalf("set-aside files = %v", files)
	}
}

// A month without a statement still lists its people as [], the shape summaries always had.
func TestEmptyBooksListNoPeople(t *testing.T) {
	b := NewBooks("2026-11")
	workers, _ := b.Statements()
	b.Summary().Workers = workers
	data, _ := json.Marshal(b.Summary())
	if !strings.Contains(string(data), `"workers":[]`) {
		t.Fatalf("summary = %s", data)
	}
}

func TestRejectionCoversOnlyItsPersonProjectAndChunks(t *testing.T) {
	r := Rejection{ID: "r1", Project: "p1", Person: "spam", Chunks: []int{2}}
	e := ledger.Entry{Worker: "spam", Project: "p1", Chunk: 2}
	if !r.Covers(e) {
		t.Fatal("the rejection does not cover its own chunk")
	}
	for _, other := range []ledger.Entry{{Worker: "ann-a", Project: "p1", Chunk: 2}, {Worker: "spam", Project: "p2", Chunk: 2}, {Worker: "spam", Project: "p1", Chunk: 3}} {
		if r.Covers(other) {
			t.Errorf("the rejection covers %+v", other)
		}
	}
	r.Chunks = nil
	if !r.Covers(ledger.Entry{Worker: "spam", Project: "p1", Chunk: 9}) {
		t.Fatal("a rejection without chunks does not cover the whole project")
	}
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	early, late, sameTime := Rejection{ID: "b", At: at}, Rejection{ID: "a", At: at.Add(time.Second)}, Rejection{ID: "a", At: at}
	if !early.Before(late) || late.Before(early) || !sameTime.Before(early) {
		t.Fatal("rejections are not ordered by time, then id")
	}
}

func TestStatementCSVListsTopUpAndRejectedWork(t *testing.T) {
	st := &Statement{Worker: "ann-a", Month: "2026-11",
		Rejected: []RejectedLine{{Project: "p1", Role: ledger.Annotation, Currency: "KES", Count: 2, Amount: 700, Rejection: "r1", Reason: "spam"}},
		Pay: earnings.Statement{PayoutCurrency: "KES", Seconds: 7200, Floor: earnings.FloorCheck{TopUp: 1234},
			Lines: []earnings.StatementLine{{Line: earnings.Line{Project: "p1", Kind: ledger.Annotation, Currency: "KES", Count: 3, Amount: 1050, Seconds: 5400},
				Rate: "1", AmountPayout: 1050}}}}
	got := strings.Split(strings.TrimSpace(string(StatementCSV(st))), "\n")
	want := []string{
		"month,person,project,kind,count,hours,currency,amount,rate,payout_currency,amount_paid,adjustment,work_month,note",
		"2026-11,ann-a,p1,annotation,3,1.50,KES,10.50,1,KES,10.50,,,",
		"2026-11,ann-a,,floor-top-up,,2.00,,,,KES,12.34,,,",
		"2026-11,ann-a,p1,annotation,2,,KES,7.00,,KES,0,rejected,,r1: spam",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("statement CSV:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAdjustmentOfNamesLateAndPaidBackWork(t *testing.T) {
	e := ledger.Entry{Month: "2026-10"}
	for _, c := range []struct {
		key, month, want string
	}{
		{layout.LedgerKey("2026-10", "p1", 0), "2026-10", ""},
		{layout.LedgerKey("2026-10", "p1", 0), "2026-11", AdjustmentLate},
		{layout.RejectedKey("2026-10", "r1"), "2026-11", AdjustmentReversal},
		{layout.RejectedKey("2026-10", "r1"), "2026-10", AdjustmentReversal},
	} {
		if got := AdjustmentOf(c.key, e, c.month); got != c.want {
			t.Errorf("AdjustmentOf(%s) in %s = %q, want %q", c.key, c.month, got, c.want)
		}
	}
}
