package payout

import (
	"bytes"
	"encoding/csv"
	"strings"

	"github.com/labelflow/labelflow/internal/earnings"
)

// MobileMoneyColumns are the columns of a mobile-money bulk payout file, one row per payout.
// The msisdn is the number in international form without its '+' (as operators' bulk files take
// it); the amount is in major units; the reference is the payout's Reference.
var MobileMoneyColumns = []string{"reference", "operator", "msisdn", "amount", "currency", "account_holder", "narrative"}

// mobileMoneyCSV writes a batch of mobile-money payouts as a bulk payout file.
func mobileMoneyCSV(month string, batch []payable) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(MobileMoneyColumns)
	for _, p := range batch {
		_ = w.Write([]string{p.Reference(), p.to.Operator, strings.TrimPrefix(p.to.MSISDN, "+"),
			earnings.FormatMinor(p.Amount, p.Currency), p.Currency, spreadsheetSafe(p.to.Holder), "LabelFlow pay " + month})
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// spreadsheetSafe keeps a cell from being read as a formula when finance opens the file in a
// spreadsheet (OWASP, CSV injection): a cell beginning with =, +, -, @, a tab or a carriage return
// is given a leading apostrophe. Only names can begin so; the other columns are codes and numbers.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
