package label

import (
	"encoding/json"
	"testing"
)

func spansJSON(spans ...Span) Answer {
	if spans == nil {
		spans = []Span{}
	}
	out, err := json.Marshal(spansAnswer{Spans: spans})
	if err != nil {
		panic(err)
	}
	return out
}

func TestSpansAgreement(t *testing.T) {
	typ := lookupType(t, SpansName)
	per, loc, org := Span{0, 5, "PER"}, Span{10, 16, "LOC"}, Span{20, 23, "ORG"}
	for _, c := range []struct {
		name string
		a, b Answer
		want float64
	}{
		{"both empty", spansJSON(), spansJSON(), 1},
		{"one empty", spansJSON(per), spansJSON(), 0},
		{"identical", spansJSON(per, loc), spansJSON(loc, per), 1},
		// Two of three found, none wrong: precision 2/2, recall 2/3, F1 = 2·(1·2/3)/(1+2/3) = 4/5.
		{"2 of 3 found", spansJSON(per, loc, org), spansJSON(per, loc), 4.0 / 5},
		// Two of three alike, one each differing: precision = recall = 2/3, F1 = 2/3.
		{"2 of 3 alike", spansJSON(per, loc, org), spansJSON(per, loc, Span{20, 23, "PER"}), 2.0 / 3},
		{"boundary off by one", spansJSON(per), spansJSON(Span{0, 4, "PER"}), 0},
		{"label differs", spansJSON(per), spansJSON(Span{0, 5, "LOC"}), 0},
		// 1 common: precision 1/2, recall 1/1, F1 = 2/3.
		{"one extra", spansJSON(per), spansJSON(per, org), 2.0 / 3},
		{"unreadable", Answer(`[]`), spansJSON(), 0},
	} {
		if got := typ.Agreement(c.a, c.b); !near(got, c.want) {
			t.Errorf("%s: Agreement = %v, want %v", c.name, got, c.want)
		}
		if got := typ.Agreement(c.b, c.a); !near(got, c.want) {
			t.Errorf("%s: reversed Agreement = %v, want %v", c.name, got, c.want)
		}
	}
	if typ.DefaultThreshold() != 0.8 {
		t.Errorf("DefaultThreshold = %v", typ.DefaultThreshold())
	}
	if !Agree(typ, spansJSON(per, loc, org), spansJSON(per, loc), 0) {
		t.Error("one span forgotten of three does not agree at the default threshold")
	}
	if Agree(typ, spansJSON(per, loc), spansJSON(per), 0) {
		t.Error("one span forgotten of two agrees at the default threshold")
	}
}

func TestSpansValidate(t *testing.T) {
	typ := lookupType(t, SpansName)
	item := Item{Taxonomy: []string{"PER", "LOC", "ORG"}, TextLen: 40}
	runValidationCases(t, typ, item, []validationCase{
		{`{"spans":[]}`, ""},
		{`{"spans":[{"start":0,"end":5,"label":"PER"}]}`, ""},
		{`{"spans":[{"start":5,"end":8,"label":"LOC"},{"start":0,"end":5,"label":"PER"}]}`, ""}, // adjacent, unsorted
		{`{"spans":[{"start":39,"end":40,"label":"ORG"}]}`, ""},                                 // up to the last code point
		{``, "answer: is empty"},
		{`spans`, "answer: is not valid JSON"},
		{`[{"start":0,"end":5,"label":"PER"}]`, `answer: must be a JSON object {"spans": [...]}`},
		{`{}`, "spans: is required"},
		{`{"spans":null}`, "spans: is required"},
		{`{"spans":"PER"}`, "spans: must be an array, got string"},
		{`{"spans":[],"text":"x"}`, "text: unknown field"},
		{`{"spans":[[0,5,"PER"]]}`, "spans[0]: must be an object with start, end and label"},
		{`{"spans":[{"end":5,"label":"PER"}]}`, "spans[0].start: is required"},
		{`{"spans":[{"start":0,"label":"PER"}]}`, "spans[0].end: is required"},
		{`{"spans":[{"start":0,"end":5}]}`, "spans[0].label: is required"},
		{`{"spans":[{"start":0,"end":5,"label":"PER","score":0.9}]}`, "spans[0].score: unknown field"},
		{`{"spans":[{"start":1.5,"end":5,"label":"PER"}]}`, "spans[0].start: must be an integer, got number 1.5"},
		{`{"spans":[{"start":0,"end":"5","label":"PER"}]}`, "spans[0].end: must be an integer, got string"},
		{`{"spans":[{"start":0,"end":1e30,"label":"PER"}]}`, "spans[0].end: must be an integer, got number 1e30"},
		{`{"spans":[{"start":0,"end":5,"label":"PER"},{"start":-1,"end":5,"label":"PER"}]}`, "spans[1].start: must be >= 0, got -1"},
		{`{"spans":[{"start":5,"end":5,"label":"PER"}]}`, "spans[0].end: must be > start (5), got 5"},
		{`{"spans":[{"start":5,"end":2,"label":"PER"}]}`, "spans[0].end: must be > start (5), got 2"},
		{`{"spans":[{"start":30,"end":41,"label":"PER"}]}`, "spans[0].end: must be <= the text length 40, got 41"},
		{`{"spans":[{"start":0,"end":5,"label":"MISC"}]}`, `spans[0].label: "MISC" is not in the taxonomy [PER LOC ORG]`},
		{`{"spans":[{"start":0,"end":5,"label":"PER"},{"start":10,"end":12,"label":"LOC"},{"start":4,"end":8,"label":"ORG"}]}`,
			"spans[2]: overlaps spans[0] ([0,5) PER and [4,8) ORG)"},
		{`{"spans":[{"start":6,"end":9,"label":"ORG"},{"start":0,"end":20,"label":"PER"}]}`,
			"spans[1]: overlaps spans[0] ([6,9) ORG and [0,20) PER)"},
		{`{"spans":[{"start":0,"end":20,"label":"PER"},{"start":2,"end":4,"label":"ORG"},{"start":10,"end":12,"label":"LOC"}]}`,
			"spans[1]: overlaps spans[0]"},
		{`{"spans":[{"start":0,"end":5,"label":"PER"},{"start":0,"end":5,"label":"PER"}]}`, "spans[1]: overlaps spans[0]"},
		{`{"spans":[{"start":0,"end":5,"label":"PER"},{"start":0,"end":5,"label":"LOC"}]}`, "spans[1]: overlaps spans[0]"},
	})
	// Without a text length, only the order of start and end is checked.
	runValidationCases(t, typ, Item{Taxonomy: []string{"PER"}}, []validationCase{
		{`{"spans":[{"start":1000,"end":100000,"label":"PER"}]}`, ""},
		{`{"spans":[{"start":-3,"end":1,"label":"PER"}]}`, "spans[0].start: must be >= 0, got -3"},
	})
}

func TestSpansConsolidate(t *testing.T) {
	typ := lookupType(t, SpansName)
	per, loc, org := Span{0, 5, "PER"}, Span{10, 16, "LOC"}, Span{20, 23, "ORG"}
	for _, c := range []struct {
		name    string
		answers []Answer
		want    Answer
	}{
		{"two: intersection", []Answer{spansJSON(org, per, loc), spansJSON(loc, per)}, spansJSON(per, loc)},
		{"two: nothing shared", []Answer{spansJSON(per), spansJSON(Span{0, 5, "ORG"})}, spansJSON()},
		{"three: majority", []Answer{spansJSON(per, loc), spansJSON(per, org), spansJSON(loc, org, Span{30, 32, "PER"})},
			spansJSON(per, loc, org)},
		{"four: half is no majority", []Answer{spansJSON(per), spansJSON(per), spansJSON(loc), spansJSON(loc)}, spansJSON()},
		{"one", []Answer{spansJSON(org, per)}, spansJSON(per, org)},
	} {
		if got := typ.Consolidate(c.answers); string(got) != string(c.want) {
			t.Errorf("%s: Consolidate = %s, want %s", c.name, got, c.want)
		}
	}
	if got := typ.Consolidate(nil); got != nil {
		t.Errorf("Consolidate(nil) = %s", got)
	}
}

func TestSpansCanonical(t *testing.T) {
	typ := lookupType(t, SpansName)
	a := typ.Canonical(Answer(`{ "spans": [ {"label":"ORG","end":23,"start":20}, {"start":0,"end":5,"label":"PER"} ] }`))
	b := typ.Canonical(Answer(`{"spans":[{"start":0,"end":5,"label":"PER"},{"start":20,"end":23,"label":"ORG"}]}`))
	want := `{"spans":[{"start":0,"end":5,"label":"PER"},{"start":20,"end":23,"label":"ORG"}]}`
	if string(a) != want || string(a) != string(b) {
		t.Errorf("canonical forms %s and %s, want %s", a, b, want)
	}
	if got := string(typ.Canonical(Answer(`{"spans":[]}`))); got != `{"spans":[]}` {
		t.Errorf("Canonical of no spans = %s", got)
	}
	if got := string(typ.Canonical(Answer(`"x"`))); got != `"x"` {
		t.Errorf("Canonical of an unreadable answer = %s, want it unchanged", got)
	}
}
