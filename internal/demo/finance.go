package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/labelflow/labelflow/internal/earnings/financetables"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/store"
)

// DemoMinimumWages is the demo's minimum wage table: hourly minimums in local currency. The
// figures are illustrative, not legal references.
const DemoMinimumWages = `country,currency,hourly_minimum,effective_from,source
KE,KES,85.00,2026-01-01,demo figure (illustrative)
UG,UGX,1100,2026-01-01,demo figure (illustrative)
RW,RWF,400,2026-01-01,demo figure (illustrative)
NG,NGN,400.00,2026-01-01,demo figure (illustrative)
GH,GHS,2.50,2026-01-01,demo figure (illustrative)
ET,ETB,30.00,2026-01-01,demo figure (illustrative)
`

// demoRates are the demo's exchange rates from the projects' currencies: from, to, rate. The
// figures are illustrative, not any bank's.
var demoRates = [][3]string{
	{"USD", "KES", "129.35"}, {"USD", "UGX", "3700"}, {"USD", "RWF", "1400"}, {"USD", "NGN", "1550.00"},
	{"USD", "GHS", "15.20"}, {"USD", "ETB", "125.00"}, {"KES", "UGX", "28.60"},
}

// DemoRates is the demo's rates file as finance would write it, each rate taken on day.
func DemoRates(day time.Time) string {
	var b strings.Builder
	b.WriteString("from,to,rate,source,date\n")
	for _, r := range demoRates {
		fmt.Fprintf(&b, "%s,%s,%s,demo figure (illustrative),%s\n", r[0], r[1], r[2], day.Format(time.DateOnly))
	}
	return b.String()
}

// SeedFinanceTables stores the demo's minimum wage table and the month's rates unless they are
// already there, as they are and unchecked, for tests and benchmarks that make up their own
// ledger (ImportFinanceTables imports them as finance does).
func SeedFinanceTables(ctx context.Context, s *store.Store, month string) error {
	first, err := time.Parse("2006-01", month)
	if err != nil {
		return fmt.Errorf("month %q is not YYYY-MM", month)
	}
	for key, body := range map[string]string{layout.WageTableKey: DemoMinimumWages, layout.RatesKey(month): DemoRates(first)} {
		ok, err := s.Exists(ctx, key)
		if err != nil {
			return err
		}
		if !ok {
			if err := s.Put(ctx, key, []byte(body)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ImportFinanceTables imports the demo's minimum wage table and month's rates, taken today, the
// way `labelflow finance minimum-wage import` and `finance rates import` do: each checked against
// the month's ledger and the roster before it is stored.
func ImportFinanceTables(ctx context.Context, s *store.Store, month string, today time.Time) error {
	if _, err := financetables.ImportWages(ctx, s, month, "demo minimum wages", []byte(DemoMinimumWages)); err != nil {
		return err
	}
	_, err := financetables.ImportRates(ctx, s, month, "demo rates", []byte(DemoRates(today)), today)
	return err
}
