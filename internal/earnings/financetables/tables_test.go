package financetables

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

const month = "2026-05"

// today is when the tests import rates.
var today = time.Date(2026, 6, 3, 10, 0, 0, 0, time.UTC)

// The figures are test fixtures, not any country's law or any bank's rate.
const (
	wagesKE   = "country,currency,hourly_minimum,effective_from,source\nKE,KES,85.00,2026-01-01,Order A\n"
	wagesBoth = wagesKE + "NG,NGN,400.00,2026-01-01,Order B\n"
	ratesHead = "from,to,rate,source,date\n"
)

// people: amina works from Kenya and is paid in KES; grace from Nigeria, paid in USD; both
// earn in USD.
func seed(t *testing.T, ctx context.Context, st *store.Store) {
	t.Helper()
	people := []workforce.Person{
		{ID: "amina", Name: "Amina", Country: "KE", Role: "annotator", PayoutMethod: "mobile-money"},
		{ID: "grace", Name: "Grace", Country: "NG", Role: "annotator", PayoutMethod: "bank-transfer", PayoutCurrency: "USD"},
		{ID: "fin", Name: "Finance", Country: "GH", Role: "finance", PayoutMethod: "bank-transfer"},
	}
	if err := (workforce.Roster{Store: st}).Save(ctx, people); err != nil {
		t.Fatal(err)
	}
	entries := []ledger.Entry{
		{ID: "a", Worker: "amina", Project: "p1", Chunk: 1, Role: ledger.Annotation, Amount: 4, Currency: "USD", Month: month, Seconds: 30},
		{ID: "b", Worker: "grace", Project: "p1", Chunk: 1, Role: ledger.Annotation, Amount: 4, Currency: "USD", Month: month, Seconds: 30},
		{ID: "c", Worker: "ghost", Project: "p1", Chunk: 1, Role: ledger.Annotation, Amount: 4, Currency: "USD", Month: month, Seconds: 30},
	}
	data, _ := ledger.Encode(entries)
	if err := st.Put(ctx, layout.LedgerKey(month, "p1", 1), data); err != nil {
		t.Fatal(err)
	}
}

func TestFinanceTables(t *testing.T) {
	env := devstacktest.Start(t)
	ctx, st := context.Background(), env.Store

	t.Run("a month without work needs no rates", func(t *testing.T) {
		imp, err := ImportRates(ctx, st, "2026-02", "rates.csv", []byte(ratesHead), today)
		if err != nil || len(imp.Needs.Pairs) != 0 || imp.Pairs != 0 {
			t.Fatalf("empty rates for an empty month: %+v, %v", imp, err)
		}
	})

	seed(t, ctx, st)

	t.Run("needs", func(t *testing.T) {
		wages, err := ImportWages(ctx, st, month, "wages.csv", []byte(wagesBoth))
		if err != nil || wages.Rows != 2 || wages.Countries != 2 || strings.Join(wages.Months, ",") != "2026-04,2026-05" {
			t.Fatalf("wages: %+v, %v", wages, err)
		}
		w, _ := storedWages(ctx, st)
		n, err := MonthNeeds(ctx, st, month, w)
		if err != nil {
			t.Fatal(err)
		}
		// amina: USD earned → KES; grace: the NGN minimum wage → USD; ghost is not in the roster.
		if got := fmtNeeds(n.Pairs); got != "NGN→USD (grace);USD→KES (amina)" || strings.Join(n.Unknown, ",") != "ghost" {
			t.Errorf("needs %s, unknown %v", got, n.Unknown)
		}
	})

	t.Run("rates are checked before they are written", func(t *testing.T) {
		for name, tc := range map[string]struct{ data, want string }{
			"bad file":     {ratesHead + "USD,KES,abc,CBK,2026-05-29\n", "rates.csv:2: rate"},
			"no source":    {"from,to,rate\nUSD,KES,129.35\nUSD,NGN,1550\n", "rates.csv:1: source"},
			"other month":  {ratesHead + "USD,KES,129.35,CBK,2026-04-30\nUSD,NGN,1550,CBN,2026-05-29\n", "rates.csv:2: date: 2026-04-30 is before 2026-05"},
			"missing pair": {ratesHead + "USD,KES,129.35,CBK,2026-05-29\n", "NGN→USD (grace)"},
		} {
			_, err := ImportRates(ctx, st, month, "rates.csv", []byte(tc.data), today)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %v, want %q", name, err, tc.want)
			}
			if ok, _ := st.Exists(ctx, layout.RatesKey(month)); ok {
				t.Fatalf("%s: refused rates were written", name)
			}
		}
		var unc *UncoveredError
		if _, err := ImportRates(ctx, st, month, "rates.csv", []byte(ratesHead+"USD,KES,129.35,CBK,2026-05-29\n"), today); !errors.As(err, &unc) || len(unc.Missing) != 1 {
			t.Errorf("missing pair: %v", err)
		}
		good := ratesHead + "USD,KES,129.35,CBK,2026-05-29\nUSD,NGN,1550,CBN,2026-05-29\n"
		imp, err := ImportRates(ctx, st, month, "rates.csv", []byte(good), today)
		if err != nil || imp.Pairs != 2 || imp.Replaced || imp.PayrollRan {
			t.Fatalf("good rates: %+v, %v", imp, err)
		}
		if got, _ := st.Get(ctx, layout.RatesKey(month)); string(got) != good {
			t.Errorf("stored %q", got)
		}
		if imp, err = ImportRates(ctx, st, month, "rates.csv", []byte(good), today); err != nil || !imp.Replaced {
			t.Errorf("again: %+v, %v", imp, err)
		}
	})

	t.Run("a minimum wage table is checked against the people and the rates", func(t *testing.T) {
		_, err := ImportWages(ctx, st, month, "wages.csv", []byte(wagesKE))
		if err == nil || !strings.Contains(err.Error(), "no minimum wage for NG in 2026-05") || !strings.Contains(err.Error(), "grace") {
			t.Errorf("a table without Nigeria: %v", err)
		}
		// Nigeria's minimum in GHS: the month's rates have no GHS→USD.
		_, err = ImportWages(ctx, st, month, "wages.csv", []byte(wagesKE+"NG,GHS,3.00,2026-01-01,Order C\n"))
		if err == nil || !strings.Contains(err.Error(), "cannot convert the minimum wage of NG (GHS) into USD") {
			t.Errorf("an unconvertible minimum wage: %v", err)
		}
		if _, err := ImportWages(ctx, st, month, "wages.csv", []byte("country,currency\n")); err == nil || !strings.Contains(err.Error(), "wages.csv:1") {
			t.Errorf("a bad file: %v", err)
		}
		if got, _ := st.Get(ctx, layout.WageTableKey); string(got) != wagesBoth {
			t.Errorf("a refused table replaced the stored one: %q", got)
		}
	})

	t.Run("overview", func(t *testing.T) {
		o, err := Tables(ctx, st, "2026-06")
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Wages) != 2 || len(o.Rates) != 2 || o.Rates[0].Month != "2026-02" || o.Rates[1].Month != month ||
			len(o.Rates[1].Pairs) != 2 || o.Rates[1].Pairs[0].Source != "CBK" || o.Needs == nil || len(o.Missing) != 0 {
			t.Errorf("overview %+v", o)
		}
		if o, err = Tables(ctx, st, month); err != nil || len(o.Missing) != 0 || len(o.Needs.Pairs) != 2 {
			t.Errorf("overview of %s: %+v, %v", month, o, err)
		}
	})

	t.Run("rates of a paid month stay", func(t *testing.T) {
		if err := st.Put(ctx, layout.PaidKey(month, "amina"), []byte("{}")); err != nil {
			t.Fatal(err)
		}
		_, err := ImportRates(ctx, st, month, "rates.csv", []byte(ratesHead+"USD,KES,130,CBK,2026-05-29\nUSD,NGN,1550,CBN,2026-05-29\n"), today)
		if err == nil || !strings.Contains(err.Error(), "paid people already") {
			t.Errorf("new rates for a paid month: %v", err)
		}
	})
}

func fmtNeeds(ns []Need) string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.String()
	}
	return strings.Join(out, ";")
}
