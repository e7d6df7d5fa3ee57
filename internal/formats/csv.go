package formats

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
)

// csvHeader is the first record of every CSV export.
var csvHeader = []string{"id", "source", "label", "method", "confidence", "annotators", "reviewer"}

// CSV writes one record per line after the header id,source,label,method,confidence,annotators,
// reviewer. source is the line's source, or its source-ref when it has no source. label is the
// class for single-label, the classes joined with ";" for multi-label, and the compact JSON of
// the answer for other types; annotators are joined with ";". Fields are quoted as RFC 4180
// requires (those holding a comma, a quote or a line break; quotes doubled); records end in "\n".
// Every field is neutralised against formula injection (see Neutralise): the client's own text
// reaches the file, and the file reaches a spreadsheet.
func CSV(lines []Line) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(csvHeader); err != nil {
		return nil, err
	}
	for i, l := range lines {
		label, err := csvLabel(l)
		if err != nil {
			return nil, lineError(l, i, "%v", err)
		}
		source := l.Source
		if source == "" {
			source = l.SourceRef
		}
		rec := []string{
			l.ID,
			source,
			label,
			l.Meta.Method,
			strconv.FormatFloat(l.Meta.Confidence, 'f', -1, 64),
			strings.Join(l.Meta.Annotators, ";"),
			l.Meta.Reviewer,
		}
		for k := range rec {
			rec[k] = Neutralise(rec[k])
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// formulaStarts are the first characters that make a spreadsheet read a cell as a formula:
// OWASP's CSV Injection list (= + - @, tab, carriage return), the NUL that OWASP ASVS 1.2.10
// adds, and the full-width forms of = + - @, which spreadsheets in East Asian locales read as
// formulas too.
const formulaStarts = "=+-@\t\r\x00＝＋－＠"

// Neutralise makes a CSV cell inert in a spreadsheet, as OWASP's CSV Injection page prescribes:
// a cell that begins with a formula character gets a single quote in front, which spreadsheets
// take as "this cell is text" and do not show. Other cells are unchanged.
func Neutralise(cell string) string {
	if cell == "" {
		return cell
	}
	for _, r := range formulaStarts {
		if strings.HasPrefix(cell, string(r)) {
			return "'" + cell
		}
	}
	return cell
}

func csvLabel(l Line) (string, error) {
	switch l.Meta.Type {
	case TypeSingleLabel:
		return decodeSingle(l)
	case TypeMultiLabel:
		classes, err := decodeMulti(l)
		return strings.Join(classes, ";"), err
	default:
		var c bytes.Buffer
		if err := json.Compact(&c, l.Label); err != nil {
			return "", err
		}
		return c.String(), nil
	}
}
