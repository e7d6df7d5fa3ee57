package spec

import (
	"errors"
	"strings"
	"testing"
)

// specWithID is a valid spec but for its id, which is on line 1.
func specWithID(id string) string {
	return `id: ` + id + `
client: Victoria
source: s3://labelflow/inputs/vic.jsonl
annotation:
  taxonomy: [yes, no]
  instructions: Answer the question.
delivery:
  bucket: vic-results
  region: us-east-1
  credentials: vic
pay:
  currency: USD
  per_annotation: "0.05"
  per_arbitration: "0.10"
`
}

func TestParseRefusesAnIDThatIsAnotherProjectsChunk(t *testing.T) {
	_, err := Parse("vic.yaml", []byte(specWithID("vic-chunk-000000")))
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("id vic-chunk-000000 accepted (err %v)", err)
	}
	if len(se.Fields) != 1 || se.Fields[0].Field != "id" || se.Fields[0].Line != 1 {
		t.Fatalf("want one problem with id on line 1, got %+v", se.Fields)
	}
	msg := se.Error()
	for _, want := range []string{`vic.yaml:1: id: must not contain "-chunk-"`, `project-vic-chunk-000000 is the workflow id of chunk 0 of project "vic"`, `got "vic-chunk-000000"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}

	if _, err := Parse("vic.yaml", []byte(specWithID("vic"))); err != nil {
		t.Fatalf("id vic refused: %v", err)
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"vic": true, "acme-reviews-dev": true, "0": true, "chunk": true, "chunk-1": true, "vic-chunk": true,
		"vic-chunks-1": true, "vic-chunk0": true, strings.Repeat("a", 63): true,
		"vic-chunk-000000": false, "vic-chunk-1234567": false, "vic-chunk-x": false, "a-chunk-b-c": false,
		"": false, "-vic": false, "Vic": false, "vic_1": false, "vic/1": false, strings.Repeat("a", 64): false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}
