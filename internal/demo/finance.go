package demo

import (
	"context"

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

// DemoRates are the demo month's exchange rates from the projects' currencies.
const DemoRates = `from,to,rate
USD,KES,129.35
USD,UGX,3700
USD,RWF,1400
USD,NGN,1550.00
USD,GHS,15.20
USD,ETB,125.00
KES,UGX,28.60
`

// SeedFinanceTables uploads the demo's minimum wage table and the month's rates, as finance
// would, unless they are already there.
func SeedFinanceTables(ctx context.Context, s *store.Store, month string) error {
	for key, body := range map[string]string{layout.WageTableKey: DemoMinimumWages, layout.RatesKey(month): DemoRates} {
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
