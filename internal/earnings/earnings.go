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

// Compute computes the statement of person p for month (YYYY-MM) from the ledger lines, the
// minimum wage table, the month's exchange rates and the floor multiplier (a decimal of at least
// 1; "" means DefaultMultiplier). The package comment states the rounding.
func Compute(p Person, month string, lines []Line, wages *WageTable, rates *Rates, multiplier string) (Statement, error) {
	fail := func(format string, args ...any) (Statement, error) {
		return Statement{}, fmt.Errorf("statement of %s for %s: %w", p.ID, month, fmt.Errorf(format, args...))
	}
	if _, err := parseMonth(month); err != nil {
		return fail("%w", err)
	}
	if !isUpper(p.Country, 2) {
		return fail("country %q is not an ISO 3166-1 alpha-2 code", p.Country)
	}
	payExp, err := CurrencyExponent(p.PayoutCurrency)
	if err != nil {
		return fail("payout currency: %w", err)
	}
	if wages == nil || rates == nil {
		return fail("the minimum wage table and the exchange rates are required")
	}
	if multiplier == "" {
		multiplier = DefaultMultiplier
	}
	mult, err := parseDecimal(multiplier, -1)
	if err != nil {
		return fail("floor multiplier: %w", err)
	}
	if mult.Cmp(big.NewRat(1, 1)) < 0 {
		return fail("floor multiplier %s is below 1: the floor would pay less than the legal minimum", multiplier)
	}

	convs := map[string]converter{}
	convert := func(currency string) (converter, error) {
		if c, ok := convs[currency]; ok {
			return c, nil
		}
		exp, err := CurrencyExponent(currency)
		if err != nil {
			return converter{}, err
		}
		r, text, err := rates.lookup(currency, p.PayoutCurrency)
		if err != nil {
			return converter{}, err
		}
		c := converter{factor: r.Mul(r, pow10(payExp-exp)), rate: text}
		convs[currency] = c
		return c, nil
	}

	st := Statement{Person: p.ID, Month: month, PayoutCurrency: p.PayoutCurrency, Lines: make([]StatementLine, 0, len(lines))}
	x := new(big.Rat)
	for i, l := range lines {
		where := fmt.Sprintf("line %d (project %s, %s)", i+1, l.Project, l.Kind)
		switch l.Kind {
		case KindAnnotation, KindArbitration, KindGold, KindBonus:
		default:
			return fail("%s: unknown kind %q (want annotation, arbitration, gold or bonus)", where, l.Kind)
		}
		if l.Amount < 0 {
			return fail("%s: amount %d is negative: reversals and adjustments are separate lines, never deductions", where, l.Amount)
		}
		if l.Seconds < 0 || l.Count < 0 {
			return fail("%s: count %d and seconds %d must not be negative", where, l.Count, l.Seconds)
		}
		c, err := convert(l.Currency)
		if err != nil {
			return fail("%s: %w", where, err)
		}
		x.SetInt64(l.Amount)
		v, ok := roundHalfEven(x.Mul(x, c.factor))
		if !ok {
			return fail("%s: the converted amount overflows", where)
		}
		st.Lines = append(st.Lines, StatementLine{Line: l, Rate: c.rate, AmountPayout: v})
		if st.Earned, ok = add(st.Earned, v); !ok {
			return fail("the earned total overflows")
		}
		if st.Seconds, ok = add(st.Seconds, l.Seconds); !ok {
			return fail("the time worked overflows")
		}
	}

	w, err := wages.For(p.Country, month)
	if err != nil {
		return fail("%w", err)
	}
	c, err := convert(w.Currency)
	if err != nil {
		return fail("minimum wage (%s:%d): %w", wages.file, w.Line, err)
	}
	minimum := new(big.Rat).Mul(new(big.Rat).SetInt64(w.HourlyMinor), c.factor) // exact, P minor units/h
	converted := w
	converted.Currency = p.PayoutCurrency
	var ok [3]bool
	converted.HourlyMinor, ok[0] = roundHalfEven(minimum)
	requiredHourly := minimum.Mul(minimum, mult) // exact
	st.Floor = FloorCheck{InForce: w, Rate: c.rate, MinimumWage: converted, Multiplier: multiplier}
	st.Floor.RequiredHourly, ok[1] = roundHalfEven(requiredHourly)
	required := new(big.Rat).Mul(requiredHourly, new(big.Rat).SetFrac64(st.Seconds, 3600))
	st.Floor.Required, ok[2] = roundHalfEven(required)
	if !ok[0] || !ok[1] || !ok[2] {
		return fail("the required floor pay overflows")
	}
	st.Floor.TopUp = max(0, st.Floor.Required-st.Earned)
	st.Total = st.Earned + st.Floor.TopUp // = max(Earned, Required): cannot overflow

	if st.Seconds > 0 {
		he, ok := roundHalfEven(new(big.Rat).SetFrac(
			new(big.Int).Mul(big.NewInt(st.Earned), big.NewInt(3600)), big.NewInt(st.Seconds)))
		if !ok {
			return fail("the hourly rate overflows")
		}
		st.HourlyEffective = he
	}
	return st, nil
}
