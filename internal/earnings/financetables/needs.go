// Package financetables keeps finance's tables in the platform store: the minimum wage table and
// each month's exchange rates. An import is checked before anything is written, first as a file
// (earnings.ReadWageTable, earnings.ReadRates with a source and date per rate), then against what
// payroll will ask of it: every currency pair the month converts, from the currencies its ledger
// is in to the payout currencies of the people it pays, and a minimum wage for every country
// those people work from.
package financetables

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// Need is one conversion a month's payroll makes, and the people it is made for.
type Need struct {
	From   string   `json:"from"`
	To     string   `json:"to"`
	People []string `json:"people"`
}

func (n Need) String() string {
	return fmt.Sprintf("%s→%s (%s)", n.From, n.To, firstFew(n.People))
}

// Payee is a person the month's ledger pays, as the roster has them.
type Payee struct {
	ID, Country, Currency string
	Earned                []string // the currencies of their ledger entries
}

// Needs is what a month's payroll converts, worked out from its ledger and the roster.
type Needs struct {
	Month  string  `json:"month"`
	Payees []Payee `json:"-"`
	// Pairs are the conversions, by From then To. Earned currencies are converted to payout
	// currencies; with a minimum wage table, the minimum wage of each person's country too.
	Pairs []Need `json:"pairs"`
	// Unknown are people of the ledger that the roster does not have or gives no payout
	// currency: payroll refuses them, whatever the tables say.
	Unknown []string `json:"unknown,omitempty"`
}

// ioWidth is how many store reads run side by side.
const ioWidth = 16

// MonthNeeds reads the month's ledger (the files under ledger/<month>/; work of earlier months
// paid late, which payroll finds when it runs, is not foreseen) and the roster record of everyone
// it pays, and returns the conversions the month's payroll makes. wages, when not nil, adds the
// conversion of each person's minimum wage into their payout currency.
func MonthNeeds(ctx context.Context, st *store.Store, month string, wages *earnings.WageTable) (Needs, error) {
	n := Needs{Month: month}
	if _, err := time.Parse("2006-01", month); err != nil || len(month) != 7 {
		return n, fmt.Errorf("month %q is not YYYY-MM", month)
	}
	earned, err := ledgerCurrencies(ctx, st, month)
	if err != nil {
		return n, err
	}
	if n.Payees, n.Unknown, err = payees(ctx, st, earned); err != nil {
		return n, err
	}
	pairs := map[[2]string][]string{}
	need := func(from, to, person string) {
		k := [2]string{from, to}
		if from != to && !slices.Contains(pairs[k], person) {
			pairs[k] = append(pairs[k], person)
		}
	}
	for _, p := range n.Payees {
		for _, c := range p.Earned {
			need(c, p.Currency, p.ID)
		}
		// A country without a minimum wage is the wage table's problem, which CheckWages reports.
		if wages != nil {
			if w, err := wages.For(p.Country, month); err == nil {
				need(w.Currency, p.Currency, p.ID)
			}
		}
	}
	for k, people := range pairs {
		n.Pairs = append(n.Pairs, Need{From: k[0], To: k[1], People: people})
	}
	sort.Slice(n.Pairs, func(i, j int) bool {
		a, b := n.Pairs[i], n.Pairs[j]
		return a.From < b.From || a.From == b.From && a.To < b.To
	})
	return n, nil
}

// Missing are the needed pairs rates does not cover.
func (n Needs) Missing(rates *earnings.Rates) []Need {
	var out []Need
	for _, p := range n.Pairs {
		if !rates.Covers(p.From, p.To) {
			out = append(out, p)
		}
	}
	return out
}

// ledgerCurrencies reads the month's ledger files and returns, per person, the currencies of
// their entries.
func ledgerCurrencies(ctx context.Context, st *store.Store, month string) (map[string]map[string]bool, error) {
	var keys []string
	err := st.List(ctx, layout.LedgerPrefix(month), func(key string, _ int64) error {
		if f, ok := layout.ParseLedgerKey(key); ok && f.Month == month {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	earned := map[string]map[string]bool{}
	err = store.Parallel(len(keys), ioWidth, func(i int) error {
		entries, err := ledger.Read(ctx, st, keys[i])
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		for _, e := range entries {
			if earned[e.Worker] == nil {
				earned[e.Worker] = map[string]bool{}
			}
			earned[e.Worker][e.Currency] = true
		}
		return nil
	})
	return earned, err
}

// payees looks up the roster record of each person of earned. unknown are those the roster does
// not have or gives no payout currency.
func payees(ctx context.Context, st *store.Store, earned map[string]map[string]bool) (out []Payee, unknown []string, err error) {
	ids := make([]string, 0, len(earned))
	for id := range earned {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	people := make([]workforce.Person, len(ids))
	found := make([]bool, len(ids))
	roster := workforce.Roster{Store: st}
	err = store.Parallel(len(ids), ioWidth, func(i int) error {
		p, err := roster.Get(ctx, ids[i])
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		people[i], found[i] = p, err == nil
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	for i, id := range ids {
		if !found[i] || people[i].Currency() == "" {
			unknown = append(unknown, id)
			continue
		}
		currencies := make([]string, 0, len(earned[id]))
		for c := range earned[id] {
			currencies = append(currencies, c)
		}
		sort.Strings(currencies)
		out = append(out, Payee{ID: id, Country: people[i].Country, Currency: people[i].Currency(), Earned: currencies})
	}
	return out, unknown, nil
}

// firstFew names the first three ids, and says how many more there are.
func firstFew(ids []string) string {
	if len(ids) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(ids[:3], ", "), len(ids)-3)
	}
	return strings.Join(ids, ", ")
}
