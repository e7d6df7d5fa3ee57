package formatcheck

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
)

// CSV checks a CSV export as spreadsheets and pandas read it: RFC 4180 records (Go's strict
// reader: no stray quotes, the header's number of fields on every record), and no cell that a
// spreadsheet would run as a formula, per OWASP's CSV Injection page (a cell beginning with
// = + - @, tab or carriage return, unless neutralised by a leading single quote). It returns
// the records.
func CSV(data []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(data))
	records, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("not RFC 4180 CSV: %v", err)
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("no header")
	}
	for i, rec := range records {
		for k, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				return nil, fmt.Errorf("record %d, field %d: %q would run as a formula in a spreadsheet", i+1, k+1, cell)
			}
		}
	}
	return records, nil
}
