package earnings

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"
)

// FileError is a problem in a finance table: the file, the 1-based line and, when one is at fault,
// the column named in the header.
type FileError struct {
	File   string
	Line   int
	Column string
	Msg    string
}

func (e *FileError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Column, e.Msg)
}

// csvRow is one data row of a finance table, its fields looked up by column name.
type csvRow struct {
	file   string
	line   int
	fields map[string]string
}

func (r csvRow) errorf(column, format string, args ...any) *FileError {
	return &FileError{File: r.file, Line: r.line, Column: column, Msg: fmt.Sprintf(format, args...)}
}

// readCSV reads a finance table whose header row names at least columns, in any order, and
// perhaps the optional ones, which a row's fields then hold too; other columns are ignored.
// Fields are trimmed of surrounding spaces; rows whose fields are all blank are skipped; a UTF-8
// byte-order mark before the header is ignored. Every bad row is reported, as *FileError values
// joined with errors.Join; a CSV syntax error stops the reading.
func readCSV(file string, r io.Reader, columns, optional []string, row func(csvRow) []error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return &FileError{File: file, Line: 1, Msg: fmt.Sprintf("the file is empty, want a header row %s", strings.Join(columns, ","))}
	}
	if err != nil {
		return syntaxError(file, err)
	}
	headerLine, _ := cr.FieldPos(0)
	index := map[string]int{}
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		name = strings.TrimSpace(name)
		if _, dup := index[name]; dup && name != "" {
			return &FileError{File: file, Line: headerLine, Column: name, Msg: "the header names this column twice"}
		}
		index[name] = i
	}
	var errs []error
	for _, c := range columns {
		if _, ok := index[c]; !ok {
			errs = append(errs, &FileError{File: file, Line: headerLine, Column: c,
				Msg: fmt.Sprintf("column is missing from the header (want %s)", strings.Join(columns, ","))})
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	read := slices.Clone(columns)
	for _, c := range optional {
		if _, ok := index[c]; ok {
			read = append(read, c)
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, syntaxError(file, err))
			break
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		cur := csvRow{file: file, line: line, fields: make(map[string]string, len(read))}
		short := false
		for _, c := range read {
			i := index[c]
			if i >= len(rec) {
				errs = append(errs, cur.errorf(c, "column is missing: the row has %d fields, the header %d", len(rec), len(header)))
				short = true
				continue
			}
			cur.fields[c] = strings.TrimSpace(rec[i])
		}
		if short {
			continue
		}
		if len(rec) > len(header) {
			errs = append(errs, cur.errorf("", "the row has %d fields, the header only %d", len(rec), len(header)))
			continue
		}
		errs = append(errs, row(cur)...)
	}
	return errors.Join(errs...)
}

func syntaxError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FileError{File: file, Line: pe.Line, Msg: fmt.Sprintf("column %d: %v", pe.Column, pe.Err)}
	}
	return fmt.Errorf("%s: %w", file, err)
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// MinimumWage is one row of the minimum wage table: the statutory hourly minimum of a country from
// a date on, in integer minor units of Currency per hour. Line is its line in the table.
type MinimumWage struct {
	Country       string    `json:"country"`
	Currency      string    `json:"currency"`
	HourlyMinor   int64     `json:"hourly_minor"`
	EffectiveFrom time.Time `json:"effective_from"`
	Source        string    `json:"source"`
	Line          int       `json:"line"`
}

// WageTable is the minimum wage table maintained by finance.
type WageTable struct {
	file string
	rows map[string][]MinimumWage // country → rows, by EffectiveFrom ascending
}

// Columns of the minimum wage table.
var wageColumns = []string{"country", "currency", "hourly_minimum", "effective_from", "source"}

// ReadWageTable reads the minimum wage table, a CSV file whose header names the columns
// country,currency,hourly_minimum,effective_from,source (in any order; other columns are ignored):
//
//	KE,KES,120.50,2026-05-01,Kenya Regulation of Wages Order 2026
//
// country is an ISO 3166-1 alpha-2 code, currency an ISO 4217 code, hourly_minimum a positive
// decimal in the currency's major unit with no more precision than its minor unit, effective_from a
// date YYYY-MM-DD and source the legal instrument (required). A country may have several rows with
// different effective_from dates; two rows for the same country and date are an error. Each error
// names file:line and the column.
func ReadWageTable(file string, r io.Reader) (*WageTable, error) {
	t := &WageTable{file: file, rows: map[string][]MinimumWage{}}
	seen := map[string]int{} // country + date → line
	err := readCSV(file, r, wageColumns, nil, func(row csvRow) []error {
		var errs []error
		w := MinimumWage{Country: row.fields["country"], Currency: row.fields["currency"], Source: row.fields["source"], Line: row.line}
		if !isUpper(w.Country, 2) {
			errs = append(errs, row.errorf("country", "%q is not an ISO 3166-1 alpha-2 code (two capital letters, such as KE)", w.Country))
		}
		exp, curErr := CurrencyExponent(w.Currency)
		if curErr != nil {
			errs = append(errs, row.errorf("currency", "%v", curErr))
		}
		text := row.fields["hourly_minimum"]
		h, err := parseDecimal(text, -1)
		switch {
		case err != nil:
			errs = append(errs, row.errorf("hourly_minimum", "%v", err))
		case h.Sign() == 0:
			errs = append(errs, row.errorf("hourly_minimum", "must be greater than zero"))
		case curErr != nil:
			// the precision cannot be checked without a known currency, already reported
		default:
			m := new(big.Rat).Mul(h, pow10(exp))
			switch {
			case !m.IsInt():
				errs = append(errs, row.errorf("hourly_minimum", "%q is finer than the minor unit of %s (%d decimal places)", text, w.Currency, exp))
			case !m.Num().IsInt64():
				errs = append(errs, row.errorf("hourly_minimum", "%q is too large", text))
			default:
				w.HourlyMinor = m.Num().Int64()
			}
		}
		d, err := time.Parse(time.DateOnly, row.fields["effective_from"])
		if err != nil {
			errs = append(errs, row.errorf("effective_from", "%q is not a date YYYY-MM-DD", row.fields["effective_from"]))
		}
		w.EffectiveFrom = d
		if w.Source == "" {
			errs = append(errs, row.errorf("source", "is required: name the legal instrument that sets this minimum"))
		}
		if len(errs) > 0 {
			return errs
		}
		key := w.Country + " " + d.Format(time.DateOnly)
		if prev, dup := seen[key]; dup {
			return []error{row.errorf("effective_from", "%s already has a minimum wage effective from %s at %s:%d", w.Country, d.Format(time.DateOnly), file, prev)}
		}
		seen[key] = row.line
		t.rows[w.Country] = append(t.rows[w.Country], w)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, rows := range t.rows {
		sort.Slice(rows, func(i, j int) bool { return rows[i].EffectiveFrom.Before(rows[j].EffectiveFrom) })
	}
	return t, nil
}

// NoMinimumWageError reports that no row of the wage table is in force for a country in a month.
type NoMinimumWageError struct {
	File, Country, Month string
	Earliest             *MinimumWage // the country's earliest row, nil when it has none
}

func (e *NoMinimumWageError) Error() string {
	if e.Earliest == nil {
		return fmt.Sprintf("no minimum wage for %s in %s: %s has no row for %s", e.Country, e.Month, e.File, e.Country)
	}
	return fmt.Sprintf("no minimum wage for %s in %s: the earliest row for %s is effective from %s (%s:%d)",
		e.Country, e.Month, e.Country, e.Earliest.EffectiveFrom.Format(time.DateOnly), e.File, e.Earliest.Line)
}

// For returns the minimum wage of country in force for month (YYYY-MM): the row with the latest
// effective_from on or before the month's first day. A row effective from later in the month
// applies from the next month on.
func (t *WageTable) For(country, month string) (MinimumWage, error) {
	first, err := parseMonth(month)
	if err != nil {
		return MinimumWage{}, err
	}
	rows := t.rows[country]
	i := sort.Search(len(rows), func(i int) bool { return rows[i].EffectiveFrom.After(first) })
	if i == 0 {
		e := &NoMinimumWageError{File: t.file, Country: country, Month: month}
		if len(rows) > 0 {
			e.Earliest = &rows[0]
		}
		return MinimumWage{}, e
	}
	return rows[i-1], nil
}

// Rows lists every row of the table, by country and then by date.
func (t *WageTable) Rows() []MinimumWage {
	var out []MinimumWage
	for _, rows := range t.rows {
		out = append(out, rows...)
	}
	slices.SortFunc(out, func(a, b MinimumWage) int {
		if c := strings.Compare(a.Country, b.Country); c != 0 {
			return c
		}
		return a.EffectiveFrom.Compare(b.EffectiveFrom)
	})
	return out
}

func parseMonth(month string) (time.Time, error) {
	first, err := time.Parse("2006-01", month)
	if err != nil || len(month) != 7 {
		return time.Time{}, fmt.Errorf("month %q is not YYYY-MM", month)
	}
	return first, nil
}

// Rates holds the exchange rates of a month, read from the rates file.
type Rates struct {
	file  string
	pairs map[[2]string]rate
	// absent marks the rates of a month that has no rates file: every conversion between two
	// currencies fails, naming the missing file.
	absent bool
	// dated holds the dated columns (source, date) the header names.
	dated map[string]bool
}

type rate struct {
	value  *big.Rat
	text   string // as written in the file
	line   int
	source string    // where the rate comes from; "" when the file does not say
	date   time.Time // the day the rate was taken; zero when the file does not say
}

// Columns of the exchange rate table; imported rates name their source and date too.
var (
	rateColumns      = []string{"from", "to", "rate"}
	rateDatedColumns = []string{"source", "date"}
)

// maxRateDecimals is the precision finance publishes rates with.
const maxRateDecimals = 10

// ReadRates reads the exchange rates of a month, a CSV file whose header names the columns
// from,to,rate and, as finance imports them, source,date (in any order; other columns are
// ignored):
//
//	USD,KES,129.3500,Central Bank of Kenya,2026-05-29
//
// meaning 1 USD = 129.35 KES, as published by the source on that date. from and to are ISO 4217
// codes; rate is a decimal greater than zero with at most 10 decimal places; date, when given, is
// YYYY-MM-DD. A pair listed twice is an error naming both lines; a row from a currency to itself
// must have rate 1. Each error names file:line and the column. CheckDated requires the source and
// date of every row.
func ReadRates(file string, r io.Reader) (*Rates, error) {
	rs := &Rates{file: file, pairs: map[[2]string]rate{}, dated: map[string]bool{}}
	err := readCSV(file, r, rateColumns, rateDatedColumns, func(row csvRow) []error {
		for _, c := range rateDatedColumns {
			_, rs.dated[c] = row.fields[c]
		}
		v, errs := readRate(row)
		if len(errs) > 0 {
			return errs
		}
		pair := [2]string{row.fields["from"], row.fields["to"]}
		if prev, dup := rs.pairs[pair]; dup {
			return []error{row.errorf("", "%s→%s is listed twice, at %s:%d and %s:%d", pair[0], pair[1], file, prev.line, file, row.line)}
		}
		rs.pairs[pair] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}

// readRate checks one row of a rates file.
func readRate(row csvRow) (rate, []error) {
	var errs []error
	from, to := row.fields["from"], row.fields["to"]
	if _, err := CurrencyExponent(from); err != nil {
		errs = append(errs, row.errorf("from", "%v", err))
	}
	if _, err := CurrencyExponent(to); err != nil {
		errs = append(errs, row.errorf("to", "%v", err))
	}
	text := row.fields["rate"]
	v, err := parseDecimal(text, maxRateDecimals)
	switch {
	case err != nil:
		errs = append(errs, row.errorf("rate", "%v", err))
	case v.Sign() == 0:
		errs = append(errs, row.errorf("rate", "must be greater than zero"))
	case from == to && v.Cmp(big.NewRat(1, 1)) != 0:
		errs = append(errs, row.errorf("rate", "%s to itself must be 1, got %s", from, text))
	}
	out := rate{value: v, text: text, line: row.line, source: row.fields["source"]}
	if d := row.fields["date"]; d != "" {
		if out.date, err = time.Parse(time.DateOnly, d); err != nil {
			errs = append(errs, row.errorf("date", "%q is not a date YYYY-MM-DD", d))
		}
	}
	return out, errs
}

// MissingRates stands for the rates of a month whose rates file, file, is not there: a month
// whose people are paid in the currencies they earned in needs none, and any conversion fails
// naming the file.
func MissingRates(file string) *Rates {
	return &Rates{file: file, pairs: map[[2]string]rate{}, absent: true}
}

// CheckDated checks that every rate of month (YYYY-MM) says where it comes from and the day it was
// taken, as finance's import requires: a rate without a source cannot be checked. That day is on
// or after the month's first day (an earlier rate is another month's; a month's payroll may be
// converted at its last day's rate or at the rate of the day it is paid) and not after today. Each
// error names file:line and the column.
func (r *Rates) CheckDated(month string, today time.Time) error {
	first, err := parseMonth(month)
	if err != nil {
		return err
	}
	rows := r.Pairs()
	var errs []error
	for _, c := range rateDatedColumns {
		if len(rows) > 0 && !r.dated[c] {
			errs = append(errs, &FileError{File: r.file, Line: 1, Column: c,
				Msg: "column is missing from the header (want " + strings.Join(append(slices.Clone(rateColumns), rateDatedColumns...), ",") + ")"})
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	day := today.Format(time.DateOnly)
	for _, p := range rows {
		at := func(column, format string, args ...any) {
			errs = append(errs, &FileError{File: r.file, Line: p.Line, Column: column, Msg: fmt.Sprintf(format, args...)})
		}
		if p.Source == "" {
			at("source", "is required: name where the rate comes from (such as a central bank's published rate)")
		}
		switch d := p.Date.Format(time.DateOnly); {
		case p.Date.IsZero():
			at("date", "is required: the day the rate was taken, YYYY-MM-DD")
		case p.Date.Before(first):
			at("date", "%s is before %s: a rate taken before the month is another month's", d, month)
		case d > day:
			at("date", "%s is after today (%s)", d, day)
		}
	}
	return errors.Join(errs...)
}

// RatePair is one row of a rates file, as stored.
type RatePair struct {
	From   string    `json:"from"`
	To     string    `json:"to"`
	Rate   string    `json:"rate"` // as written in the file
	Source string    `json:"source,omitempty"`
	Date   time.Time `json:"date,omitzero"`
	Line   int       `json:"line"`
}

// Pairs lists the rows of the rates file in file order.
func (r *Rates) Pairs() []RatePair {
	out := make([]RatePair, 0, len(r.pairs))
	for k, v := range r.pairs {
		out = append(out, RatePair{From: k[0], To: k[1], Rate: v.text, Source: v.source, Date: v.date, Line: v.line})
	}
	slices.SortFunc(out, func(a, b RatePair) int { return a.Line - b.Line })
	return out
}

// Covers reports whether Rate(from, to) has an answer: the same currency, or a listed pair in
// either direction.
func (r *Rates) Covers(from, to string) bool {
	_, _, err := r.lookup(from, to)
	return err == nil
}

// NoRateError reports a missing exchange rate. NoFile is set when the month has no rates file
// at all.
type NoRateError struct {
	File, From, To string
	NoFile         bool
}

func (e *NoRateError) Error() string {
	if e.NoFile {
		return fmt.Sprintf("no exchange rate %s→%s: there are no exchange rates at %s (finance imports them: labelflow finance rates import FILE --month YYYY-MM)", e.From, e.To, e.File)
	}
	return fmt.Sprintf("no exchange rate %s→%s: %s lists neither %s,%s nor %s,%s", e.From, e.To, e.File, e.From, e.To, e.To, e.From)
}

// Rate returns how many units of to one unit of from is worth: 1 when from = to, the rate of the
// pair (from, to) when listed, else 1/rate of the pair (to, from) when that is listed. Rates are
// never chained through a third currency. The result is a fresh value the caller may modify.
func (r *Rates) Rate(from, to string) (*big.Rat, error) {
	v, _, err := r.lookup(from, to)
	return v, err
}

// lookup is Rate with the rate as used written out: "1" for identity, the file's text for a
// listed pair, "1/" and the file's text for a reversed one.
func (r *Rates) lookup(from, to string) (*big.Rat, string, error) {
	if from == to {
		return big.NewRat(1, 1), "1", nil
	}
	if p, ok := r.pairs[[2]string{from, to}]; ok {
		return new(big.Rat).Set(p.value), p.text, nil
	}
	if p, ok := r.pairs[[2]string{to, from}]; ok {
		return new(big.Rat).Inv(p.value), "1/" + p.text, nil
	}
	return nil, "", &NoRateError{File: r.file, From: from, To: to, NoFile: r.absent}
}

// Convert turns an amount in minor units of from into minor units of to at the month's rate,
// rounded half to even as statements are.
func (r *Rates) Convert(minor int64, from, to string) (int64, error) {
	cs := converters{rates: r, payout: to, known: map[string]converter{}}
	var err error
	if cs.payExp, err = CurrencyExponent(to); err != nil {
		return 0, err
	}
	c, err := cs.of(from)
	if err != nil {
		return 0, err
	}
	v, ok := roundHalfEven(new(big.Rat).Mul(big.NewRat(minor, 1), c.factor))
	if !ok {
		return 0, fmt.Errorf("%d %s in %s is out of range", minor, from, to)
	}
	return v, nil
}
