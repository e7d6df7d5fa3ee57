package activities

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// Statement is what one person earned in a month.
type Statement struct {
	Worker  string           `json:"worker"`
	Month   string           `json:"month"`
	Lines   []StatementLine  `json:"lines"`
	Totals  map[string]int64 `json:"totals"` // currency → minor units, as the ledger has them
	Entries int              `json:"entries"`
	Seconds int              `json:"seconds"`
	Country string           `json:"country"`
	// Rejected is work set aside under a rejection, with its reason.
	Rejected []RejectedLine `json:"rejected,omitempty"`
	// Pay is what the person is paid: every line converted to their payout currency at the
	// month's rate, and the earnings floor with any top-up.
	Pay earnings.Statement `json:"pay"`
}

// StatementCSV renders a statement as CSV, one row per line of work and one for any top-up, each
// with its amount as earned and as paid.
func StatementCSV(st *Statement) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	cur := st.Pay.PayoutCurrency
	w.Write([]string{"month", "person", "project", "kind", "count", "hours", "currency", "amount", "rate", "payout_currency", "amount_paid", "adjustment", "work_month", "note"})
	for _, l := range st.Pay.Lines {
		w.Write([]string{st.Month, st.Worker, l.Project, l.Kind, strconv.Itoa(l.Count), fmt.Sprintf("%.2f", float64(l.Seconds)/3600),
			l.Currency, earnings.FormatMinor(l.Amount, l.Currency), l.Rate, cur, earnings.FormatMinor(l.AmountPayout, cur), l.Adjustment, l.WorkMonth, ""})
	}
	if top := st.Pay.Floor.TopUp; top > 0 {
		w.Write([]string{st.Month, st.Worker, "", "floor-top-up", "", fmt.Sprintf("%.2f", float64(st.Pay.Seconds)/3600),
			"", "", "", cur, earnings.FormatMinor(top, cur), "", "", ""})
	}
	// Rejected work is listed, unpaid, with the reason, so that the person can contest it.
	for _, l := range st.Rejected {
		w.Write([]string{st.Month, st.Worker, l.Project, l.Role, strconv.Itoa(l.Count), "",
			l.Currency, earnings.FormatMinor(l.Amount, l.Currency), "", cur, "0", "rejected", "", l.Rejection + ": " + l.Reason})
	}
	w.Flush()
	return b.Bytes()
}

// TopUp is a payment that lifts a person's month to the earnings floor.
type TopUp struct {
	Person   string `json:"person"`
	Country  string `json:"country"`
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// CountryTotals sums a country's payroll in its payout currency.
type CountryTotals struct {
	People int              `json:"people"`
	Paid   map[string]int64 `json:"paid"`    // payout currency → total, top-ups included
	TopUps map[string]int64 `json:"top_ups"` // payout currency → top-ups
}

// ioWidth is how many store round trips an activity keeps in flight.
const ioWidth = 16

// Finance tables in the platform store.
const WageTableKey = "finance/tables/minimum-wage.csv"

// RatesKey holds the month's exchange rates.
func RatesKey(month string) string { return "finance/rates/" + month + ".csv" }

// StatementLine sums one kind of work on one project. An adjustment line pays work of an
// earlier month: accepted after that month closed (late), or rejected then and accepted since
// (reversal); WorkMonth is the month the work was accepted in.
type StatementLine struct {
	Project    string `json:"project"`
	Role       string `json:"role"`
	Currency   string `json:"currency"`
	Count      int    `json:"count"`
	Amount     int64  `json:"amount"`
	Seconds    int    `json:"seconds"`
	Adjustment string `json:"adjustment,omitempty"` // late | reversal
	WorkMonth  string `json:"work_month,omitempty"`
}

// RejectedLine sums work set aside under one rejection: shown to the person with the reason, and
// not paid unless the rejection is reversed.
type RejectedLine struct {
	Project   string `json:"project"`
	Role      string `json:"role"`
	Currency  string `json:"currency"`
	Count     int    `json:"count"`
	Amount    int64  `json:"amount"`
	Rejection string `json:"rejection"`
	Reason    string `json:"reason"`
}

// PayrollSummary is the finance summary of a month; it is small enough for history.
type PayrollSummary struct {
	Month      string           `json:"month"`
	People     int              `json:"people"`
	Entries    int              `json:"entries"`
	Totals     map[string]int64 `json:"totals"`
	SummaryKey string           `json:"summary_key"`
	// Workers lists the people with a statement; small (thousands of ids), and the payroll
	// workflow checks holds against it.
	Workers   []string                 `json:"workers"`
	PayTotals map[string]int64         `json:"pay_totals"` // payout currency → total to pay, top-ups included
	TopUps    []TopUp                  `json:"top_ups"`
	Countries map[string]CountryTotals `json:"countries"`
	// Adjustments sums the adjustment lines by kind (late, reversal) and currency; they are
	// included in Totals. Rejected sums work set aside, which Totals excludes.
	Adjustments map[string]map[string]int64 `json:"adjustments,omitempty"`
	Rejected    map[string]int64            `json:"rejected,omitempty"`
	// LedgerFiles counts the ledger files the month took (see PayrollClosure).
	LedgerFiles int `json:"ledger_files"`
	// Refused is what the run would not pay: entries that do not belong to their ledger file or
	// whose worker payroll may not pay, and objects under ledger/ that are not ledger files.
	Refused *RefusedLedger `json:"refused,omitempty"`
}

// PayrollPrefix is the finance area of a month.
func PayrollPrefix(month string) string { return "finance/payroll/" + month + "/" }

// StatementKey is one person's statement for a month.
func StatementKey(month, worker string) string {
	return PayrollPrefix(month) + "statements/" + worker + ".json"
}

func paidKey(month, worker string) string { return PayrollPrefix(month) + "paid/" + worker + ".json" }

// AggregatePayroll closes the month's part of the ledger (see PayrollClosure), streams it one file
// at a time, and writes a statement per person and the finance summary. Memory grows with people
// and projects, and with rejected entries, not with ledger lines.
func (a *Activities) AggregatePayroll(ctx context.Context, month string) (PayrollSummary, error) {
	defer keepAlive(ctx)()
	plan, err := a.planLedger(ctx, month)
	if err != nil {
		return PayrollSummary{}, err
	}
	stmts := map[string]*Statement{}
	lines := map[string]*StatementLine{}
	rejectedLines := map[string]*RejectedLine{}
	rejected := map[string][]LedgerEntry{}        // rejection id → entries set aside
	rejectedFiles := map[string]map[string]bool{} // rejection id → ledger files it applied to
	sum := PayrollSummary{Month: month, Totals: map[string]int64{}, SummaryKey: PayrollPrefix(month) + "summary.json",
		Adjustments: map[string]map[string]int64{}, Rejected: map[string]int64{}}
	statement := func(worker string) *Statement {
		st := stmts[worker]
		if st == nil {
			st = &Statement{Worker: worker, Month: month, Totals: map[string]int64{}, Lines: []StatementLine{}}
			stmts[worker] = st
		}
		return st
	}
	take := func(key string, e LedgerEntry) {
		st := statement(e.Worker)
		if id := plan.rejectionFor(key, e); id != "" {
			rejected[id] = append(rejected[id], e)
			if rejectedFiles[id] == nil {
				rejectedFiles[id] = map[string]bool{}
			}
			rejectedFiles[id][key] = true
			lk := e.Worker + "\x00" + e.Project + "\x00" + e.Role + "\x00" + e.Currency + "\x00" + id
			l := rejectedLines[lk]
			if l == nil {
				l = &RejectedLine{Project: e.Project, Role: e.Role, Currency: e.Currency, Rejection: id, Reason: plan.rejections[id].Reason}
				rejectedLines[lk] = l
			}
			l.Count++
			l.Amount += e.Amount
			sum.Rejected[e.Currency] += e.Amount
			return
		}
		adj, workMonth := AdjustmentOf(key, e, month), ""
		if adj != "" {
			workMonth = e.Month
			if sum.Adjustments[adj] == nil {
				sum.Adjustments[adj] = map[string]int64{}
			}
			sum.Adjustments[adj][e.Currency] += e.Amount
		}
		lk := strings.Join([]string{e.Worker, e.Project, e.Role, e.Currency, adj, workMonth}, "\x00")
		l := lines[lk]
		if l == nil {
			l = &StatementLine{Project: e.Project, Role: e.Role, Currency: e.Currency, Adjustment: adj, WorkMonth: workMonth}
			lines[lk] = l
		}
		l.Count++
		l.Amount += e.Amount
		l.Seconds += e.Seconds
		st.Totals[e.Currency] += e.Amount
		st.Entries++
		st.Seconds += e.Seconds
		sum.Totals[e.Currency] += e.Amount
		sum.Entries++
	}
	pay, refused := newPayees(a), &RefusedLedger{}
	for _, key := range plan.ignored {
		refused.ignore(key, notLedgerFile)
	}
	for _, key := range plan.closure.LedgerKeys {
		file, ok := ParseLedgerKey(key)
		if !ok { // taken by a run before payroll checked keys
			refused.ignore(key, notLedgerFile)
			continue
		}
		if err := a.takeFile(ctx, key, &file, pay, refused, take); err != nil {
			return sum, err
		}
	}
	for _, key := range plan.closure.ReversalKeys {
		if err := a.takeFile(ctx, key, nil, pay, refused, take); err != nil {
			return sum, err
		}
	}
	if !refused.empty() {
		sum.Refused = refused
		a.Log.Warn().Str("month", month).Int("entries", refused.Entries).Int("ignored_keys", refused.IgnoredKeys).
			Strs("examples", refused.Examples).Msg("payroll leaves out ledger entries it may not pay")
	}
	// Lines in key order: person, project, kind, currency, adjustment.
	for _, k := range slices.Sorted(maps.Keys(lines)) {
		worker, _, _ := strings.Cut(k, "\x00")
		stmts[worker].Lines = append(stmts[worker].Lines, *lines[k])
	}
	for _, k := range slices.Sorted(maps.Keys(rejectedLines)) {
		worker, _, _ := strings.Cut(k, "\x00")
		stmts[worker].Rejected = append(stmts[worker].Rejected, *rejectedLines[k])
	}
	workers := make([]string, 0, len(stmts))
	for w := range stmts {
		workers = append(workers, w)
	}
	sort.Strings(workers)
	if err := a.applyFloor(ctx, month, workers, stmts, pay.people, &sum); err != nil {
		return sum, err
	}
	if err := store.Parallel(len(workers), ioWidth, func(i int) error {
		w := workers[i]
		if err := a.Store.PutJSON(ctx, StatementKey(month, w), stmts[w]); err != nil {
			return err
		}
		return a.Store.Put(ctx, strings.TrimSuffix(StatementKey(month, w), ".json")+".csv", StatementCSV(stmts[w]))
	}); err != nil {
		return sum, err
	}
	applied := make([]string, 0, len(rejected))
	for id, entries := range rejected {
		applied = append(applied, id)
		sort.Slice(entries, func(i, j int) bool { return entries[i].ID < entries[j].ID })
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return sum, err
			}
		}
		if err := a.Store.Put(ctx, RejectedKey(month, id), buf.Bytes()); err != nil {
			return sum, err
		}
	}
	sort.Strings(applied)
	// The closure is written last before the summary: until then a retry plans afresh. A month
	// keeps the rejections it applied, whatever became of them since; a reversal is paid back by a
	// later month, from the file of entries set aside.
	if !plan.frozen {
		for id := range plan.rejections {
			if slices.Contains(plan.closure.Rejections, id) && !slices.Contains(applied, id) {
				applied = append(applied, id)
			}
		}
		sort.Strings(applied)
		plan.closure.Rejections = applied
		plan.closure.RejectedFiles = map[string][]string{}
		for id, files := range rejectedFiles {
			plan.closure.RejectedFiles[id] = slices.Sorted(maps.Keys(files))
		}
		plan.closure.Closed = a.now().UTC()
		if err := a.Store.PutJSON(ctx, ClosureKey(month), plan.closure); err != nil {
			return sum, err
		}
	}
	sum.People, sum.Workers, sum.LedgerFiles = len(workers), workers, len(plan.closure.LedgerKeys)
	if err := a.Store.PutJSON(ctx, sum.SummaryKey, sum); err != nil {
		return sum, err
	}
	return sum, nil
}

// takeFile reads one ledger file (file names what its key says), or one file of entries set aside
// under a rejection (file nil), and passes take the entries payroll may pay; it reports the others.
func (a *Activities) takeFile(ctx context.Context, key string, file *LedgerFile, pay *payees, refused *RefusedLedger, take func(string, LedgerEntry)) error {
	entries, err := a.readLedgerFile(ctx, key)
	if err != nil {
		return err
	}
	workers := make([]string, len(entries))
	for i, e := range entries {
		workers[i] = e.Worker
	}
	if err := pay.lookUp(ctx, workers); err != nil {
		return err
	}
	for i, e := range entries {
		why := ""
		if file != nil {
			why = file.mismatch(e)
		}
		if why == "" {
			why = pay.refusal(e.Worker)
		}
		if why != "" {
			refused.entry(key, i+1, e, why)
			continue
		}
		take(key, e)
	}
	return nil
}

// readLedgerFile reads the entries of a ledger file (or of a file of rejected entries), and names
// the file and line of any entry it cannot read. A file holds one chunk's entries: it fits in
// memory.
func (a *Activities) readLedgerFile(ctx context.Context, key string) ([]LedgerEntry, error) {
	r, err := a.Store.OpenIn(ctx, a.Store.Bucket, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var entries []LedgerEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		var e LedgerEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, invalidInput("%s line %d: %v", key, n, err)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return entries, nil
}

// applyFloor converts every statement to the person's payout currency and adds the top-up that
// lifts their month to floor_multiplier × the local minimum wage for the hours they worked. A
// missing rate, minimum wage or payout currency stops the run before approval, naming each.
func (a *Activities) applyFloor(ctx context.Context, month string, workers []string, stmts map[string]*Statement, people map[string]workforce.Person, sum *PayrollSummary) error {
	wagesData, err := a.Store.Get(ctx, WageTableKey)
	if errors.Is(err, store.ErrNotFound) {
		return invalidInput("no minimum wage table at %s in the platform store: finance uploads it (country,currency,hourly_minimum,effective_from,source)", WageTableKey)
	} else if err != nil {
		return err
	}
	wages, err := earnings.ReadWageTable(WageTableKey, bytes.NewReader(wagesData))
	if err != nil {
		return invalidInput("%v", err)
	}
	ratesData, err := a.Store.Get(ctx, RatesKey(month))
	if errors.Is(err, store.ErrNotFound) {
		return invalidInput("no exchange rates for %s at %s in the platform store: finance uploads them (from,to,rate)", month, RatesKey(month))
	} else if err != nil {
		return err
	}
	rates, err := earnings.ReadRates(RatesKey(month), bytes.NewReader(ratesData))
	if err != nil {
		return invalidInput("%v", err)
	}
	multiplier := a.FloorMultiplier
	if multiplier == "" {
		multiplier = earnings.DefaultMultiplier
	}
	sum.PayTotals, sum.Countries, sum.TopUps = map[string]int64{}, map[string]CountryTotals{}, nil
	ledger := map[string]int64{}
	var problems []error
	for _, w := range workers {
		st := stmts[w]
		p, ok := people[w] // every worker with a statement was found in the roster (takeFile)
		if !ok {
			problems = append(problems, fmt.Errorf("%s: not in the roster", w))
			continue
		}
		st.Country = p.Country
		var lines []earnings.Line
		for _, l := range st.Lines {
			lines = append(lines, earnings.Line{Project: l.Project, Kind: l.Role, Currency: l.Currency, Count: l.Count, Amount: l.Amount, Seconds: int64(l.Seconds),
				Adjustment: l.Adjustment, WorkMonth: l.WorkMonth})
			ledger[l.Currency] += l.Amount
		}
		if p.Currency() == "" {
			problems = append(problems, fmt.Errorf("%s: no payout currency (set payout_currency in the roster)", w))
			continue
		}
		st.Pay, err = earnings.Compute(earnings.Person{ID: w, Country: p.Country, PayoutCurrency: p.Currency()}, month, lines, wages, rates, multiplier)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", w, err))
			continue
		}
		cur := st.Pay.PayoutCurrency
		sum.PayTotals[cur] += st.Pay.Total
		c := sum.Countries[p.Country]
		if c.Paid == nil {
			c.Paid, c.TopUps = map[string]int64{}, map[string]int64{}
		}
		c.People++
		c.Paid[cur] += st.Pay.Total
		if top := st.Pay.Floor.TopUp; top > 0 {
			c.TopUps[cur] += top
			sum.TopUps = append(sum.TopUps, TopUp{Person: w, Country: p.Country, Currency: cur, Amount: top})
		}
		sum.Countries[p.Country] = c
	}
	if len(problems) > 0 {
		return invalidInput("payroll %s cannot be computed: %v", month, errors.Join(problems...))
	}
	// Reconcile: the statements, before conversion and top-ups, hold exactly the ledger.
	for cur, v := range sum.Totals {
		if ledger[cur] != v {
			return fmt.Errorf("payroll %s does not reconcile: ledger %d %s, statements %d", month, v, cur, ledger[cur])
		}
	}
	return nil
}

// PayPayrollInput names the month to pay.
type PayPayrollInput struct {
	Month    string
	Approver string
	Exclude  []string // held payouts
	Only     []string // when set, pay only these people (released holds)
}

// PayPayrollResult reports the payouts of one run.
type PayPayrollResult struct {
	Payouts     int              `json:"payouts"`
	Paid        map[string]int64 `json:"paid"`         // paid by this run, per currency
	AlreadyPaid int              `json:"already_paid"` // people with nothing left to pay
	// Recovered counts payouts of this run that an earlier attempt had made before it was cut
	// short (a crash): the provider answered their keys as already paid. They are in Payouts.
	Recovered int `json:"recovered,omitempty"`
	// Rejected lists payouts the provider refused (person: reason); nothing was paid to them, and
	// a later run of the month tries again.
	Rejected []string `json:"rejected,omitempty"`
	// Refused lists people payroll would not pay (person: reason): no longer in the roster, or
	// simulated on a stack that does not pay simulated people.
	Refused []string `json:"refused,omitempty"`
}

// PaidRecord is what a person has been paid for a month, per currency.
type PaidRecord struct {
	Worker string           `json:"worker"`
	Month  string           `json:"month"`
	Paid   map[string]int64 `json:"paid"`
	// Refused counts the provider's refusals per currency; each retry after one carries a new key,
	// since a provider may answer a key it refused with the same refusal for good.
	Refused map[string]int `json:"refused,omitempty"`
	// Pending is a payout asked of the provider whose outcome is not known yet. It is written
	// before the provider is called; a later attempt asks for exactly it again (same key, same
	// amount) before anything else, whatever the statement says by then.
	Pending *payout.Payout `json:"pending,omitempty"`
}

// PayPayroll pays each person what their statement shows beyond what they were already paid for
// the month. The idempotency key names the person, month, currency and amount already paid (and
// the refusals so far). Each payout is recorded as pending before the provider is asked, so an
// attempt cut short is followed by the very same request, which the provider pays once, and a
// later run of the month pays only what its statements add.
func (a *Activities) PayPayroll(ctx context.Context, in PayPayrollInput) (PayPayrollResult, error) {
	defer keepAlive(ctx)()
	res := PayPayrollResult{Paid: map[string]int64{}}
	var summary struct{ Workers []string }
	if err := a.Store.GetJSON(ctx, PayrollPrefix(in.Month)+"summary.json", &summary); err != nil {
		return res, err
	}
	var payouts []payout.Payout
	paid := map[string]*PaidRecord{}
	var people []string
	for _, w := range summary.Workers {
		if slices.Contains(in.Exclude, w) || (in.Only != nil && !slices.Contains(in.Only, w)) {
			continue
		}
		people = append(people, w)
	}
	// Read each person's statement, payment record and payout method side by side; decide in order.
	type person struct {
		st      Statement
		rec     *PaidRecord
		method  string
		refusal string // why the person is not paid, if they are not
	}
	pay := newPayees(a)
	if err := pay.lookUp(ctx, people); err != nil {
		return res, err
	}
	read := make([]person, len(people))
	if err := store.Parallel(len(people), ioWidth, func(i int) error {
		w := people[i]
		p := person{rec: &PaidRecord{Worker: w, Month: in.Month, Paid: map[string]int64{}}, method: "bank-transfer"}
		if err := a.Store.GetJSON(ctx, StatementKey(in.Month, w), &p.st); err != nil {
			return err
		}
		if err := a.Store.GetJSON(ctx, paidKey(in.Month, w), p.rec); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if p.refusal = pay.refusal(w); p.refusal == "" {
			p.method = pay.people[w].PayoutMethod
		}
		read[i] = p
		return nil
	}); err != nil {
		return res, err
	}
	var intents []string // people whose record gains a pending payout
	for i, w := range people {
		st, rec, method := read[i].st, read[i].rec, read[i].method
		paid[w] = rec
		if why := read[i].refusal; why != "" {
			res.Refused = append(res.Refused, w+": "+why)
			continue
		}
		if rec.Pending != nil {
			payouts = append(payouts, *rec.Pending)
			continue
		}
		cur := st.Pay.PayoutCurrency
		// Paid in another currency: the payout currency changed after a payout. What is owed in
		// the new one cannot be told from the old one without a rate finance has not given.
		if other := otherCurrencyPaid(rec.Paid, cur); other != "" {
			res.Rejected = append(res.Rejected, fmt.Sprintf("%s: already paid %s %s for %s, now to be paid in %s; settle by hand",
				w, earnings.FormatMinor(rec.Paid[other], other), other, in.Month, cur))
			continue
		}
		if owed := st.Pay.Total - rec.Paid[cur]; owed > 0 {
			key := fmt.Sprintf("%s/%s/%s/after-%d", in.Month, w, cur, rec.Paid[cur])
			if n := rec.Refused[cur]; n > 0 {
				key += fmt.Sprintf("/retry-%d", n)
			}
			p := payout.Payout{IdempotencyKey: key, Worker: w, Month: in.Month, Currency: cur, Amount: owed, Method: method}
			payouts = append(payouts, p)
			rec.Pending = &p
			intents = append(intents, w)
		} else {
			res.AlreadyPaid++
		}
	}
	if err := store.Parallel(len(intents), ioWidth, func(i int) error {
		return a.Store.PutJSON(ctx, paidKey(in.Month, intents[i]), paid[intents[i]])
	}); err != nil {
		return res, err
	}
	// A provider that fails part-way returns the outcomes so far: they are recorded before the
	// error is, and the rest stay pending for the retry.
	outcomes, payErr := a.Payouts.Pay(ctx, in.Month, payouts)
	for _, o := range outcomes {
		rec := paid[o.Worker]
		rec.Pending = nil
		if o.Rejected != "" {
			res.Rejected = append(res.Rejected, o.Worker+": "+o.Rejected)
			if rec.Refused == nil {
				rec.Refused = map[string]int{}
			}
			rec.Refused[o.Currency]++
			continue
		}
		// A key the provider had already paid, yet missing from the person's record, was paid by
		// an attempt of this run that did not live to write the record: it is this run's payout.
		rec.Paid[o.Currency] += o.Amount
		res.Payouts++
		res.Paid[o.Currency] += o.Amount
		if o.AlreadyPaid {
			res.Recovered++
		}
	}
	if err := store.Parallel(len(people), ioWidth, func(i int) error {
		return a.Store.PutJSON(ctx, paidKey(in.Month, people[i]), paid[people[i]])
	}); err != nil {
		return res, err
	}
	if payErr != nil {
		return res, fmt.Errorf("payout provider: %w", payErr)
	}
	return res, nil
}

// otherCurrencyPaid names a currency other than cur in which something was paid.
func otherCurrencyPaid(paid map[string]int64, cur string) string {
	for c, v := range paid {
		if c != cur && v > 0 {
			return c
		}
	}
	return ""
}
