package label

import (
	"math"
	"strings"
	"testing"
)

// validationCase is an answer and the start of the error Validate must return ("" for none).
type validationCase struct {
	answer string
	err    string
}

func runValidationCases(t *testing.T, typ Type, item Item, cases []validationCase) {
	t.Helper()
	for _, c := range cases {
		err := typ.Validate(Answer(c.answer), item)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: valid answer %s refused: %v", typ.Name(), shorten(c.answer), err)
		case c.err != "" && err == nil:
			t.Errorf("%s: answer %s accepted, want error %q", typ.Name(), shorten(c.answer), c.err)
		case c.err != "" && !strings.HasPrefix(err.Error(), c.err):
			t.Errorf("%s: answer %s: error %q, want it to start with %q", typ.Name(), shorten(c.answer), err, c.err)
		}
	}
}

func shorten(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func near(x, y float64) bool { return math.Abs(x-y) < 1e-9 }

func lookupType(t *testing.T, name string) Type {
	t.Helper()
	typ, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	if typ.Name() != name {
		t.Fatalf("Lookup(%q).Name() = %q", name, typ.Name())
	}
	return typ
}

func TestTypesRegistered(t *testing.T) {
	names := strings.Join(Names(), " ")
	for _, n := range []string{MultiLabelName, BoundingBoxName, TranscriptionName, SpansName} {
		if !strings.Contains(names, n) {
			t.Errorf("%s not registered (have %s)", n, names)
		}
		lookupType(t, n)
	}
	if SpansName != "named-entities" || MultiLabelName != "multi-label" || BoundingBoxName != "bounding-box" || TranscriptionName != "transcription" {
		t.Error("spec names changed")
	}
}

func TestCheckTaxonomyNewTypes(t *testing.T) {
	for _, n := range []string{MultiLabelName, BoundingBoxName, TranscriptionName, SpansName} {
		typ := lookupType(t, n)
		if err := typ.CheckTaxonomy([]string{"only"}); err != nil {
			t.Errorf("%s: one-class taxonomy refused: %v", n, err)
		}
		if err := typ.CheckTaxonomy([]string{"a", "b"}); err != nil {
			t.Errorf("%s: taxonomy refused: %v", n, err)
		}
		for _, bad := range []struct {
			tax []string
			err string
		}{
			{nil, "needs at least 1 class, got 0"},
			{[]string{"a", ""}, "class 2 is empty"},
			{[]string{"a", "b", "a"}, `class "a" is listed twice`},
		} {
			if err := typ.CheckTaxonomy(bad.tax); err == nil || err.Error() != bad.err {
				t.Errorf("%s: CheckTaxonomy(%q) = %v, want %q", n, bad.tax, err, bad.err)
			}
		}
	}
}

func TestMultiLabelValidate(t *testing.T) {
	typ := lookupType(t, MultiLabelName)
	item := Item{Taxonomy: []string{"cat", "dog", "outdoor"}}
	runValidationCases(t, typ, item, []validationCase{
		{`["cat","dog"]`, ""},
		{` [ "outdoor" ] `, ""},
		{`[]`, ""},
		{``, "answer: is empty"},
		{`cat`, "answer: is not valid JSON"},
		{`["cat",]`, "answer: is not valid JSON"},
		{`["cat"] ["dog"]`, "answer: unexpected data after the JSON value"},
		{`"cat"`, "answer: must be a JSON array of class names"},
		{`null`, "answer: must be a JSON array of class names"},
		{`{"labels":["cat"]}`, "answer: must be a JSON array of class names"},
		{`["cat",3]`, "labels[1]: must be a string naming a class, got 3"},
		{`["cat",null]`, "labels[1]: must be a string naming a class, got null"},
		{`["cat","bird"]`, `labels[1]: "bird" is not in the taxonomy [cat dog outdoor]`},
		{`["Cat"]`, `labels[0]: "Cat" is not in the taxonomy`},
		{`["cat","dog","cat"]`, `labels[2]: "cat" is chosen twice (also labels[0])`},
	})
}

func TestMultiLabelAgreement(t *testing.T) {
	typ := lookupType(t, MultiLabelName)
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{`["a","b","c"]`, `["b","c","d"]`, 2.0 / 4},     // {b,c} over {a,b,c,d}
		{`["a","b","c"]`, `["c","b","a"]`, 1},           // order does not matter
		{`[]`, `[]`, 1},                                 // both say none apply
		{`["a"]`, `[]`, 0},                              // one says none apply
		{`["a"]`, `["b"]`, 0},                           // disjoint
		{`["a","b"]`, `["a"]`, 1.0 / 2},                 // {a} over {a,b}
		{`["a","b","c"]`, `["a","b","c","d"]`, 3.0 / 4}, // one class more among four
		{`["a","b","c","d","e"]`, `["a","b","c","x","y"]`, 3.0 / 7},
		{`not json`, `["a"]`, 0},
	} {
		if got := typ.Agreement(Answer(c.a), Answer(c.b)); !near(got, c.want) {
			t.Errorf("Agreement(%s, %s) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := typ.Agreement(Answer(c.b), Answer(c.a)); !near(got, c.want) {
			t.Errorf("Agreement(%s, %s) = %v, want %v (not symmetric)", c.b, c.a, got, c.want)
		}
	}
	if typ.DefaultThreshold() != 0.75 {
		t.Errorf("DefaultThreshold = %v", typ.DefaultThreshold())
	}
	if !Agree(typ, Answer(`["a","b","c"]`), Answer(`["a","b","c","d"]`), 0) {
		t.Error("one class added to three shared does not agree at the default threshold")
	}
	if Agree(typ, Answer(`["a","b"]`), Answer(`["a","b","c"]`), 0) {
		t.Error("one class added to two shared agrees at the default threshold")
	}
}

func TestMultiLabelConsolidate(t *testing.T) {
	tax := []string{"outdoor", "dog", "cat", "bird"}
	ordered := MultiLabel{}.WithTaxonomy(tax)
	for _, c := range []struct {
		answers []string
		want    string
	}{
		{[]string{`["cat","dog","outdoor"]`, `["outdoor","cat","bird"]`}, `["outdoor","cat"]`}, // intersection
		{[]string{`["cat"]`, `["dog"]`}, `[]`},
		{[]string{`[]`, `[]`}, `[]`},
		{[]string{`["cat","dog"]`, `["dog","bird"]`, `["cat","dog","outdoor"]`}, `["dog","cat"]`}, // 2 of 3
		{[]string{`["cat"]`, `["dog"]`, `["bird"]`, `["cat","dog"]`}, `[]`},                       // 2 of 4 is no majority
		{[]string{`["bird","cat"]`}, `["cat","bird"]`},
	} {
		answers := make([]Answer, len(c.answers))
		for i, a := range c.answers {
			answers[i] = Answer(a)
		}
		if got := string(ordered.Consolidate(answers)); got != c.want {
			t.Errorf("Consolidate(%v) = %s, want %s", c.answers, got, c.want)
		}
	}
	if got := ordered.Consolidate(nil); got != nil {
		t.Errorf("Consolidate(nil) = %s", got)
	}
	// The registered type knows no taxonomy: classes come by name.
	typ := lookupType(t, MultiLabelName)
	if got := string(typ.Consolidate([]Answer{Answer(`["outdoor","cat"]`), Answer(`["cat","outdoor","dog"]`)})); got != `["cat","outdoor"]` {
		t.Errorf("Consolidate without taxonomy = %s", got)
	}
}

func TestMultiLabelCanonical(t *testing.T) {
	ordered := MultiLabel{}.WithTaxonomy([]string{"dog", "cat", "bird"})
	a := ordered.Canonical(Answer(` [ "cat" , "dog" ] `))
	b := ordered.Canonical(Answer(`["dog","cat"]`))
	if string(a) != `["dog","cat"]` || string(a) != string(b) {
		t.Errorf("canonical forms %s and %s, want both [\"dog\",\"cat\"]", a, b)
	}
	if got := string(ordered.Canonical(Answer(`[]`))); got != `[]` {
		t.Errorf("Canonical([]) = %s", got)
	}
	if got := string(ordered.Canonical(Answer(`["x&y","bird"]`))); got != `["bird","x&y"]` {
		t.Errorf("unknown classes not last, or escaped: %s", got)
	}
	typ := lookupType(t, MultiLabelName)
	if got := string(typ.Canonical(Answer(`["dog", "cat"]`))); got != `["cat","dog"]` {
		t.Errorf("Canonical without taxonomy = %s", got)
	}
	if got := string(typ.Canonical(Answer(`oops`))); got != `oops` {
		t.Errorf("Canonical of an unreadable answer = %s, want it unchanged", got)
	}
	// A taxonomy-ordered type is still a comparable value.
	var x, y Type = ordered, MultiLabel{}
	_ = x == y
}
