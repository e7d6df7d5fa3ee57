package spec

import (
	"errors"
	"github.com/labelflow/labelflow/internal/earnings"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fullSpec sets every field; line numbers matter to the tests below.
const fullSpec = `id: acme-sentiment-2024
client: Acme Corp
source: s3://labelflow/inputs/acme/manifest.jsonl
annotation:
  type: single-label
  taxonomy: [positive, negative, neutral]
  instructions: Pick the sentiment of the review.
chunk_size: 250
suite_size: 20
annotators_per_item: 2
lease: 30m
required_skills: [sentiment]
languages: [en, sw]
reviewer_role: reviewer
delivery:
  bucket: acme-results
  prefix: labelflow/sentiment
  region: eu-west-1
  endpoint: https://s3.eu-west-1.amazonaws.com
  credentials: acme-prod
pay:
  currency: KES
  per_annotation: "5.50"
  per_arbitration: "12"
`

// fullSpecJSON is fullSpec written as JSON.
const fullSpecJSON = `{
	"id": "acme-sentiment-2024",
	"client": "Acme Corp",
	"source": "s3://labelflow/inputs/acme/manifest.jsonl",
	"annotation": {
		"type": "single-label",
		"taxonomy": ["positive", "negative", "neutral"],
		"instructions": "Pick the sentiment of the review."
	},
	"chunk_size": 250,
	"suite_size": 20,
	"annotators_per_item": 2,
	"lease": "30m",
	"required_skills": ["sentiment"],
	"languages": ["en", "sw"],
	"reviewer_role": "reviewer",
	"delivery": {
		"bucket": "acme-results",
		"prefix": "labelflow/sentiment",
		"region": "eu-west-1",
		"endpoint": "https://s3.eu-west-1.amazonaws.com",
		"credentials": "acme-prod"
	},
	"pay": {
		"currency": "KES",
		"per_annotation": "5.50",
		"per_arbitration": "12"
	}
}
`

// minimalSpec omits every field that has a default.
const minimalSpec = `id: minimal
client: Acme Corp
source: s3://labelflow/inputs/minimal.jsonl
annotation:
  taxonomy: [yes, no]
  instructions: Answer the question.
delivery:
  bucket: acme-results
  region: us-east-1
  credentials: acme-prod
pay:
  currency: USD
  per_annotation: "0.05"
  per_arbitration: "0.10"
`

func wantProject() Project {
	return Project{
		ID:     "acme-sentiment-2024",
		Client: "Acme Corp",
		Source: "s3://labelflow/inputs/acme/manifest.jsonl",
		Annotation: Annotation{
			Type:         "single-label",
			Taxonomy:     []string{"positive", "negative", "neutral"},
			Instructions: "Pick the sentiment of the review.",
		},
		ChunkSize:         250,
		SuiteSize:         20,
		AnnotatorsPerItem: 2,
		Lease:             "30m",
		RequiredSkills:    []string{"sentiment"},
		Languages:         []string{"en", "sw"},
		ReviewerRole:      "reviewer",
		Delivery: Delivery{
			Bucket:         "acme-results",
			Prefix:         "labelflow/sentiment",
			Region:         "eu-west-1",
			Endpoint:       "https://s3.eu-west-1.amazonaws.com",
			Credentials:    "acme-prod",
			LabelAttribute: "label", // the default
		},
		Pay:     Pay{Currency: "KES", PerAnnotation: "5.50", PerArbitration: "12"},
		Quality: Quality{Overlap: Overlap{Mode: "review"}}, // the default
	}
}

func TestParseValidSpec(t *testing.T) {
	for _, tc := range []struct{ file, data string }{
		{"project.yaml", fullSpec},
		{"project.json", fullSpecJSON},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p, err := Parse(tc.file, []byte(tc.data))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if want := wantProject(); !reflect.DeepEqual(p, want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", p, want)
			}
			if got := p.LeaseDuration(); got != 30*time.Minute {
				t.Errorf("LeaseDuration = %v, want 30m", got)
			}
			ann, arb := p.Rates()
			if ann != 550 || arb != 1200 {
				t.Errorf("Rates = %d, %d; want 550, 1200", ann, arb)
			}
		})
	}
}

func TestParseYAMLAndJSONAgree(t *testing.T) {
	y, err := Parse("project.yaml", []byte(fullSpec))
	if err != nil {
		t.Fatal(err)
	}
	j, err := Parse("project.json", []byte(fullSpecJSON))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(y, j) {
		t.Errorf("YAML and JSON differ:\nyaml %+v\njson %+v", y, j)
	}
}

func TestParseUnquotedAmountKeepsItsText(t *testing.T) {
	data := strings.Replace(minimalSpec, `per_annotation: "0.05"`, `per_annotation: 0.05`, 1)
	data = strings.Replace(data, `per_arbitration: "0.10"`, `per_arbitration: 0.10`, 1)
	p, err := Parse("project.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if p.Pay.PerAnnotation != "0.05" || p.Pay.PerArbitration != "0.10" {
		t.Errorf("amounts = %q, %q; want the text as written", p.Pay.PerAnnotation, p.Pay.PerArbitration)
	}
	if ann, arb := p.Rates(); ann != 5 || arb != 10 {
		t.Errorf("Rates = %d, %d; want 5, 10", ann, arb)
	}
}

func TestParseAppliesDefaults(t *testing.T) {
	p, err := Parse("project.yaml", []byte(minimalSpec))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	for _, c := range []struct {
		field     string
		got, want any
	}{
		{"chunk_size", p.ChunkSize, 500},
		{"suite_size", p.SuiteSize, 10},
		{"annotators_per_item", p.AnnotatorsPerItem, 2},
		{"lease", p.Lease, Duration("3m")},
		{"reviewer_role", p.ReviewerRole, "reviewer"},
		{"annotation.type", p.Annotation.Type, "single-label"},
		{"LeaseDuration", p.LeaseDuration(), 3 * time.Minute},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	if DefaultChunkSize != 500 || DefaultSuiteSize != 10 || DefaultAnnotatorsPerItem != 2 ||
		DefaultLease != "3m" || DefaultReviewerRole != "reviewer" {
		t.Error("documented defaults changed")
	}
}

// parseErr parses data and returns its *Error, failing the test if there is none.
func parseErr(t *testing.T, file, data string) *Error {
	t.Helper()
	_, err := Parse(file, []byte(data))
	if err == nil {
		t.Fatalf("Parse accepted:\n%s", data)
	}
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %T is not *spec.Error: %v", err, err)
	}
	if se.File != file {
		t.Errorf("Error.File = %q, want %q", se.File, file)
	}
	return se
}

func fieldErr(e *Error, field string) (FieldError, bool) {
	for _, f := range e.Fields {
		if f.Field == field {
			return f, true
		}
	}
	return FieldError{}, false
}

// secret looks like a cloud secret key: 70 characters with '/' and '+'.
const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY+abcdefghijklmnopqrstuvwxyz012"

func TestParseReportsEveryBadField(t *testing.T) {
	if len(secret) != 70 {
		t.Fatalf("test secret has %d characters", len(secret))
	}
	data := `id: Acme_Project
client: "  "
source: https://example.com/manifest.jsonl
annotation:
  type: single-label
  taxonomy:
    - cat
    - dog
    - cat
chunk_size: -1
suite_size: 101
annotators_per_item: 3
lease: forever
reviewer_role: annotator
delivery:
  bucket: Bad_Bucket
  prefix: /results
  region: ""
  endpoint: ftp://example.com
  credentials: ` + secret + `
pay:
  currency: usd
  per_annotation: "0.001"
  per_arbitration: "0.10"
`
	se := parseErr(t, "project.yaml", data)
	want := []struct {
		field  string
		line   int
		reason string // substring
	}{
		{"id", 1, "Acme_Project"},
		{"client", 2, "required"},
		{"source", 3, "s3://"},
		{"annotation.taxonomy", 6, `"cat" is listed twice`},
		{"annotation.instructions", 4, "required"},
		{"chunk_size", 10, "-1"},
		{"suite_size", 11, "101"},
		{"annotators_per_item", 12, "3"},
		{"lease", 13, "forever"},
		{"reviewer_role", 14, "annotator"},
		{"delivery.bucket", 16, "Bad_Bucket"},
		{"delivery.prefix", 17, "/results"},
		{"delivery.region", 18, "required"},
		{"delivery.endpoint", 19, "ftp://"},
		{"delivery.credentials", 20, "not a secret"},
		{"pay.currency", 22, "usd"},
		// pay.per_annotation alongside a bad currency: TestParseReportsBadAmountWithBadCurrency.
	}
	for _, w := range want {
		f, ok := fieldErr(se, w.field)
		if !ok {
			t.Errorf("%s: not reported (reported: %+v)", w.field, se.Fields)
			continue
		}
		if f.Line != w.line {
			t.Errorf("%s: line %d, want %d", w.field, f.Line, w.line)
		}
		if !strings.Contains(f.Reason, w.reason) {
			t.Errorf("%s: reason %q does not contain %q", w.field, f.Reason, w.reason)
		}
	}
	if _, ok := fieldErr(se, "pay.per_arbitration"); ok {
		t.Errorf("valid pay.per_arbitration reported: %+v", se.Fields)
	}
	msg := se.Error()
	if strings.Contains(msg, secret) {
		t.Errorf("error message repeats the secret:\n%s", msg)
	}
	for _, s := range []string{"project.yaml:1: id:", "project.yaml:13: lease:", "project.yaml:20: delivery.credentials:"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error message lacks %q:\n%s", s, msg)
		}
	}
}

func TestParseBadFieldLines(t *testing.T) {
	for _, tc := range []struct {
		name, replace, with, field string
		line                       int
	}{
		{"lease too short", "lease: 30m", "lease: 1s", "lease", 11},
		{"lease too long", "lease: 30m", "lease: 25h", "lease", 11},
		{"chunk too big", "chunk_size: 250", "chunk_size: 5001", "chunk_size", 8},
		{"unknown type", "type: single-label", "type: polygon", "annotation.type", 5},
		{"one class", "taxonomy: [positive, negative, neutral]", "taxonomy: [positive]", "annotation.taxonomy", 6},
		{"source without key", "source: s3://labelflow/inputs/acme/manifest.jsonl", "source: s3://labelflow", "source", 3},
		{"amount with 3 decimals", `per_annotation: "5.50"`, `per_annotation: "0.001"`, "pay.per_annotation", 23},
		{"negative amount", `per_arbitration: "12"`, `per_arbitration: "-1"`, "pay.per_arbitration", 24},
		{"negative fraction", `per_annotation: "5.50"`, `per_annotation: "-0.05"`, "pay.per_annotation", 23},
		{"decimals in zero-decimal currency", "currency: KES", "currency: UGX", "pay.per_annotation", 23},
		{"short secret", "credentials: acme-prod", "credentials: abc/def+ghi", "delivery.credentials", 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := strings.Replace(fullSpec, tc.replace, tc.with, 1)
			if data == fullSpec {
				t.Fatalf("%q not found in spec", tc.replace)
			}
			se := parseErr(t, "project.yaml", data)
			f, ok := fieldErr(se, tc.field)
			if !ok {
				t.Fatalf("%s not reported: %v", tc.field, se)
			}
			if f.Line != tc.line {
				t.Errorf("%s: line %d, want %d", tc.field, f.Line, tc.line)
			}
			if len(se.Fields) != 1 {
				t.Errorf("want exactly one problem, got %v", se)
			}
		})
	}
}

// The amount is wrong whatever the currency turns out to be, so it must be reported
// together with the bad currency rather than after the currency is fixed.
func TestParseReportsBadAmountWithBadCurrency(t *testing.T) {
	data := strings.Replace(fullSpec, "currency: KES", "currency: usd", 1)
	data = strings.Replace(data, `per_annotation: "5.50"`, `per_annotation: "0.001"`, 1)
	se := parseErr(t, "project.yaml", data)
	if _, ok := fieldErr(se, "pay.currency"); !ok {
		t.Errorf("pay.currency not reported: %v", se)
	}
	if f, ok := fieldErr(se, "pay.per_annotation"); !ok {
		t.Errorf("pay.per_annotation not reported: %v", se)
	} else if f.Line != 23 {
		t.Errorf("pay.per_annotation: line %d, want 23", f.Line)
	}
}

func TestParseMissingFieldPointsAtParent(t *testing.T) {
	data := strings.Replace(fullSpec, "  region: eu-west-1\n", "", 1)
	se := parseErr(t, "project.yaml", data)
	f, ok := fieldErr(se, "delivery.region")
	if !ok {
		t.Fatalf("delivery.region not reported: %v", se)
	}
	if f.Line != 15 {
		t.Errorf("delivery.region: line %d, want 15 (the delivery key)", f.Line)
	}
	// A missing top-level field has no line.
	data = strings.Replace(fullSpec, "client: Acme Corp\n", "", 1)
	se = parseErr(t, "project.yaml", data)
	if f, ok := fieldErr(se, "client"); !ok || f.Line != 0 {
		t.Errorf("missing client: %+v, %v; want line 0", f, ok)
	}
	if !strings.Contains(se.Error(), "\n  project.yaml: client: is required") {
		t.Errorf("message for a field without a line:\n%s", se.Error())
	}
}

func TestParseUnknownField(t *testing.T) {
	for _, tc := range []struct {
		name, file, data, field string
		line                    int
	}{
		{"yaml top level", "project.yaml", strings.Replace(fullSpec, "chunk_size: 250\n", "chunk_size: 250\ncolour: red\n", 1), "colour", 9},
		{"yaml nested", "project.yaml", strings.Replace(fullSpec, "  region: eu-west-1\n", "  region: eu-west-1\n  colour: red\n", 1), "colour", 19},
		{"json", "project.json", strings.Replace(fullSpecJSON, `"chunk_size": 250,`, `"chunk_size": 250,`+"\n\t\"colour\": \"red\",", 1), "colour", 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			se := parseErr(t, tc.file, tc.data)
			f, ok := fieldErr(se, tc.field)
			if !ok {
				t.Fatalf("%s not reported: %v", tc.field, se)
			}
			if f.Line != tc.line {
				t.Errorf("line %d, want %d", f.Line, tc.line)
			}
			if f.Reason != "unknown field" {
				t.Errorf("reason %q, want unknown field", f.Reason)
			}
			want := tc.file + ":" + strconv.Itoa(tc.line) + ": colour: unknown field"
			if !strings.Contains(se.Error(), want) {
				t.Errorf("message lacks %q:\n%s", want, se.Error())
			}
		})
	}
}

func TestParseWrongTypeHasLine(t *testing.T) {
	data := strings.Replace(fullSpec, "chunk_size: 250", "chunk_size: lots", 1)
	se := parseErr(t, "project.yaml", data)
	if len(se.Fields) == 0 || se.Fields[0].Line != 8 {
		t.Errorf("want a problem on line 8, got %v", se)
	}
}

func TestParseMalformedDocument(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"unclosed flow", "id: [unclosed\n"},
		{"bad indentation", "id: a\n  client: b\n client: c\n"},
		{"unclosed json", `{"id": "a",`},
		{"empty", ""},
		{"not a mapping", "- a\n- b\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			se := parseErr(t, "project.yaml", tc.data)
			if len(se.Fields) != 1 || se.Fields[0].Field != "(document)" {
				t.Errorf("want one (document) problem, got %+v", se.Fields)
			}
			if !strings.HasPrefix(se.Error(), "project.yaml: 1 problem(s):") {
				t.Errorf("message = %q", se.Error())
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{File: "project.yaml", Fields: []FieldError{
		{Field: "id", Line: 7, Reason: "bad"},
		{Field: "client", Reason: "is required"},
	}}
	want := "project.yaml: 2 problem(s):\n  project.yaml:7: id: bad\n  project.yaml: client: is required"
	if got := e.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
}

func TestAmountMinor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		exp  int
		want int64
	}{
		{"0.05", 2, 5},
		{"12", 2, 1200},
		{"12.5", 2, 1250},
		{"12.50", 2, 1250},
		{"0", 2, 0},
		{" 3.07 ", 2, 307},
		{"100", 0, 100},
		{"1.234", 3, 1234},
		{"46116860184273879", 2, 4611686018427387900},
	} {
		got, err := Amount(tc.in).Minor(tc.exp)
		if err != nil || got != tc.want {
			t.Errorf("Minor(%q, %d) = %d, %v; want %d", tc.in, tc.exp, got, err, tc.want)
		}
	}
}

func TestAmountMinorErrors(t *testing.T) {
	for _, tc := range []struct {
		in  string
		exp int
	}{
		{"0.001", 2},
		{"-1", 2},
		{"-0.05", 2}, // a negative amount must not become a positive one
		{"0.+5", 2},
		{"0.-5", 2},
		{"+1", 2},
		{"abc", 2},
		{"", 2},
		{"   ", 2},
		{"1.5", 0},
		{".5", 2},
		{"1,50", 2},
		{"1e3", 2},
		{"1.2.3", 2},
		{"99999999999999999999", 2},
		{"46116860184273880", 2}, // too large once in minor units
	} {
		if got, err := Amount(tc.in).Minor(tc.exp); err == nil {
			t.Errorf("Minor(%q, %d) = %d, want an error", tc.in, tc.exp, got)
		}
	}
}

func TestFormatMinor(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		exp  int
		want string
	}{
		{1234, 2, "12.34"},
		{5, 2, "0.05"},
		{-5, 2, "-0.05"},
		{-1234, 2, "-12.34"},
		{0, 2, "0.00"},
		{1200, 2, "12.00"},
		{7, 0, "7"},
		{-7, 0, "-7"},
		{1234, 3, "1.234"},
	} {
		if got := earnings.FormatMinor(tc.v, map[int]string{0: "UGX", 2: "USD", 3: "KWD"}[tc.exp]); got != tc.want {
			t.Errorf("FormatMinor(%d, %d) = %q, want %q", tc.v, tc.exp, got, tc.want)
		}
	}
}

func TestMinorFormatRoundTrip(t *testing.T) {
	for _, s := range []string{"0.05", "12.34", "0.00", "1000.10"} {
		v, err := Amount(s).Minor(2)
		if err != nil {
			t.Fatalf("Minor(%q): %v", s, err)
		}
		if got := earnings.FormatMinor(v, "USD"); got != s {
			t.Errorf("FormatMinor(Minor(%q)) = %q", s, got)
		}
	}
}

func TestCurrencyExponent(t *testing.T) {
	for _, tc := range []struct {
		code string
		want int
	}{
		{"KES", 2}, {"USD", 2}, {"EUR", 2}, {"UGX", 0}, {"JPY", 0}, {"RWF", 0},
	} {
		got, err := CurrencyExponent(tc.code)
		if err != nil || got != tc.want {
			t.Errorf("CurrencyExponent(%q) = %d, %v; want %d", tc.code, got, err, tc.want)
		}
	}
	for _, code := range []string{"usd", "Usd", "EURO", "US", ""} {
		if got, err := CurrencyExponent(code); err == nil {
			t.Errorf("CurrencyExponent(%q) = %d, want an error", code, got)
		}
	}
}
