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
