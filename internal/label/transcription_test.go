package label

import (
	"strings"
	"testing"
)

func TestLevenshtein(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"kitten", "sitting", 3}, // k→s, e→i, +g
		{"flaw", "lawn", 2},
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "abc", 0},
		{"abc", "", 3},
		{"café", "cafe", 1},      // é is one rune (two bytes)
		{"日本語", "日本", 1},         // three-byte runes
		{"日本語", "中国語", 2},        // two substitutions
		{"naïve", "naive", 1},    // one rune, not the two bytes of ï
		{"👍🏽ok", "👍ok", 1},       // four-byte runes: skin-tone modifier deleted
		{"straße", "strasse", 2}, // ß→s, +s
	} {
		if got := Levenshtein([]rune(c.a), []rune(c.b)); got != c.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Levenshtein([]rune(c.b), []rune(c.a)); got != c.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d (not symmetric)", c.b, c.a, got, c.want)
		}
	}
}

func TestNormaliseTranscription(t *testing.T) {
	for in, want := range map[string]string{
		"  Hello   World \n":       "hello world",
		"Tab\there\r\nnew  line":   "tab here new line",
		"ÉCOLE\u00a0Maternelle":    "école maternelle", // no-break space is whitespace
		"":                         "",
		" \t ":                     "",
		"already normal":           "already normal",
		"Mixed CASE and    spaces": "mixed case and spaces",
	} {
		if got := normaliseTranscription(in); got != want {
			t.Errorf("normaliseTranscription(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTranscriptionAgreement(t *testing.T) {
	typ := lookupType(t, TranscriptionName)
	text := func(s string) Answer { return marshalAnswer(map[string]string{"text": s}) }
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"Hello  World", " hello world\n", 1},        // case and spacing set aside
		{"kitten", "sitting", 1 - 3.0/7},             // 3 edits over 7 runes
		{"café", "cafe", 1 - 1.0/4},                  // runes, not bytes
		{"The cat sat.", "The cat sat!", 1 - 1.0/12}, // one character of 12
		{"abc", "xyz", 0},                            // nothing in common
		{"", "  ", 1},                                // both empty once normalised
		{"abc", "", 0},                               // against nothing
		{"日本語のテキスト", "日本語テキスト", 1 - 1.0/8}, // one rune deleted of 8
	} {
		if got := typ.Agreement(text(c.a), text(c.b)); !near(got, c.want) {
			t.Errorf("Agreement(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := typ.Agreement(text(c.b), text(c.a)); !near(got, c.want) {
			t.Errorf("Agreement(%q, %q) = %v, want %v (not symmetric)", c.b, c.a, got, c.want)
		}
	}
	if got := typ.Agreement(Answer(`"text"`), text("text")); got != 0 {
		t.Errorf("unreadable answer agrees at %v", got)
	}
	if typ.DefaultThreshold() != 0.9 {
		t.Errorf("DefaultThreshold = %v", typ.DefaultThreshold())
	}
	if !Agree(typ, text("The quick brown fox jumps"), text("The quick brown fox jumped"), 0) {
		t.Error("two edits in 26 characters do not agree at the default threshold")
	}
	if Agree(typ, text("red car"), text("red bus"), 0) {
		t.Error("a different word in a short text agrees at the default threshold")
	}
}

func TestTranscriptionValidate(t *testing.T) {
	typ := lookupType(t, TranscriptionName)
	item := Item{Taxonomy: []string{"text"}}
	long := func(n int) string { return `{"text":"` + strings.Repeat("é", n) + `"}` }
	runValidationCases(t, typ, item, []validationCase{
		{`{"text":"Hello, world"}`, ""},
		{`{"text":"  padded  "}`, ""},
		{`{"text":"line\nbreak <b>&</b>"}`, ""},
		{long(MaxTranscriptionLength), ""}, // 10,000 code points, 20,000 bytes
		{long(MaxTranscriptionLength + 1), "text: at most 10000 characters, got 10001"},
		{"{\"text\":\"caf\xe9\"}", "text: is not valid UTF-8"}, // Latin-1 é
		{"{\"text\":\"\xff\xfe\"}", "text: is not valid UTF-8"},
		{`{"text":""}`, "text: must not be empty or only whitespace"},
		{`{"text":" \n\t\u00a0"}`, "text: must not be empty or only whitespace"},
		{`{}`, "text: is required"},
		{`{"text":null}`, "text: is required"},
		{`{"text":3}`, "text: must be a string, got number"},
		{`{"text":["a"]}`, "text: must be a string, got array"},
		{`{"text":"bonjour","lang":"fr"}`, "lang: unknown field"},
		{`"Hello"`, `answer: must be a JSON object {"text": "..."}, got "Hello"`},
		{`Hello`, "answer: is not valid JSON"},
		{`{"text":"a"}{"text":"b"}`, "answer: unexpected data after the JSON value"},
		{``, "answer: is empty"},
	})
}

func TestTranscriptionConsolidateCanonical(t *testing.T) {
	typ := lookupType(t, TranscriptionName)
	answers := []Answer{Answer(`{"text":"  The Cat sat.  "}`), Answer(`{"text":"the cat sat"}`)}
	if got, want := string(typ.Consolidate(answers)), `{"text":"The Cat sat."}`; got != want {
		t.Errorf("Consolidate = %s, want the first text %s", got, want)
	}
	if got := typ.Consolidate(nil); got != nil {
		t.Errorf("Consolidate(nil) = %s", got)
	}
	a := typ.Canonical(Answer("{ \"text\" : \"\\n  <b>Fish & chips</b>  \" }"))
	b := typ.Canonical(Answer(`{"text":"<b>Fish & chips</b>"}`))
	if string(a) != `{"text":"<b>Fish & chips</b>"}` || string(a) != string(b) {
		t.Errorf("canonical forms %s and %s", a, b)
	}
	// Inner spacing and case are kept: only comparison normalises them.
	if got := string(typ.Canonical(Answer(`{"text":"A  b"}`))); got != `{"text":"A  b"}` {
		t.Errorf("Canonical = %s", got)
	}
	if got := string(typ.Canonical(Answer(`nope`))); got != `nope` {
		t.Errorf("Canonical of an unreadable answer = %s, want it unchanged", got)
	}
}

func BenchmarkTranscriptionAgreement(b *testing.B) {
	x := Answer(`{"text":"` + strings.Repeat("the quick brown fox ", 100) + `"}`)
	y := Answer(`{"text":"` + strings.Repeat("the quick brown cat ", 100) + `"}`)
	typ := Transcription{}
	b.ReportAllocs()
	for b.Loop() {
		typ.Agreement(x, y)
	}
}
