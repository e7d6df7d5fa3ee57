package payoutdetails

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/labelflow/labelflow/internal/linecheck"
)

// Columns are the payout detail columns of a details file and of a roster file alike.
var Columns = []string{"account_holder", "iban", "bic", "account_number", "bank_code", "msisdn", "operator"}

// FromColumns reads a person's details from the detail columns of one CSV line (get gives the
// trimmed value of a column, "" when absent). ok is false when the line gives no details at all.
func FromColumns(person string, get func(column string) string) (d Details, ok bool) {
	d = Details{Person: person, Holder: get("account_holder"), IBAN: get("iban"), BIC: get("bic"),
		AccountNumber: get("account_number"), BankCode: get("bank_code"), MSISDN: get("msisdn"), Operator: get("operator")}
	return d, d != Details{Person: person}
}

// LineError is a bad line of a details file; ImportError lists them all.
type (
	LineError   = linecheck.LineError
	ImportError = linecheck.ImportError
)

// Entry is one line of a details file.
type Entry struct {
	Details Details
	File    string
	Line    int
}

// ParseCSV reads a details file: a header row naming id and account_holder and any of the other
// Columns, in any order, then one line per person. Every bad line is reported with its file, line
// and field, and no entry is returned unless all are good. Messages never repeat an account.
func ParseCSV(file string, r io.Reader) ([]Entry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	col, err := readHeader(file, cr)
	if err != nil {
		return nil, err
	}
	ie := &ImportError{What: "payout details"}
	seen := map[string]int{}
	var entries []Entry
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			ie.Lines = append(ie.Lines, LineError{File: file, Line: pe.StartLine, Field: "(line)", Msg: pe.Err.Error()})
			continue
		}
		line, _ := cr.FieldPos(0)
		e, bad := readLine(file, line, col, rec, seen)
		ie.Lines = append(ie.Lines, bad...)
		entries = append(entries, e)
	}
	if len(ie.Lines) > 0 {
		return nil, ie
	}
	return entries, nil
}

// readLine reads and checks one line; seen remembers the line of each id.
func readLine(file string, line int, col map[string]int, rec []string, seen map[string]int) (Entry, []LineError) {
	get := func(c string) string {
		if i, ok := col[c]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var bad []LineError
	id := get("id")
	switch first, dup := seen[id]; {
	case !personPattern.MatchString(id):
		bad = append(bad, LineError{File: file, Line: line, Field: "id", Msg: fmt.Sprintf("must be a roster id, got %q", id)})
	case dup:
		bad = append(bad, LineError{File: file, Line: line, Field: "id", Msg: fmt.Sprintf("%q already on line %d", id, first)})
	default:
		seen[id] = line
	}
	d, _ := FromColumns(id, get)
	for _, fe := range d.Check() {
		bad = append(bad, LineError{File: file, Line: line, Field: fe.Field, Msg: fe.Msg})
	}
	return Entry{Details: d, File: file, Line: line}, bad
}

func readHeader(file string, cr *csv.Reader) (map[string]int, error) {
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: header: %w", file, err)
	}
	known := append([]string{"id"}, Columns...)
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(known, h) {
			return nil, fmt.Errorf("%s:1: header: unknown column %q (columns: %s)", file, h, strings.Join(known, ","))
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("%s:1: header: column %q appears twice", file, h)
		}
		col[h] = i
	}
	for _, c := range []string{"id", "account_holder"} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s:1: header: column %q is missing", file, c)
		}
	}
	return col, nil
}
