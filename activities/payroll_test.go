package activities

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/workforce"
)

// A month keeps one statement object per person, and each run decides whom it pays from the
// roster as it is then, however the roster was read by the run before.
func TestPayrollKeepsOneStatementEachAndFollowsTheRoster(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.acts.Clock = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	f.financeTables(t, []string{"2026-11"}, "ann-a", "ann-b", "rev")
	f.recordChunk0(t, time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))

	if sum := f.aggregate(t, "2026-11"); sum.People != 3 || sum.Refused != nil {
		t.Fatalf("summary = %+v, refused %+v, want the three of the roster paid", sum, sum.Refused)
	}
	var stored []string
	prefix := layout.PayrollPrefix("2026-11") + "statements/"
	if err := f.env.Store.List(ctx, prefix, func(key string, _ int64) error {
		stored = append(stored, strings.TrimPrefix(key, prefix))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"ann-a.json", "ann-b.json", "rev.json"}; !slices.Equal(stored, want) {
		t.Fatalf("statements stored = %v, want %v", stored, want)
	}
	st, err := payroll.ReadStatement(ctx, f.env.Store, "2026-11", "ann-a")
	if err != nil || !strings.Contains(string(payroll.StatementCSV(&st)), "2026-11,ann-a,p1,annotation,") {
		t.Fatalf("ann-a's statement as CSV, rendered from the stored one: %s (%v)", payroll.StatementCSV(&st), err)
	}

	// ann-b leaves the roster and rev is to be paid in dollars: the next run pays as the roster says.
	roster := workforce.Roster{Store: f.env.Store}
	if err := roster.Remove(ctx, "ann-b"); err != nil {
		t.Fatal(err)
	}
	rev, err := roster.Get(ctx, "rev")
	if err != nil {
		t.Fatal(err)
	}
	rev.PayoutCurrency = "USD"
	if err := roster.Save(ctx, []workforce.Person{rev}); err != nil {
		t.Fatal(err)
	}
	f.env.Store.Put(ctx, layout.RatesKey("2026-11"), []byte("from,to,rate\nUSD,KES,129.35\nKES,USD,0.0077\n"))
	sum := f.aggregate(t, "2026-11")
	if sum.People != 2 || sum.Refused == nil || !strings.Contains(strings.Join(sum.Refused.Examples, "\n"), `worker "ann-b" is not in the roster`) {
		t.Fatalf("summary = %+v, refused %+v, want ann-b left out", sum, sum.Refused)
	}
	if st, err := payroll.ReadStatement(ctx, f.env.Store, "2026-11", "rev"); err != nil || st.Pay.PayoutCurrency != "USD" {
		t.Fatalf("rev's statement pays in %q (%v), want USD", st.Pay.PayoutCurrency, err)
	}
}
