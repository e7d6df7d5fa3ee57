package workforce

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// fixedToken is a token of the issued shape, the same on every run.
func fixedToken(name string) string {
	h := sha256.Sum256([]byte(name))
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(h[:])
}

var (
	tokenAsha = fixedToken("asha")
	tokenBrn  = fixedToken("brian")
	tokenCh   = fixedToken("chen")
)

func TestParseCSVValid(t *testing.T) {
	// Columns in a non-canonical order, with spacing and case in the header.
	data := " Token ,ROLE,id,name,country,languages,skills,payout_method\n" +
		tokenAsha + ",annotator,asha.k,Asha Kamau,KE,sw;en,sentiment; ner ;,mobile-money\n" +
		tokenBrn + ",reviewer,brian_o,\"Otieno, Brian\",UG,en,,\n" +
		tokenCh + ",annotator,chen-1,Chen Li,CN,,,bank-transfer\n"
	entries, err := ParseCSV("roster.csv", strings.NewReader(data))
	if err != nil {
		t.Fatalf("ParseCSV: %v", err)
	}
	want := []Entry{
		{Person: Person{ID: "asha.k", Name: "Asha Kamau", Country: "KE", Role: "annotator", Skills: []string{"sentiment", "ner"},
			Languages: []string{"sw", "en"}, PayoutMethod: "mobile-money"}, Token: tokenAsha, File: "roster.csv", Line: 2},
		{Person: Person{ID: "brian_o", Name: "Otieno, Brian", Country: "UG", Role: "reviewer",
			Languages: []string{"en"}, PayoutMethod: "bank-transfer"}, Token: tokenBrn, File: "roster.csv", Line: 3},
		{Person: Person{ID: "chen-1", Name: "Chen Li", Country: "CN", Role: "annotator",
			PayoutMethod: "bank-transfer"}, Token: tokenCh, File: "roster.csv", Line: 4},
	}
	if !reflect.DeepEqual(entries, want) {
		t.Errorf("ParseCSV =\n%+v\nwant\n%+v", entries, want)
	}
	// The people, as they are stored, never hold a token.
	var people []Person
	for _, e := range entries {
		people = append(people, e.Person)
	}
	js, err := json.Marshal(people)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{tokenAsha, tokenBrn, tokenCh} {
		if strings.Contains(string(js), tok) || strings.Contains(strings.ToLower(string(js)), strings.ToLower(tok)) {
			t.Errorf("token %q kept in plain: %s", tok, js)
		}
	}
}

func TestParseCSVOptionalColumnsAbsent(t *testing.T) {
	data := "id,name,country,role,token\nasha,Asha Kamau,KE,annotator," + tokenAsha + "\n"
	entries, err := ParseCSV("roster.csv", strings.NewReader(data))
	if err != nil {
		t.Fatalf("ParseCSV: %v", err)
	}
	if len(entries) != 1 {
		t.Fatalf("got %d people", len(entries))
	}
	p := entries[0].Person
	if p.PayoutMethod != "bank-transfer" || p.Skills != nil || p.Languages != nil {
		t.Errorf("defaults: %+v", p)
	}
}

func TestParseCSVEmptyRoster(t *testing.T) {
	people, err := ParseCSV("roster.csv", strings.NewReader("id,name,country,role,token\n"))
	if err != nil || len(people) != 0 {
		t.Errorf("header only: %v, %v", people, err)
	}
}

// importErr parses data and returns its *ImportError, failing the test if there is none.
func importErr(t *testing.T, data string) *ImportError {
	t.Helper()
	people, err := ParseCSV("roster.csv", strings.NewReader(data))
	if err == nil {
		t.Fatalf("ParseCSV accepted:\n%s", data)
	}
	if people != nil {
		t.Errorf("people returned along with an error: %+v", people)
	}
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("error %T is not *ImportError: %v", err, err)
	}
	return ie
}

const header = "id,name,country,role,token,payout_method\n"

func TestParseCSVLineErrors(t *testing.T) {
	good := "asha,Asha Kamau,KE,annotator," + tokenAsha + ",\n"
	for _, tc := range []struct {
		name  string
		lines string // after the header and one good line (line 2)
		line  int
		field string
		msg   string // substring
	}{
		{"bad id", "Brian O,Brian,UG,annotator," + tokenBrn + ",\n", 3, "id", `"Brian O"`},
		{"empty id", ",Brian,UG,annotator," + tokenBrn + ",\n", 3, "id", `""`},
		{"duplicate id", "asha,Asha Two,KE,annotator," + tokenBrn + ",\n", 3, "id", `"asha" already on line 2`},
		{"missing name", "brian,  ,UG,annotator," + tokenBrn + ",\n", 3, "name", "required"},
		{"country name", "brian,Brian,Kenya,annotator," + tokenBrn + ",\n", 3, "country", `"Kenya"`},
		{"lowercase country", "brian,Brian,ke,annotator," + tokenBrn + ",\n", 3, "country", `"ke"`},
		{"role admin", "brian,Brian,UG,admin," + tokenBrn + ",\n", 3, "role", `"admin"`},
		{"payout cash", "brian,Brian,UG,annotator," + tokenBrn + ",cash\n", 3, "payout_method", `"cash"`},
		{"short token", "brian,Brian,UG,annotator,short-token-123,\n", 3, "token", "issued by `labelflow workforce token issue`"},
		{"sixteen a", "brian,Brian,UG,annotator,aaaaaaaaaaaaaaaa,\n", 3, "token", "issued by"},
		{"issued prefix, no randomness", "brian,Brian,UG,annotator," + TokenPrefix + strings.Repeat("a", 43) + ",\n", 3, "token", "not random"},
		{"issued prefix, a pattern", "brian,Brian,UG,annotator," + TokenPrefix + strings.Repeat("abc1", 10) + "abc,\n", 3, "token", "not random"},
		{"truncated", "brian,Brian,UG,annotator," + tokenBrn[:40] + ",\n", 3, "token", "46 characters"},
		{"foreign character", "brian,Brian,UG,annotator," + tokenBrn[:45] + "!,\n", 3, "token", "only letters, digits"},
		{"duplicate token", "brian,Brian,UG,annotator," + tokenAsha + ",\n", 3, "token", "same token as line 2"},
		{"after quoted newline", "brian,\"Brian\nOtieno\",UG,annotator," + tokenBrn + ",\nchen,Chen,CN,admin," + tokenCh + ",\n", 5, "role", `"admin"`},
		{"after blank line", "\nbrian,Brian,UG,admin," + tokenBrn + ",\n", 4, "role", `"admin"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ie := importErr(t, header+good+tc.lines)
			if len(ie.Lines) != 1 {
				t.Fatalf("want one bad line, got %v", ie)
			}
			l := ie.Lines[0]
			if l.File != "roster.csv" || l.Line != tc.line || l.Field != tc.field || !strings.Contains(l.Msg, tc.msg) {
				t.Errorf("got %+v; want roster.csv line %d field %s msg containing %q", l, tc.line, tc.field, tc.msg)
			}
			if !strings.Contains(ie.Error(), "roster.csv:"+strconv.Itoa(tc.line)+": "+tc.field+": ") {
				t.Errorf("message lacks file:line: field:\n%s", ie.Error())
			}
			if strings.Contains(ie.Error(), tokenAsha) || strings.Contains(ie.Error(), tokenBrn) {
				t.Errorf("message repeats a token:\n%s", ie.Error())
			}
		})
	}
}

func TestParseCSVDuplicateNamesFirstLine(t *testing.T) {
	data := header +
		"asha,Asha,KE,annotator," + tokenAsha + ",\n" +
		"asha,Asha 2,KE,annotator," + tokenBrn + ",\n" +
		"asha,Asha 3,KE,annotator," + tokenCh + ",\n" +
		"brian,Brian,UG,annotator," + tokenAsha + ",\n" +
		"dan,Dan,KE,annotator," + tokenAsha + ",\n"
	ie := importErr(t, data)
	want := []LineError{
		{File: "roster.csv", Line: 3, Field: "id", Msg: `"asha" already on line 2`},
		{File: "roster.csv", Line: 4, Field: "id", Msg: `"asha" already on line 2`},
		{File: "roster.csv", Line: 5, Field: "token", Msg: "same token as line 2"},
		{File: "roster.csv", Line: 6, Field: "token", Msg: "same token as line 2"},
	}
	if !reflect.DeepEqual(ie.Lines, want) {
		t.Errorf("got\n%+v\nwant\n%+v", ie.Lines, want)
	}
}

func TestParseCSVReportsEveryBadLine(t *testing.T) {
	data := header +
		"asha,Asha,KE,annotator," + tokenAsha + ",\n" + // 2: good
		"Bad ID,,Kenya,admin,short,cash\n" + // 3: six problems
		"brian,Brian,UG,reviewer," + tokenBrn + ",\n" + // 4: good
		"chen,Chen,CN,annotator," + tokenAsha + ",\n" // 5: duplicate token
	ie := importErr(t, data)
	want := []LineError{
		{File: "roster.csv", Line: 3, Field: "id", Msg: ""},
		{File: "roster.csv", Line: 3, Field: "name", Msg: ""},
		{File: "roster.csv", Line: 3, Field: "country", Msg: ""},
		{File: "roster.csv", Line: 3, Field: "role", Msg: ""},
		{File: "roster.csv", Line: 3, Field: "payout_method", Msg: ""},
		{File: "roster.csv", Line: 3, Field: "token", Msg: ""},
		{File: "roster.csv", Line: 5, Field: "token", Msg: ""},
	}
	if len(ie.Lines) != len(want) {
		t.Fatalf("got %d bad lines, want %d:\n%v", len(ie.Lines), len(want), ie)
	}
	for i, w := range want {
		g := ie.Lines[i]
		if g.File != w.File || g.Line != w.Line || g.Field != w.Field || g.Msg == "" {
			t.Errorf("bad line %d = %+v, want %s:%d %s", i, g, w.File, w.Line, w.Field)
		}
	}
	if !strings.HasPrefix(ie.Error(), "7 bad roster line(s); nothing was imported:\n  roster.csv:3: id: ") {
		t.Errorf("message:\n%s", ie.Error())
	}
}

func TestParseCSVMalformedLine(t *testing.T) {
	data := header +
		"asha,Asha,KE,annotator," + tokenAsha + ",\n" +
		"brian,Bri\"an,UG,annotator," + tokenBrn + ",\n" +
		"chen,Chen,CN,annotator," + tokenCh + ",\n"
	ie := importErr(t, data)
	if len(ie.Lines) != 1 || ie.Lines[0].Line != 3 || ie.Lines[0].Field != "(line)" {
		t.Errorf("got %+v, want one (line) error on line 3", ie.Lines)
	}
}

func TestParseCSVHeaderErrors(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		want         []string
	}{
		{"unknown column", "id,name,country,role,token,email", []string{"roster.csv:1:", `unknown column "email"`}},
		{"missing id", "name,country,role,token", []string{"roster.csv:1:", `column "id" is missing`}},
		{"missing role", "id,name,country,token,skills", []string{"roster.csv:1:", `column "role" is missing`}},
		{"empty file", "", []string{"roster.csv:1:", "header"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.header
			if data != "" {
				data += "\nasha,Asha,KE,annotator," + tokenAsha + "\n"
			}
			people, err := ParseCSV("roster.csv", strings.NewReader(data))
			if err == nil {
				t.Fatalf("accepted: %+v", people)
			}
			if people != nil {
				t.Errorf("people returned along with an error: %+v", people)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// A column named twice would silently take the last one's values.
func TestParseCSVDuplicateColumn(t *testing.T) {
	data := "id,name,country,role,token,name\nasha,Asha Kamau,KE,annotator," + tokenAsha + ",Someone Else\n"
	people, err := ParseCSV("roster.csv", strings.NewReader(data))
	if err == nil {
		t.Errorf("duplicate column accepted: %+v", people)
	} else if !strings.Contains(err.Error(), `"name"`) {
		t.Errorf("error %q does not name the column", err)
	}
}
