// Package earnings computes a person's monthly pay statement and checks it against LabelFlow's
// pay floor: every annotator earns at least floor_multiplier (2 by default) times the statutory
// minimum wage of their country for the time they worked, whatever their task rates came to.
//
// Money is integer minor units of a currency (cents, fils; whole shillings for UGX) and never a
// float. Arithmetic is exact, with math/big rationals, and each amount is rounded once, at the
// point stated below, to the nearest minor unit, a tie going to the even neighbour
// (round half to even: 1293.5 → 1294, 3880.5 → 3880).
//
// A statement is computed as follows, exp(C) being the minor-unit exponent of currency C and P the
// payout currency:
//
//   - Each ledger line is converted on its own, so that every statement line can be checked by
//     hand: AmountPayout = round(Amount × rate(C→P) × 10^(exp(P) − exp(C))).
//   - Earned is the sum of the converted lines, already rounded; Seconds the sum of their time.
//   - The minimum wage in force (see WageTable.For) is converted the same way, per hour, giving
//     FloorCheck.MinimumWage.HourlyMinor = round(minimum × rate × 10^(exp(P) − exp(W))).
//   - RequiredHourly = round(exact minimum in P × multiplier).
//   - Required = round(exact minimum in P × multiplier × Seconds / 3600). Required is computed from
//     the exact rational, never from the rounded MinimumWage.HourlyMinor or RequiredHourly, so it
//     may differ from RequiredHourly × hours by a minor unit or more; the exact figure is the
//     promise.
//   - TopUp = max(0, Required − Earned); Total = Earned + TopUp. Nothing is ever deducted: pay the
//     ledger records is never reduced here, and a negative ledger amount is an error (reversals
//     and adjustments are to be separate lines of their own, not negative amounts).
//   - HourlyEffective = round(Earned × 3600 / Seconds), before the top-up; 0 when Seconds is 0.
//     With no time worked nothing is required and there is no top-up.
//
// Exchange rates are those of the month: a listed pair (A, B) is used as is, else the reverse of a
// listed (B, A) as 1/rate, exactly; rates are never chained through a third currency, and a missing
// rate is an error rather than a guess.
package earnings

import (
	"errors"
	"fmt"
	"math/big"
)

// Kinds of ledger line.
const (
	KindAnnotation  = "annotation"
	KindArbitration = "arbitration"
	KindGold        = "gold"
	KindBonus       = "bonus"
)

// DefaultMultiplier is the floor multiplier when none is configured.
const DefaultMultiplier = "2"

// Line is what the ledger says a person earned in a month for one project and kind of work.
type Line struct {
	Project  string `json:"project"`
	Kind     string `json:"kind"` // annotation | arbitration | gold | bonus
	Currency string `json:"currency"`
	Count    int    `json:"count"`
	Amount   int64  `json:"amount"`  // minor units of Currency, never negative
	Seconds  int64  `json:"seconds"` // time worked, already capped per suite
	// Adjustment labels a line that pays work of an earlier month (late | reversal) and
	// WorkMonth names that month. Such a line counts like any other, its time included, in the
	// month it is paid: the floor holds over the work paid.
	Adjustment string `json:"adjustment,omitempty"`
	WorkMonth  string `json:"work_month,omitempty"`
}

// Person is who is paid.
type Person struct {
	ID             string `json:"id"`
	Country        string `json:"country"`         // ISO 3166-1 alpha-2
	PayoutCurrency string `json:"payout_currency"` // ISO 4217
}

// StatementLine is a ledger line converted to the payout currency.
type StatementLine struct {
	Line
	Rate         string `json:"rate"`          // Currency→PayoutCurrency as used: "1", "129.3500" or "1/129.3500"
	AmountPayout int64  `json:"amount_payout"` // minor units of PayoutCurrency
}

// FloorCheck is the pay floor applied to a statement. Amounts are minor units of the payout
// currency.
type FloorCheck struct {
	// InForce is the minimum wage row in force for the month, as written in the table.
	InForce MinimumWage `json:"in_force"`
	// Rate converts InForce.Currency to the payout currency, as used.
	Rate string `json:"rate"`
	// MinimumWage is InForce converted to minor units of the payout currency per hour.
	MinimumWage    MinimumWage `json:"minimum_wage"`
	Multiplier     string      `json:"multiplier"`
	RequiredHourly int64       `json:"required_hourly"`
	Required       int64       `json:"required"` // for the hours worked
	TopUp          int64       `json:"top_up"`
}

// Statement is one person's pay for one month.
type Statement struct {
	Person          string          `json:"person"`
	Month           string          `json:"month"`
	PayoutCurrency  string          `json:"payout_currency"`
	Lines           []StatementLine `json:"lines"`
	Earned          int64           `json:"earned"` // sum of Lines[].AmountPayout
	Seconds         int64           `json:"seconds"`
	HourlyEffective int64           `json:"hourly_effective"` // Earned per hour worked
	Floor           FloorCheck      `json:"floor"`
	Total           int64           `json:"total"` // Earned + Floor.TopUp
}

// converter turns minor units of one currency into exact minor units of the payout currency.
type converter struct {
	factor *big.Rat // rate × 10^(exp(P) − exp(C))
	rate   string
}

// converters hands out the converter of each currency into the payout currency, working each
// out once per statement.
type converters struct {
	rates  *Rates
	payout string // the payout currency P
	payExp int    // exp(P)
	known  map[string]converter
}

func (cs *converters) of(currency string) (converter, error) {
	if c, ok := cs.known[currency]; ok {
		return c, nil
	}
	exp, err := CurrencyExponent(currency)
	if err != nil {
		return converter{}, err
	}
	r, text, err := cs.rates.lookup(currency, cs.payout)
	if err != nil {
		return converter{}, err
	}
	c := converter{factor: r.Mul(r, pow10(cs.payExp-exp)), rate: text}
	cs.known[currency] = c
	return c, nil
}

// Compute computes the statement of person p for month (YYYY-MM) from the ledger lines, the
// minimum wage table, the month's exchange rates and the floor multiplier (a decimal of at least
// 1; "" means DefaultMultiplier). The package comment states the rounding.
func Compute(p Person, month string, lines []Line, wages *WageTable, rates *Rates, multiplier string) (Statement, error) {
	fail := func(err error) (Statement, error) {
		return Statement{}, fmt.Errorf("statement of %s for %s: %w", p.ID, month, err)
	}
	payExp, err := checkPerson(p, month)
	if err != nil {
		return fail(err)
	}
	if wages == nil || rates == nil {
		return fail(errors.New("the minimum wage table and the exchange rates are required"))
	}
	if multiplier == "" {
		multiplier = DefaultMultiplier
	}
	mult, err := parseMultiplier(multiplier)
	if err != nil {
		return fail(err)
	}
	conv := &converters{rates: rates, payout: p.PayoutCurrency, payExp: payExp, known: map[string]converter{}}
	st := Statement{Person: p.ID, Month: month, PayoutCurrency: p.PayoutCurrency, Lines: make([]StatementLine, 0, len(lines))}
	for i, l := range lines {
		if err := st.addLine(i, l, conv); err != nil {
			return fail(err)
		}
	}
	w, err := wages.For(p.Country, month)
	if err != nil {
		return fail(err)
	}
	c, err := conv.of(w.Currency)
	if err != nil {
		return fail(fmt.Errorf("minimum wage (%s:%d): %w", wages.file, w.Line, err))
	}
	if err := st.applyFloor(w, c, mult, multiplier); err != nil {
		return fail(err)
	}
	var ok bool
	if st.HourlyEffective, ok = hourlyEffective(st.Earned, st.Seconds); !ok {
		return fail(errors.New("the hourly rate overflows"))
	}
	return st, nil
}

// checkPerson checks the month and the person's country and payout currency, and returns the
// payout currency's minor-unit exponent.
func checkPerson(p Person, month string) (int, error) {
	if _, err := parseMonth(month); err != nil {
		return 0, err
	}
	if !isUpper(p.Country, 2) {
		return 0, fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code", p.Country)
	}
	payExp, err := CurrencyExponent(p.PayoutCurrency)
	if err != nil {
		return 0, fmt.Errorf("payout currency: %w", err)
	}
	return payExp, nil
}

func parseMultiplier(multiplier string) (*big.Rat, error) {
	mult, err := parseDecimal(multiplier, -1)
	if err != nil {
		return nil, fmt.Errorf("floor multiplier: %w", err)
	}
	if mult.Cmp(big.NewRat(1, 1)) < 0 {
		return nil, fmt.Errorf("floor multiplier %s is below 1: the floor would pay less than the legal minimum", multiplier)
	}
	return mult, nil
}

// checkLine refuses what the ledger never records: unknown kinds and negative figures.
func checkLine(l Line) error {
	switch l.Kind {
	case KindAnnotation, KindArbitration, KindGold, KindBonus:
	default:
		return fmt.Errorf("unknown kind %q (want annotation, arbitration, gold or bonus)", l.Kind)
	}
	if l.Amount < 0 {
		return fmt.Errorf("amount %d is negative: reversals and adjustments are separate lines, never deductions", l.Amount)
	}
	if l.Seconds < 0 || l.Count < 0 {
		return fmt.Errorf("count %d and seconds %d must not be negative", l.Count, l.Seconds)
	}
	return nil
}

// addLine converts ledger line l (the i-th, from 0) on its own and adds it to the totals.
func (st *Statement) addLine(i int, l Line, conv *converters) error {
	where := fmt.Sprintf("line %d (project %s, %s)", i+1, l.Project, l.Kind)
	if err := checkLine(l); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	c, err := conv.of(l.Currency)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	x := new(big.Rat).SetInt64(l.Amount)
	v, ok := roundHalfEven(x.Mul(x, c.factor))
	if !ok {
		return fmt.Errorf("%s: the converted amount overflows", where)
	}
	st.Lines = append(st.Lines, StatementLine{Line: l, Rate: c.rate, AmountPayout: v})
	if st.Earned, ok = add(st.Earned, v); !ok {
		return errors.New("the earned total overflows")
	}
	if st.Seconds, ok = add(st.Seconds, l.Seconds); !ok {
		return errors.New("the time worked overflows")
	}
	return nil
}

// applyFloor sets the floor check, the top-up and the total from minimum wage row w, converted
// by c. Required is worked out from the exact minimum, never from a rounded figure.
func (st *Statement) applyFloor(w MinimumWage, c converter, mult *big.Rat, multiplier string) error {
	minimum := new(big.Rat).Mul(new(big.Rat).SetInt64(w.HourlyMinor), c.factor) // exact, P minor units/h
	converted := w
	converted.Currency = st.PayoutCurrency
	var ok [3]bool
	converted.HourlyMinor, ok[0] = roundHalfEven(minimum)
	requiredHourly := minimum.Mul(minimum, mult) // exact
	st.Floor = FloorCheck{InForce: w, Rate: c.rate, MinimumWage: converted, Multiplier: multiplier}
	st.Floor.RequiredHourly, ok[1] = roundHalfEven(requiredHourly)
	required := new(big.Rat).Mul(requiredHourly, new(big.Rat).SetFrac64(st.Seconds, 3600))
	st.Floor.Required, ok[2] = roundHalfEven(required)
	if !ok[0] || !ok[1] || !ok[2] {
		return errors.New("the required floor pay overflows")
	}
	st.Floor.TopUp = max(0, st.Floor.Required-st.Earned)
	st.Total = st.Earned + st.Floor.TopUp // = max(Earned, Required): cannot overflow
	return nil
}

// hourlyEffective is earned per hour over seconds worked, before any top-up; 0 with no time.
func hourlyEffective(earned, seconds int64) (int64, bool) {
	if seconds <= 0 {
		return 0, true
	}
	return roundHalfEven(new(big.Rat).SetFrac(
		new(big.Int).Mul(big.NewInt(earned), big.NewInt(3600)), big.NewInt(seconds)))
}
