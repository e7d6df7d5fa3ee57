package earnings

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"
)

// The figures below are test fixtures, not statements of any country's law.
const wagesCSV = `country,currency,hourly_minimum,effective_from,source
KE,KES,120.50,2026-05-01,Kenya Regulation of Wages Order 2026
KE,KES,100.00,2026-01-01,Kenya Regulation of Wages Order 2025
UG,UGX,2000,2026-01-01,Uganda fixture
KW,KWD,0.375,2026-01-01,Kuwait fixture
`

const ratesCSV = `from,to,rate
USD,KES,129.3500
USD,UGX,3750.25
USD,KWD,0.3075
`

func tables(t testing.TB) (*WageTable, *Rates) {
	t.Helper()
	w, err := ReadWageTable("wages.csv", strings.NewReader(wagesCSV))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ReadRates("rates.csv", strings.NewReader(ratesCSV))
	if err != nil {
		t.Fatal(err)
	}
	return w, r
}

func compute(t *testing.T, p Person, month string, lines ...Line) Statement {
	t.Helper()
	w, r := tables(t)
	st, err := Compute(p, month, lines, w, r, "2")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var kenyan = Person{ID: "ann-ke-1", Country: "KE", PayoutCurrency: "KES"}

// Minor units follow ISO 4217's list, including the currencies a hand-kept table missed (PYG,
// VUV, XPF have none; KWD, BHD have three); unknown, withdrawn and unit-less codes are refused.
func TestCurrencyExponent(t *testing.T) {
	for code, want := range map[string]int{
		"KES": 2, "USD": 2, "EUR": 2, "UGX": 0, "JPY": 0, "RWF": 0, "VND": 0, "XOF": 0,
		"PYG": 0, "VUV": 0, "XPF": 0, "KWD": 3, "BHD": 3, "IQD": 3, "OMR": 3, "CLF": 4,
	} {
		if got, err := CurrencyExponent(code); err != nil || got != want {
			t.Errorf("CurrencyExponent(%q) = %d, %v; want %d", code, got, err, want)
		}
	}
	for _, code := range []string{"", "kes", "KE", "KESX", "K1S", "KSh", "ABC", "ZZZ", "KSH", "XAU", "XTS", "XXX", "DEM", "ZWD"} {
		if got, err := CurrencyExponent(code); err == nil {
			t.Errorf("CurrencyExponent(%q) = %d, want an error", code, got)
		}
	}
}

// Amounts in the currencies without minor units come out whole, never 100 times too small.
func TestFormatMinorWithoutMinorUnits(t *testing.T) {
	for _, code := range []string{"PYG", "VUV", "XPF"} {
		if got := FormatMinor(125000, code); got != "125000" {
			t.Errorf("FormatMinor(125000, %s) = %q, want 125000", code, got)
		}
	}
	if got := FormatMinor(1250, "BHD"); got != "1.250" {
		t.Errorf("FormatMinor(1250, BHD) = %q, want 1.250", got)
	}
}

func TestFormatMinor(t *testing.T) {
	for _, tc := range []struct {
		v        int64
		currency string
		want     string
	}{
		{155220, "KES", "1552.20"},
		{123450, "KES", "1234.50"},
		{5, "KES", "0.05"},
		{-5, "KES", "-0.05"},
		{0, "KES", "0.00"},
		{46278, "UGX", "46278"},
		{-7, "UGX", "-7"},
		{0, "UGX", "0"},
		{3690, "KWD", "3.690"},
		{7, "KWD", "0.007"},
		{1234, "KWD", "1.234"},
		{math.MinInt64, "KES", "-92233720368547758.08"},
	} {
		if got := FormatMinor(tc.v, tc.currency); got != tc.want {
			t.Errorf("FormatMinor(%d, %q) = %q, want %q", tc.v, tc.currency, got, tc.want)
		}
	}
}

func TestRoundHalfEven(t *testing.T) {
	for _, tc := range []struct {
		num, den, want int64
	}{
		{1, 2, 0}, {3, 2, 2}, {5, 2, 2}, {7, 2, 4}, {-1, 2, 0}, {-3, 2, -2}, {-5, 2, -2},
		{7, 3, 2}, {8, 3, 3}, {-7, 3, -2}, {-8, 3, -3}, {6, 3, 2}, {0, 5, 0},
	} {
		if got, ok := roundHalfEven(big.NewRat(tc.num, tc.den)); !ok || got != tc.want {
			t.Errorf("roundHalfEven(%d/%d) = %d, %v; want %d", tc.num, tc.den, got, ok, tc.want)
		}
	}
	if _, ok := roundHalfEven(new(big.Rat).SetFrac(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))); ok {
		t.Error("roundHalfEven(2^64) fits an int64")
	}
}

// A Kenyan annotator paid in KES for a USD project, below the floor.
//
//	300 annotations × 0.04 USD = 12.00 USD = 1200 USD cents
//	1200 × 129.35 × 10^(2−2) = 155220 KES cents = 1552.20 KES          (Earned)
//	minimum 120.50 KES/h (row effective 2026-05-01) = 12050 cents/h, no conversion
//	required hourly 2 × 12050 = 24100 cents/h = 241.00 KES/h
//	required 24100 × 36000 s / 3600 = 241000 cents = 2410.00 KES
//	top-up 241000 − 155220 = 85780 cents = 857.80 KES; total 2410.00 KES
//	hourly effective 155220 × 3600 / 36000 = 15522 cents/h = 155.22 KES/h
func TestKenyanBelowFloor(t *testing.T) {
	st := compute(t, kenyan, "2026-05", Line{Project: "p-usd", Kind: KindAnnotation, Currency: "USD", Count: 300, Amount: 1200, Seconds: 36000})
	if len(st.Lines) != 1 || st.Lines[0].AmountPayout != 155220 || st.Lines[0].Rate != "129.3500" {
		t.Fatalf("lines = %+v, want 155220 at rate 129.3500", st.Lines)
	}
	f := st.Floor
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"Earned", st.Earned, 155220},
		{"Seconds", st.Seconds, 36000},
		{"HourlyEffective", st.HourlyEffective, 15522},
		{"MinimumWage.HourlyMinor", f.MinimumWage.HourlyMinor, 12050},
		{"RequiredHourly", f.RequiredHourly, 24100},
		{"Required", f.Required, 241000},
		{"TopUp", f.TopUp, 85780},
		{"Total", st.Total, 241000},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if f.Rate != "1" || f.Multiplier != "2" || f.InForce.Line != 2 || f.InForce.Source != "Kenya Regulation of Wages Order 2026" || f.MinimumWage.Currency != "KES" {
		t.Errorf("floor = %+v", f)
	}
	if got := FormatMinor(f.TopUp, st.PayoutCurrency); got != "857.80" {
		t.Errorf("top-up formatted %q, want 857.80", got)
	}
}

// 2000 annotations × 0.04 USD = 8000 cents; × 129.35 = 1034800 KES cents = 10348.00 KES, above the
// 2410.00 KES required for 10 hours: no top-up, hourly 1034800 / 10 = 103480.
func TestAboveFloorNoTopUp(t *testing.T) {
	st := compute(t, kenyan, "2026-05", Line{Project: "p-usd", Kind: KindAnnotation, Currency: "USD", Count: 2000, Amount: 8000, Seconds: 36000})
	if st.Earned != 1034800 || st.Floor.Required != 241000 || st.Floor.TopUp != 0 || st.Total != 1034800 || st.HourlyEffective != 103480 {
		t.Errorf("earned %d required %d top-up %d total %d hourly %d; want 1034800 241000 0 1034800 103480",
			st.Earned, st.Floor.Required, st.Floor.TopUp, st.Total, st.HourlyEffective)
	}
}

// 10 USD cents × 129.35 = 1293.5 → 1294 (even); 30 × 129.35 = 3880.5 → 3880 (even, where rounding
// half up would give 3881). Each line is rounded on its own: Earned = 1294 + 3880 = 5174.
func TestHalfEvenConversion(t *testing.T) {
	st := compute(t, kenyan, "2026-05",
		Line{Project: "a", Kind: KindGold, Currency: "USD", Count: 1, Amount: 10},
		Line{Project: "b", Kind: KindGold, Currency: "USD", Count: 3, Amount: 30})
	if st.Lines[0].AmountPayout != 1294 || st.Lines[1].AmountPayout != 3880 || st.Earned != 5174 {
		t.Errorf("converted %d, %d, earned %d; want 1294, 3880, 5174", st.Lines[0].AmountPayout, st.Lines[1].AmountPayout, st.Earned)
	}
}

// A Ugandan annotator paid in UGX (no minor unit) for a USD project, 4 hours:
//
//	1234 cents × 3750.25 × 10^(0−2) = 46278.085 → 46278 UGX
//	required 2 × 2000 × 4 = 16000 UGX: no top-up
//	hourly 46278 / 4 = 11569.5 → 11570 (half to even)
func TestUGXPayout(t *testing.T) {
	st := compute(t, Person{ID: "ann-ug-1", Country: "UG", PayoutCurrency: "UGX"}, "2026-05",
		Line{Project: "p-usd", Kind: KindAnnotation, Currency: "USD", Count: 100, Amount: 1234, Seconds: 4 * 3600})
	if st.Earned != 46278 || st.Floor.RequiredHourly != 4000 || st.Floor.Required != 16000 || st.Floor.TopUp != 0 || st.Total != 46278 || st.HourlyEffective != 11570 {
		t.Errorf("got %+v", st)
	}
	if got := FormatMinor(st.Total, "UGX"); got != "46278" {
		t.Errorf("total formatted %q", got)
	}
}

// An annotator in Kuwait paid in KWD (three decimals) for a USD project, 10 hours:
//
//	1200 cents × 0.3075 × 10^(3−2) = 3690 fils = 3.690 KWD; 7 cents × 3.075 = 21.525 → 22 fils
//	earned 3712 fils; required 2 × 375 × 10 = 7500 fils; top-up 3788 fils = 3.788 KWD
//	hourly 3712 × 3600 / 36000 = 371.2 → 371 fils
func TestKWDPayout(t *testing.T) {
	st := compute(t, Person{ID: "ann-kw-1", Country: "KW", PayoutCurrency: "KWD"}, "2026-05",
		Line{Project: "p-usd", Kind: KindAnnotation, Currency: "USD", Count: 300, Amount: 1200, Seconds: 36000},
		Line{Project: "p-usd", Kind: KindBonus, Currency: "USD", Count: 1, Amount: 7})
	if st.Lines[0].AmountPayout != 3690 || st.Lines[1].AmountPayout != 22 || st.Earned != 3712 ||
		st.Floor.Required != 7500 || st.Floor.TopUp != 3788 || st.Total != 7500 || st.HourlyEffective != 371 {
		t.Errorf("got %+v", st)
	}
	if got := FormatMinor(st.Floor.TopUp, "KWD"); got != "3.788" {
		t.Errorf("top-up formatted %q", got)
	}
}

// A Kenyan annotator paid in USD: only USD→KES is listed, so the minimum converts at 1/129.35.
//
//	minimum 12050 KES cents/h × 1/129.35 = 241000/2587 = 93.158… → 93 US cents/h
//	required hourly 2 × 241000/2587 = 186.316… → 186
//	required 482000/2587 × 10 h = 1863.16… → 1863, computed exactly; from the rounded
//	figures it would have been 1860 (186 × 10) or 1860 (2 × 93 × 10)
//	earned 1200, top-up 663, total 1863
func TestReverseRateAndExactRequired(t *testing.T) {
	st := compute(t, Person{ID: "ann-ke-2", Country: "KE", PayoutCurrency: "USD"}, "2026-05",
		Line{Project: "p-usd", Kind: KindAnnotation, Currency: "USD", Count: 300, Amount: 1200, Seconds: 36000})
	f := st.Floor
	if st.Lines[0].Rate != "1" || f.Rate != "1/129.3500" {
		t.Errorf("rates %q, %q; want 1 and 1/129.3500", st.Lines[0].Rate, f.Rate)
	}
	if f.MinimumWage.HourlyMinor != 93 || f.MinimumWage.Currency != "USD" || f.InForce.HourlyMinor != 12050 || f.InForce.Currency != "KES" ||
		f.RequiredHourly != 186 || f.Required != 1863 || f.TopUp != 663 || st.Total != 1863 {
		t.Errorf("floor %+v total %d", f, st.Total)
	}
}

func TestRates(t *testing.T) {
	r, err := ReadRates("rates.csv", strings.NewReader("from,to,rate\nUSD,KES,129.3500\nKES,EUR,0.0071\nEUR,KES,140.25\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to string
		want     *big.Rat
	}{
		{"USD", "KES", big.NewRat(12935, 100)},
		{"KES", "USD", big.NewRat(100, 12935)}, // reverse: only USD,KES listed
		{"KES", "EUR", big.NewRat(71, 10000)},  // listed both ways: the listed pair wins
		{"EUR", "KES", big.NewRat(14025, 100)},
		{"KES", "KES", big.NewRat(1, 1)},
	} {
		got, err := r.Rate(tc.from, tc.to)
		if err != nil || got.Cmp(tc.want) != 0 {
			t.Errorf("Rate(%s, %s) = %v, %v; want %v", tc.from, tc.to, got, err, tc.want)
		}
	}
	got, _ := r.Rate("USD", "KES")
	got.SetInt64(1)
	if again, _ := r.Rate("USD", "KES"); again.Cmp(big.NewRat(12935, 100)) != 0 {
		t.Errorf("changing a returned rate changed the table: %v", again)
	}
	_, err = r.Rate("USD", "EUR") // no chaining through KES
	var nr *NoRateError
	if !errors.As(err, &nr) || nr.From != "USD" || nr.To != "EUR" || !strings.Contains(err.Error(), "USD→EUR") {
		t.Errorf("Rate(USD, EUR) error = %v, want one naming USD→EUR", err)
	}
}

func TestMissingRate(t *testing.T) {
	w, r := tables(t)
	_, err := Compute(Person{ID: "x", Country: "KE", PayoutCurrency: "EUR"}, "2026-05",
		[]Line{{Project: "p", Kind: KindAnnotation, Currency: "USD", Count: 1, Amount: 4, Seconds: 60}}, w, r, "2")
	var nr *NoRateError
	if !errors.As(err, &nr) || !strings.Contains(err.Error(), "USD→EUR") || !strings.Contains(err.Error(), "rates.csv") {
		t.Errorf("error = %v, want one naming USD→EUR in rates.csv", err)
	}
}

func TestMissingMinimumWage(t *testing.T) {
	w, r := tables(t)
	for _, tc := range []struct{ country, month string }{{"NG", "2026-05"}, {"KE", "2025-12"}} {
		_, err := Compute(Person{ID: "x", Country: tc.country, PayoutCurrency: "USD"}, tc.month, nil, w, r, "2")
		var nm *NoMinimumWageError
		if !errors.As(err, &nm) || !strings.Contains(err.Error(), tc.country) || !strings.Contains(err.Error(), tc.month) {
			t.Errorf("%s %s: error = %v, want one naming the country and the month", tc.country, tc.month, err)
		}
	}
}

func TestWageInForce(t *testing.T) {
	w, err := ReadWageTable("wages.csv", strings.NewReader(wagesCSV+"KE,KES,130.00,2026-08-15,Kenya mid-month fixture\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		month string
		want  int64
		line  int
	}{
		{"2026-01", 10000, 3}, {"2026-04", 10000, 3}, {"2026-05", 12050, 2}, {"2026-08", 12050, 2}, {"2026-09", 13000, 6}, {"2031-01", 13000, 6},
	} {
		got, err := w.For("KE", tc.month)
		if err != nil || got.HourlyMinor != tc.want || got.Line != tc.line {
			t.Errorf("For(KE, %s) = %+v, %v; want %d from line %d", tc.month, got, err, tc.want, tc.line)
		}
	}
	if _, err := w.For("KE", "2026-5"); err == nil {
		t.Error("For(KE, 2026-5) accepted a malformed month")
	}
	// The same work in April is checked against the 100.00 KES row: required 2 × 10000 × 10 = 200000.
	_, r := tables(t)
	st, err := Compute(kenyan, "2026-04", []Line{{Project: "p", Kind: KindAnnotation, Currency: "USD", Count: 300, Amount: 1200, Seconds: 36000}}, w, r, "")
	if err != nil || st.Floor.Required != 200000 || st.Floor.TopUp != 200000-155220 || st.Floor.Multiplier != "2" {
		t.Errorf("April: %+v, %v", st.Floor, err)
	}
}

// A bonus with no time worked: nothing is required, no top-up, hourly 0.
// 500 cents × 129.35 = 64675 KES cents.
func TestNoTimeWorked(t *testing.T) {
	st := compute(t, kenyan, "2026-05", Line{Project: "p", Kind: KindBonus, Currency: "USD", Count: 1, Amount: 500})
	if st.Earned != 64675 || st.Seconds != 0 || st.HourlyEffective != 0 || st.Floor.Required != 0 || st.Floor.TopUp != 0 || st.Total != 64675 {
		t.Errorf("got %+v", st)
	}
	st = compute(t, kenyan, "2026-05")
	if st.Total != 0 || st.Floor.MinimumWage.HourlyMinor != 12050 || len(st.Lines) != 0 {
		t.Errorf("no lines: %+v", st)
	}
}

func TestMultiplier(t *testing.T) {
	w, r := tables(t)
	lines := []Line{{Project: "p", Kind: KindAnnotation, Currency: "USD", Count: 300, Amount: 1200, Seconds: 36000}}
	// 3 × 12050 × 10 = 361500; 2.5 × 12050 = 30125/h, × 10 = 301250.
	for m, want := range map[string]int64{"3": 361500, "2.5": 301250, "": 241000, "1": 120500} {
		st, err := Compute(kenyan, "2026-05", lines, w, r, m)
		if err != nil || st.Floor.Required != want {
			t.Errorf("multiplier %q: required %d, %v; want %d", m, st.Floor.Required, err, want)
		}
	}
	for _, m := range []string{"0.9", "0", "-2", "two", "2x"} {
		if _, err := Compute(kenyan, "2026-05", lines, w, r, m); err == nil {
			t.Errorf("multiplier %q accepted", m)
		}
	}
}

func TestComputeRejects(t *testing.T) {
	w, r := tables(t)
	ok := Line{Project: "p", Kind: KindAnnotation, Currency: "USD", Count: 1, Amount: 4, Seconds: 60}
	for name, tc := range map[string]struct {
		p     Person
		month string
		line  Line
		want  string
	}{
		"negative amount": {kenyan, "2026-05", Line{Project: "p", Kind: KindAnnotation, Currency: "USD", Amount: -4}, "negative"},
		"negative time":   {kenyan, "2026-05", Line{Project: "p", Kind: KindAnnotation, Currency: "USD", Seconds: -1}, "seconds"},
		"unknown kind":    {kenyan, "2026-05", Line{Project: "p", Kind: "penalty", Currency: "USD", Amount: 4}, "penalty"},
		"bad currency":    {kenyan, "2026-05", Line{Project: "p", Kind: KindAnnotation, Currency: "usd", Amount: 4}, "usd"},
		"bad payout":      {Person{ID: "x", Country: "KE", PayoutCurrency: "Ksh"}, "2026-05", ok, "Ksh"},
		"bad country":     {Person{ID: "x", Country: "Kenya", PayoutCurrency: "KES"}, "2026-05", ok, "Kenya"},
		"bad month":       {kenyan, "May 2026", ok, "May 2026"},
	} {
		_, err := Compute(tc.p, tc.month, []Line{tc.line}, w, r, "2")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want one mentioning %q", name, err, tc.want)
		}
	}
}

func TestMalformedFiles(t *testing.T) {
	const wh = "country,currency,hourly_minimum,effective_from,source\n"
	const rh = "from,to,rate\n"
	for name, tc := range map[string]struct {
		rates bool
		data  string
		want  []string
	}{
		"bad decimal":         {false, wh + "KE,KES,12O.50,2026-05-01,Order\n", []string{"wages.csv:2:", "hourly_minimum", "12O.50"}},
		"comma decimal":       {false, wh + "KE,KES,\"120,50\",2026-05-01,Order\n", []string{"wages.csv:2:", "hourly_minimum"}},
		"finer than minor":    {false, wh + "KE,KES,120.505,2026-05-01,Order\n", []string{"wages.csv:2:", "hourly_minimum", "decimal places"}},
		"zero minimum":        {false, wh + "KE,KES,0,2026-05-01,Order\n", []string{"wages.csv:2:", "hourly_minimum"}},
		"bad date":            {false, wh + "KE,KES,120.50,2026-13-01,Order\n", []string{"wages.csv:2:", "effective_from", "2026-13-01"}},
		"date not ISO":        {false, wh + "KE,KES,120.50,01/05/2026,Order\n", []string{"wages.csv:2:", "effective_from"}},
		"unknown currency":    {false, wh + "KE,KSh,120.50,2026-05-01,Order\n", []string{"wages.csv:2:", "currency", "KSh"}},
		"bad country":         {false, wh + "KEN,KES,120.50,2026-05-01,Order\n", []string{"wages.csv:2:", "country"}},
		"no source":           {false, wh + "KE,KES,120.50,2026-05-01,\n", []string{"wages.csv:2:", "source"}},
		"missing header col":  {false, "country,currency,hourly_minimum,effective_from\nKE,KES,120.50,2026-05-01\n", []string{"wages.csv:1:", "source", "missing"}},
		"missing row col":     {false, wh + "KE,KES,120.50,2026-05-01\n", []string{"wages.csv:2:", "source", "missing"}},
		"line after blank":    {false, wh + "KE,KES,120.50,2026-05-01,Order\n\nUG,UGX,x,2026-05-01,Order\n", []string{"wages.csv:4:", "hourly_minimum"}},
		"duplicate wage":      {false, wh + "KE,KES,120.50,2026-05-01,Order\nKE,KES,121.00,2026-05-01,Other\n", []string{"wages.csv:3:", "effective_from", "wages.csv:2"}},
		"empty wages":         {false, "", []string{"wages.csv:1:", "empty"}},
		"csv syntax":          {false, wh + "KE,KES,\"120.50,2026-05-01,Order\n", []string{"wages.csv:"}},
		"negative rate":       {true, rh + "USD,KES,-129.35\n", []string{"rates.csv:2:", "rate", "negative"}},
		"zero rate":           {true, rh + "USD,KES,0.0000\n", []string{"rates.csv:2:", "rate", "greater than zero"}},
		"bad rate":            {true, rh + "USD,KES,129.35.1\n", []string{"rates.csv:2:", "rate"}},
		"exponent rate":       {true, rh + "USD,KES,1.2935e2\n", []string{"rates.csv:2:", "rate"}},
		"too precise rate":    {true, rh + "USD,KES,129.35000000001\n", []string{"rates.csv:2:", "rate", "10 decimal places"}},
		"unknown from":        {true, rh + "usd,KES,129.35\n", []string{"rates.csv:2:", "from", "usd"}},
		"unknown to":          {true, rh + "USD,KSHS,129.35\n", []string{"rates.csv:2:", "to", "KSHS"}},
		"identity not 1":      {true, rh + "USD,USD,1.01\n", []string{"rates.csv:2:", "rate"}},
		"duplicate pair":      {true, rh + "USD,KES,129.35\nEUR,KES,140\nUSD,KES,129.40\n", []string{"rates.csv:4:", "rates.csv:2", "USD→KES"}},
		"missing rate column": {true, "from,to\nUSD,KES\n", []string{"rates.csv:1:", "rate", "missing"}},
		"missing rate field":  {true, rh + "USD,KES\n", []string{"rates.csv:2:", "rate", "missing"}},
	} {
		var err error
		if tc.rates {
			_, err = ReadRates("rates.csv", strings.NewReader(tc.data))
		} else {
			_, err = ReadWageTable("wages.csv", strings.NewReader(tc.data))
		}
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", name, err, w)
			}
		}
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v is not a *FileError", name, err)
		}
	}
}

func TestTableConveniences(t *testing.T) {
	// Columns in another order, an extra column, spaces, a byte-order mark and a blank row.
	data := "\ufeffsource, effective_from ,country,currency,hourly_minimum,notes\n" +
		"Order, 2026-05-01 ,KE, KES ,120.50,checked\n,,,,,\n"
	w, err := ReadWageTable("wages.csv", strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := w.For("KE", "2026-05"); err != nil || got.HourlyMinor != 12050 || got.Currency != "KES" || got.Line != 2 {
		t.Errorf("For = %+v, %v", got, err)
	}
	// Every bad row is reported at once.
	_, err = ReadRates("rates.csv", strings.NewReader("from,to,rate\nUSD,KES,x\nUSD,UGX,0\n"))
	if err == nil || !strings.Contains(err.Error(), "rates.csv:2:") || !strings.Contains(err.Error(), "rates.csv:3:") {
		t.Errorf("error = %v, want both lines", err)
	}
}

// Whatever the lines, the total is at least what was earned and at least what the floor requires,
// and the top-up is exactly the shortfall.
func TestInvariants(t *testing.T) {
	w, r := tables(t)
	amounts := []int64{0, 1, 7, 10, 30, 999, 1200, 123457}
	seconds := []int64{0, 1, 59, 3600, 36000, 86399}
	for _, p := range []Person{kenyan, {ID: "u", Country: "UG", PayoutCurrency: "UGX"}, {ID: "k", Country: "KE", PayoutCurrency: "USD"}, {ID: "w", Country: "KW", PayoutCurrency: "KWD"}} {
		for i, a := range amounts {
			for j, s := range seconds {
				lines := []Line{
					{Project: "p", Kind: KindAnnotation, Currency: "USD", Count: i, Amount: a, Seconds: s},
					{Project: "q", Kind: KindArbitration, Currency: "USD", Count: j, Amount: amounts[(i+j)%len(amounts)], Seconds: seconds[(i*j)%len(seconds)]},
				}
				st, err := Compute(p, "2026-05", lines, w, r, "2")
				if err != nil {
					t.Fatal(err)
				}
				sum := st.Lines[0].AmountPayout + st.Lines[1].AmountPayout
				f := st.Floor
				if st.Earned != sum || f.TopUp < 0 || st.Total != st.Earned+f.TopUp || st.Total != max(st.Earned, f.Required) ||
					(st.Seconds == 0 && (f.Required != 0 || st.HourlyEffective != 0)) {
					t.Errorf("%s %v: %+v", p.ID, lines, st)
				}
			}
		}
	}
}

func BenchmarkCompute(b *testing.B) {
	w, _ := tables(b)
	r, err := ReadRates("rates.csv", strings.NewReader(ratesCSV+"EUR,KES,140.2500\nKES,GBP,0.0061\n"))
	if err != nil {
		b.Fatal(err)
	}
	currencies := []string{"USD", "EUR", "GBP", "KES"}
	kinds := []string{KindAnnotation, KindArbitration, KindGold, KindBonus}
	lines := make([]Line, 20)
	for i := range lines {
		lines[i] = Line{Project: fmt.Sprintf("p-%d", i), Kind: kinds[i%4], Currency: currencies[i%4], Count: 10 * i, Amount: int64(37*i + 11), Seconds: int64(900 * i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(kenyan, "2026-05", lines, w, r, "2"); err != nil {
			b.Fatal(err)
		}
	}
}

// A USD project paid out in Paraguayan guaraní, which has no minor unit: 12.00 USD at 7300 PYG
// is 87600 PYG, not 876.00.
func TestPYGPayout(t *testing.T) {
	w, err := ReadWageTable("wages.csv", strings.NewReader(wagesCSV+"PY,PYG,14000,2026-01-01,Paraguay fixture\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ReadRates("rates.csv", strings.NewReader("from,to,rate\nUSD,PYG,7300\n"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := Compute(Person{ID: "py", Country: "PY", PayoutCurrency: "PYG"}, "2026-05",
		[]Line{{Project: "p", Kind: KindAnnotation, Currency: "USD", Count: 300, Amount: 1200, Seconds: 3600}}, w, r, "2")
	if err != nil {
		t.Fatal(err)
	}
	if st.Earned != 87600 || st.Floor.Required != 28000 || st.Floor.TopUp != 0 || FormatMinor(st.Total, "PYG") != "87600" {
		t.Errorf("statement %+v", st)
	}
}

// Imported rates say where each comes from and the day they were taken: in the month or after
// it (the day it is paid), never before it nor in the future.
func TestRatesCheckDated(t *testing.T) {
	const head = "from,to,rate,source,date\n"
	today := time.Date(2026, 6, 3, 10, 0, 0, 0, time.UTC)
	good := head + "USD,KES,129.35,Central Bank of Kenya,2026-05-29\nUSD,UGX,3700,Bank of Uganda,2026-06-03\n"
	r, err := ReadRates("rates.csv", strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CheckDated("2026-05", today); err != nil {
		t.Errorf("dated rates refused: %v", err)
	}
	if err := r.CheckDated("2026-06", today); err == nil || !strings.Contains(err.Error(), "rates.csv:2: date: 2026-05-29 is before 2026-06") ||
		strings.Contains(err.Error(), "rates.csv:3") {
		t.Errorf("rates of the month before: %v", err)
	}
	pairs := r.Pairs()
	if len(pairs) != 2 || pairs[0].Source != "Central Bank of Kenya" || pairs[0].Date.Format(time.DateOnly) != "2026-05-29" || pairs[1].Line != 3 {
		t.Errorf("pairs %+v", pairs)
	}
	for name, tc := range map[string]struct{ data, want string }{
		"no dated columns": {"from,to,rate\nUSD,KES,129.35\n", "rates.csv:1: source: column is missing"},
		"no source":        {head + "USD,KES,129.35,,2026-05-29\n", "rates.csv:2: source: is required"},
		"no date":          {head + "USD,KES,129.35,CBK,\n", "rates.csv:2: date: is required"},
		"future":           {head + "USD,KES,129.35,CBK,2026-06-04\n", "rates.csv:2: date: 2026-06-04 is after today (2026-06-03)"},
	} {
		r, err := ReadRates("rates.csv", strings.NewReader(tc.data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := r.CheckDated("2026-05", today); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
	}
	if _, err := ReadRates("rates.csv", strings.NewReader(head+"USD,KES,129.35,CBK,29/05/2026\n")); err == nil || !strings.Contains(err.Error(), "rates.csv:2: date") {
		t.Errorf("a date that is no date: %v", err)
	}
}

// A month without a rates file converts nothing, and says which file is missing; the same
// currency needs no rate.
func TestMissingRates(t *testing.T) {
	r := MissingRates("finance/rates/2026-05.csv")
	if !r.Covers("KES", "KES") || r.Covers("USD", "KES") {
		t.Error("Covers")
	}
	w, _ := tables(t)
	st, err := Compute(kenyan, "2026-05", []Line{{Project: "p", Kind: KindAnnotation, Currency: "KES", Count: 1, Amount: 500, Seconds: 60}}, w, r, "2")
	if err != nil || st.Earned != 500 {
		t.Errorf("KES work paid in KES: %+v, %v", st, err)
	}
	_, err = Compute(kenyan, "2026-05", []Line{{Project: "p", Kind: KindAnnotation, Currency: "USD", Count: 1, Amount: 4, Seconds: 60}}, w, r, "2")
	var nr *NoRateError
	if !errors.As(err, &nr) || !nr.NoFile || !strings.Contains(err.Error(), "no exchange rate USD→KES: there are no exchange rates at finance/rates/2026-05.csv") {
		t.Errorf("USD work without a rates file: %v", err)
	}
}

func TestWageRows(t *testing.T) {
	w, _ := tables(t)
	var got []string
	for _, r := range w.Rows() {
		got = append(got, r.Country+" "+r.EffectiveFrom.Format(time.DateOnly))
	}
	if strings.Join(got, ",") != "KE 2026-01-01,KE 2026-05-01,KW 2026-01-01,UG 2026-01-01" {
		t.Errorf("rows %v", got)
	}
}
