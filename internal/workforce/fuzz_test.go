package workforce

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/payoutdetails"
)

// FuzzParseCSV feeds rosters to ParseCSV. Whatever the input: a refusal names the file, a line
// and a field; an accepted roster holds only valid people with distinct ids and tokens, on the
// lines they came from; and written back as CSV it reads as the same roster.
func FuzzParseCSV(f *testing.F) {
	example, err := os.ReadFile("../../deploy/examples/roster.csv")
	if err != nil {
		f.Fatal(err)
	}
	tok := func(seed string) string {
		h := sha256.Sum256([]byte(seed))
		return TokenPrefix + base64.RawURLEncoding.EncodeToString(h[:])
	}
	for _, seed := range []string{
		string(example),
		" Token ,ROLE,id,name,country,languages,skills,payout_method\n" +
			tok("a") + ",annotator,asha.k,Asha Kamau,KE,sw;en,sentiment; ner ;,mobile-money\n" +
			tok("b") + ",reviewer,brian_o,\"Otieno, Brian\",UG,en,,\n",
		"id,name,country,role\nfatuma,Fatuma N.,KE,finance\n",
		"id,name,country,role,account_holder,msisdn,operator,iban\n" +
			"amina,Amina W.,KE,annotator,Amina Wanjiru,+254 712 345 678,MPesa,\n" +
			"hans,Hans M.,DE,annotator,\" Hans Müller\",,,de89 3704 0044 0532 0130 00\n",
		"id,name,country,role,payout_currency\nx,X,ke,boss,usd\nx,X,KE,annotator,\n",
		"id,name,country,role,token\na,A,KE,annotator," + tok("a") + "\nb,B,KE,annotator," + tok("a") + "\n",
		"id,name,country,role\n\"unterminated,A,KE,annotator\n",
		"id,id,name\n", "colour\n", "", "\n\n", "id,name,country,role\r\na,\"A\r\nB\",KE,reviewer\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseCSV("roster.csv", bytes.NewReader(data))
		if err != nil {
			checkRosterError(t, err)
			return
		}
		checkEntries(t, entries)
		back, err := ParseCSV("again.csv", bytes.NewReader(writeRoster(t, entries)))
		if err != nil {
			t.Fatalf("accepted roster refused once written back: %v", err)
		}
		if len(back) != len(entries) {
			t.Fatalf("%d entries written back, %d read", len(entries), len(back))
		}
		for i := range entries {
			if !reflect.DeepEqual(entries[i].Person, back[i].Person) || entries[i].Token != back[i].Token ||
				!reflect.DeepEqual(entries[i].PayoutDetails, back[i].PayoutDetails) {
				t.Fatalf("entry %d changed through a round trip:\n%+v\n%+v", i, entries[i], back[i])
			}
		}
	})
}

// A quote left open to the end of the file is a bad line, not a crash (FuzzParseCSV found it:
// the reader has no field position to give for such a record).
func TestParseCSVUnterminatedQuoteNamesItsLine(t *testing.T) {
	data := "id,name,country,role\nasha,Asha,KE,annotator\nbrian,\"Brian,UG,reviewer\n"
	_, err := ParseCSV("roster.csv", strings.NewReader(data))
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Lines) != 1 {
		t.Fatalf("want one bad line, got %v", err)
	}
	if l := ie.Lines[0]; l.Line != 3 || l.Field != "(line)" || !strings.Contains(l.Msg, "quote") {
		t.Errorf("got %+v, want line 3, field (line), a message about the quote", l)
	}
}

// checkRosterError asserts a refusal says where: the file and line, and for a bad line the field.
func checkRosterError(t *testing.T, err error) {
	t.Helper()
	var ie *ImportError
	if !errors.As(err, &ie) {
		if !strings.HasPrefix(err.Error(), "roster.csv:1: header: ") {
			t.Fatalf("header error names no file, line or field: %v", err)
		}
		return
	}
	if len(ie.Lines) == 0 {
		t.Fatal("ImportError without a line")
	}
	for _, l := range ie.Lines {
		if l.File != "roster.csv" || l.Line < 1 || l.Field == "" || l.Msg == "" {
			t.Fatalf("bad line error: %+v", l)
		}
		if !strings.Contains(ie.Error(), "roster.csv:"+strconv.Itoa(l.Line)+": "+l.Field+": ") {
			t.Fatalf("message lacks %s:%d: %s:\n%s", l.File, l.Line, l.Field, ie.Error())
		}
	}
}

// checkEntries asserts what an accepted roster promises.
func checkEntries(t *testing.T, entries []Entry) {
	t.Helper()
	ids, tokens := map[string]bool{}, map[string]bool{}
	last := 1
	for _, e := range entries {
		p := e.Person
		switch {
		case e.File != "roster.csv" || e.Line <= last:
			t.Fatalf("entry on %s:%d after line %d", e.File, e.Line, last)
		case !idPattern.MatchString(p.ID) || ids[p.ID]:
			t.Fatalf("accepted id %q (seen before: %v)", p.ID, ids[p.ID])
		case p.Name == "" || !countryPattern.MatchString(p.Country):
			t.Fatalf("accepted name %q, country %q", p.Name, p.Country)
		case !slices.Contains(Roles, p.Role):
			t.Fatalf("accepted role %q", p.Role)
		case p.PayoutMethod != "bank-transfer" && p.PayoutMethod != "mobile-money":
			t.Fatalf("accepted payout method %q", p.PayoutMethod)
		case p.TokenHash != "":
			t.Fatalf("a parsed person holds a token hash: %+v", p)
		}
		if e.Token != "" {
			if err := CheckToken(e.Token); err != nil || tokens[e.Token] {
				t.Fatalf("accepted token %q: %v (seen before: %v)", e.Token, err, tokens[e.Token])
			}
			tokens[e.Token] = true
		}
		ids[p.ID] = true
		last = e.Line
	}
}

// writeRoster writes entries as a roster CSV with every column.
func writeRoster(t *testing.T, entries []Entry) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(append(append([]string{}, requiredColumns...), optionalColumns...))
	for _, e := range entries {
		p := e.Person
		var d payoutdetails.Details
		if e.PayoutDetails != nil {
			d = *e.PayoutDetails
		}
		_ = w.Write([]string{p.ID, p.Name, p.Country, p.Role, e.Token, strings.Join(p.Skills, ";"),
			strings.Join(p.Languages, ";"), p.PayoutMethod, p.PayoutCurrency,
			d.Holder, d.IBAN, d.BIC, d.AccountNumber, d.BankCode, d.MSISDN, d.Operator})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
