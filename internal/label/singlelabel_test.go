package label

import "testing"

func TestSingleLabel(t *testing.T) {
	typ, err := Lookup(SingleLabelName)
	if err != nil {
		t.Fatal(err)
	}
	tax := Item{Taxonomy: []string{"positive", "negative"}}
	if err := typ.Validate(Answer(`"positive"`), tax); err != nil {
		t.Errorf("valid label refused: %v", err)
	}
	for _, bad := range []string{`"neutral"`, `3`, `["positive"]`, ``, `"Positive"`} {
		if err := typ.Validate(Answer(bad), tax); err == nil {
			t.Errorf("answer %s accepted", bad)
		}
	}
	if !Agree(typ, Answer(`"positive"`), Answer(` "positive"`), 0) {
		t.Error("same class does not agree")
	}
	if Agree(typ, Answer(`"positive"`), Answer(`"negative"`), 0) {
		t.Error("different classes agree")
	}
	if got := string(typ.Canonical(Answer(` "positive" `))); got != `"positive"` {
		t.Errorf("canonical = %s", got)
	}
	if err := typ.CheckTaxonomy([]string{"a", "a"}); err == nil {
		t.Error("duplicate class accepted")
	}
	if err := typ.CheckTaxonomy([]string{"a"}); err == nil {
		t.Error("one-class taxonomy accepted")
	}
	if _, err := Lookup("nope"); err == nil {
		t.Error("unknown type found")
	}
}
