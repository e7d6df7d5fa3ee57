package aggregate

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// ParseError reports a problem in an answers or truth file at a 1-based line and column. Column
// is the 1-based field number on that line (the spreadsheet column), except for malformed quoting,
// where it is the 1-based byte position the CSV reader reports.
type ParseError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// table reads a CSV file whose header names (at least) the wanted columns, in any order. Header
// names are matched after trimming spaces, ignoring case and a leading byte-order mark; other
// columns are ignored.
type table struct {
	file string
	cr   *csv.Reader
	want []string
	col  []int // field index of each wanted column
}

func openTable(file string, r io.Reader, delimiter rune, want ...string) (*table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // short lines are reported by next, with their position
	cr.Comma = delimiter
	cr.ReuseRecord = true
	t := &table{file: file, cr: cr, want: want, col: make([]int, len(want))}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{file, 1, 1, fmt.Sprintf("empty file: want a header naming the columns %s", strings.Join(want, ","))}
	}
	if err != nil {
		return nil, t.wrap(err)
	}
	line, _ := cr.FieldPos(0)
	for k := range t.col {
		t.col[k] = -1
	}
	names := make([]string, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		names[i] = strings.ToLower(strings.TrimSpace(h))
		for k, w := range want {
			if names[i] != w {
				continue
			}
			if t.col[k] >= 0 {
				return nil, &ParseError{file, line, i + 1, fmt.Sprintf("header names the %q column twice (columns %d and %d)", w, t.col[k]+1, i+1)}
			}
			t.col[k] = i
		}
	}
	for k, w := range want {
		if t.col[k] < 0 {
			return nil, &ParseError{file, line, 1, fmt.Sprintf("header has no %q column: want %s, have %s", w, strings.Join(want, ","), strings.Join(names, ","))}
		}
	}
	return t, nil
}

// wrap turns a CSV syntax error into a ParseError naming the file.
func (t *table) wrap(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{t.file, pe.Line, pe.Column, pe.Err.Error()}
	}
	return fmt.Errorf("%s: %w", t.file, err)
}

// next returns the wanted fields of the next row, trimmed, and the row's line. Rows whose fields
// are all blank (blank lines, or the ",," rows spreadsheets leave behind) are skipped. At the end
// of the file it returns io.EOF.
func (t *table) next(vals []string) (line int, err error) {
	for {
		rec, err := t.cr.Read()
		if err == io.EOF {
			return 0, io.EOF
		}
		if err != nil {
			return 0, t.wrap(err)
		}
		line, _ = t.cr.FieldPos(0)
		blank := true
		for _, f := range rec {
			if strings.TrimSpace(f) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		for k, c := range t.col {
			if c >= len(rec) {
				return 0, &ParseError{t.file, line, len(rec) + 1, fmt.Sprintf("too few fields: %d, but the %q column is column %d", len(rec), t.want[k], c+1)}
			}
			v := canonical(rec[c])
			if v == "" {
				fl, _ := t.cr.FieldPos(c)
				return 0, &ParseError{t.file, fl, c + 1, fmt.Sprintf("empty %s", t.want[k])}
			}
			vals[k] = v
		}
		return line, nil
	}
}

// canonical is a field as it is compared: trimmed of surrounding white space and in Unicode
// normal form C, so that "café" typed with a combining accent and "café" typed with the
// accented letter are one label. Case is kept: "Cat" and "cat" are two labels, as a taxonomy may
// mean them to be.
func canonical(field string) string {
	return norm.NFC.String(strings.TrimSpace(field))
}

// Format says how answers and truth files are separated: Delimiter is the field separator,
// ',' by default; '\t' reads tab-separated files.
type Format struct {
	Delimiter rune
}

func (f Format) delimiter() rune {
	if f.Delimiter == 0 {
		return ','
	}
	return f.Delimiter
}

// Check reports a delimiter the CSV reader cannot use.
func (f Format) Check() error {
	d := f.delimiter()
	if d == '"' || d == '\r' || d == '\n' || d == 0xFFFD || d < ' ' && d != '\t' {
		return fmt.Errorf("delimiter %q cannot separate fields", d)
	}
	return nil
}

// ReadAnswers parses an answers file: CSV with a header naming the columns task, worker and label
// in any order (other columns are ignored). Fields are trimmed and put in Unicode normal form C
// (canonical). Errors are *ParseError values naming the file, line and column: a header without
// one of the columns, an empty task, worker or label, a line with too few fields, malformed
// quoting, or the same worker answering the same task twice (naming both lines). On error no
// answers are returned.
func ReadAnswers(file string, r io.Reader) ([]Answer, error) {
	return Format{}.ReadAnswers(file, r)
}

// ReadTruth parses a truth file as Format{}.ReadTruth does.
func ReadTruth(file string, r io.Reader) (map[string]string, error) {
	return Format{}.ReadTruth(file, r)
}

// ReadAnswers is the package's ReadAnswers with this format's delimiter.
func (f Format) ReadAnswers(file string, r io.Reader) ([]Answer, error) {
	t, err := openTable(file, r, f.delimiter(), "task", "worker", "label")
	if err != nil {
		return nil, err
	}
	type key struct{ task, worker string }
	seen := make(map[key]int)
	answers := []Answer{}
	vals := make([]string, 3)
	for {
		line, err := t.next(vals)
		if err == io.EOF {
			return answers, nil
		}
		if err != nil {
			return nil, err
		}
		k := key{vals[0], vals[1]}
		if first, dup := seen[k]; dup {
			return nil, &ParseError{file, line, t.col[1] + 1, fmt.Sprintf("worker %q answers task %q twice, on lines %d and %d", vals[1], vals[0], first, line)}
		}
		seen[k] = line
		answers = append(answers, Answer{Task: vals[0], Worker: vals[1], Label: vals[2]})
	}
}

// ReadTruth parses a truth file: CSV with a header naming the columns task and label in any order
// (other columns are ignored), with the same strictness and normalisation as ReadAnswers; a task
// listed twice is an error naming both lines. It returns task → true label.
func (f Format) ReadTruth(file string, r io.Reader) (map[string]string, error) {
	t, err := openTable(file, r, f.delimiter(), "task", "label")
	if err != nil {
		return nil, err
	}
	truth := make(map[string]string)
	lines := make(map[string]int)
	vals := make([]string, 2)
	for {
		line, err := t.next(vals)
		if err == io.EOF {
			return truth, nil
		}
		if err != nil {
			return nil, err
		}
		if first, dup := lines[vals[0]]; dup {
			return nil, &ParseError{file, line, t.col[0] + 1, fmt.Sprintf("task %q is listed twice, on lines %d and %d", vals[0], first, line)}
		}
		lines[vals[0]] = line
		truth[vals[0]] = vals[1]
	}
}
