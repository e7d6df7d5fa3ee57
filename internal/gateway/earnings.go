package gateway

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// A person's earnings page: this month so far, estimated from the ledger as work is accepted, and
// the statements of the months payroll closed. The month's ledger is read once per
// monthScanTTL for everyone, not once per person: a crowd opening the page costs one scan.

// monthScanTTL is how old the month's earnings may be when shown.
const monthScanTTL = time.Minute

// EarningsLine is one kind of work on one project this month.
type EarningsLine struct {
	Project  string `json:"project"`
	Kind     string `json:"kind"`
	Count    int    `json:"count"`
	Currency string `json:"currency"`
	Minor    int64  `json:"minor"`
	Text     string `json:"text"`
}

// EarningsAnswer is a person's earnings page.
type EarningsAnswer struct {
	Month      string         `json:"month"`
	Estimated  []Money        `json:"estimated"`
	Lines      []EarningsLine `json:"lines"`
	Statements []StatementRef `json:"statements"`
}

type lineKey struct{ project, kind, currency string }

// monthScan is the month's accepted work per person.
type monthScan struct {
	month string
	at    time.Time
	lines map[string]map[lineKey]*EarningsLine
}

type earningsCache struct {
	mu   sync.Mutex
	scan *monthScan
}

func (g *Gateway) earnings(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	ctx := r.Context()
	month := time.Now().UTC().Format("2006-01")
	scan, err := g.monthEarnings(ctx, month)
	if err != nil {
		g.fail(w, err)
		return
	}
	months, err := payroll.StatementMonths(ctx, g.app.Store, p.ID)
	if err != nil {
		g.fail(w, err)
		return
	}
	out := EarningsAnswer{Month: month, Lines: []EarningsLine{}, Estimated: []Money{}, Statements: []StatementRef{}}
	for _, m := range months {
		out.Statements = append(out.Statements, StatementRef{Month: m.Month, Totals: m.Totals})
	}
	for _, l := range scan.lines[p.ID] {
		out.Lines = append(out.Lines, *l)
	}
	sort.Slice(out.Lines, func(i, j int) bool {
		a, b := out.Lines[i], out.Lines[j]
		return a.Project < b.Project || (a.Project == b.Project && a.Kind < b.Kind)
	})
	out.Estimated = estimate(out.Lines, p.Currency(), g.monthRates(ctx))
	writeJSON(w, http.StatusOK, out)
}

// estimate totals lines in the person's currency where the month's rates allow, and in their
// own currency otherwise. The statement, with the floor, is the word that counts.
func estimate(lines []EarningsLine, currency string, rates *earnings.Rates) []Money {
	totals := map[string]int64{}
	for _, l := range lines {
		if m, ok := payIn(l.Minor, l.Currency, currency, rates); ok {
			totals[m.Currency] += m.Minor
		}
	}
	out := []Money{}
	for c, v := range totals {
		out = append(out, moneyOf(v, c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out
}

// monthEarnings reads the month's ledger, or answers from the last read when it is recent.
func (g *Gateway) monthEarnings(ctx context.Context, month string) (*monthScan, error) {
	g.earned.mu.Lock()
	defer g.earned.mu.Unlock()
	if s := g.earned.scan; s != nil && s.month == month && time.Since(s.at) < monthScanTTL {
		return s, nil
	}
	var keys []string
	err := g.app.Store.List(ctx, layout.LedgerPrefix(month), func(key string, _ int64) error {
		if _, ok := layout.ParseLedgerKey(key); ok {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	files := make([][]ledger.Entry, len(keys))
	err = store.Parallel(len(keys), 8, func(i int) error {
		var err error
		files[i], err = ledger.Read(ctx, g.app.Store, keys[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &monthScan{month: month, at: time.Now(), lines: map[string]map[lineKey]*EarningsLine{}}
	for _, entries := range files {
		for _, e := range entries {
			s.add(e)
		}
	}
	g.earned.scan = s
	return s, nil
}

func (s *monthScan) add(e ledger.Entry) {
	byKey := s.lines[e.Worker]
	if byKey == nil {
		byKey = map[lineKey]*EarningsLine{}
		s.lines[e.Worker] = byKey
	}
	k := lineKey{e.Project, e.Role, e.Currency}
	l := byKey[k]
	if l == nil {
		l = &EarningsLine{Project: e.Project, Kind: e.Role, Currency: e.Currency}
		byKey[k] = l
	}
	l.Count++
	l.Minor += e.Amount
	l.Text = earnings.FormatMinor(l.Minor, l.Currency)
}
