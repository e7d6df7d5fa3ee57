package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzParse feeds project specs to Parse. Whatever the input, Parse answers without panicking:
// either a spec that is valid through and through and survives a round trip through YAML, or an
// *Error whose every problem names a field and a reason, with a line inside the document.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../../deploy/examples/project.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(example), fullSpec, fullSpecJSON, minimalSpec,
		strings.Replace(fullSpec, "chunk_size: 250", "chunk_size: lots", 1),
		strings.Replace(minimalSpec, "id: minimal", "id: minimal-chunk-000000", 1),
		minimalSpec + "quality:\n  overlap: {mode: dynamic}\n  gold: {source: s3://b/gold.jsonl}\n",
		minimalSpec + "delivery:\n  formats: [coco, xml]\n  encryption: {type: aws:kms, kms_key_id: k}\n",
		"id: [unclosed\n", "- a\n- b\n", "", "{}", "id: a\nid: b\n", "&a [*a]", "colour: red\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			checkSpecError(t, data, err)
			return
		}
		if !ValidID(p.ID) {
			t.Fatalf("accepted id %q that ValidID refuses", p.ID)
		}
		if errs := p.validate(); len(errs) > 0 {
			t.Fatalf("accepted spec does not validate again: %+v", errs)
		}
		again := p
		again.applyDefaults()
		if !sameProject(p, again) {
			t.Fatalf("defaults applied twice change the spec:\n%+v\n%+v", p, again)
		}
		out, err := yaml.Marshal(p)
		if err != nil {
			t.Fatalf("marshal accepted spec: %v", err)
		}
		back, err := Parse("fuzz.yaml", out)
		if err != nil {
			t.Fatalf("accepted spec refused once written back:\n%s\n%v", out, err)
		}
		if !sameProject(p, back) {
			t.Fatalf("spec changed through a round trip:\n%+v\n%+v", p, back)
		}
	})
}

// An unknown key is named whole, even empty or with spaces (FuzzParse found an empty one named
// by nothing at all).
func TestParseUnknownFieldNamesTheKey(t *testing.T) {
	for key, want := range map[string]string{`colour`: `colour`, `"a b"`: `"a b"`, `""`: `""`} {
		_, err := Parse("p.yaml", []byte(minimalSpec+key+": 1\n"))
		var se *Error
		if !errors.As(err, &se) || len(se.Fields) != 1 {
			t.Fatalf("key %s: want one problem, got %v", key, err)
		}
		if f := se.Fields[0]; f.Field != want || f.Reason != "unknown field" || f.Line != 15 {
			t.Errorf("key %s: got %+v, want field %s, unknown field, line 15", key, f, want)
		}
	}
}

// checkSpecError asserts that a refusal says what is wrong and where.
func checkSpecError(t *testing.T, data []byte, err error) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error is a %T, not a *spec.Error: %v", err, err)
	}
	if se.File != "fuzz.yaml" || len(se.Fields) == 0 {
		t.Fatalf("error names no file or no problem: %+v", se)
	}
	// YAML breaks lines at \n, \r (\r\n is one break, counted twice here: a bound is enough) and
	// at NEL, LS and PS.
	lines := 1
	for _, brk := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
		lines += bytes.Count(data, []byte(brk))
	}
	for _, fe := range se.Fields {
		if fe.Field == "" || strings.TrimSpace(fe.Reason) == "" {
			t.Fatalf("problem without a field or a reason: %+v", fe)
		}
		if fe.Line < 0 || fe.Line > lines {
			t.Fatalf("problem on line %d of a %d-line document: %+v", fe.Line, lines, fe)
		}
	}
	if !strings.HasPrefix(se.Error(), "fuzz.yaml: ") {
		t.Fatalf("message does not start with the file: %q", se.Error())
	}
}

// sameProject compares specs as they are stored (JSON), where an empty list and no list are one.
func sameProject(a, b Project) bool {
	x, errX := json.Marshal(a)
	y, errY := json.Marshal(b)
	return errX == nil && errY == nil && bytes.Equal(x, y)
}
