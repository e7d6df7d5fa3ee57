package results

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/label"
)

func TestLabelledLineKeepsTheClientsLine(t *testing.T) {
	meta := LabelMetadata{Method: "agreed", Annotators: []string{"a", "b"}, Confidence: 0.97}
	got, err := LabelledLine(json.RawMessage(`{"source":"hi","z":1,"a":{"b":2}}`), label.Answer(`"cat"`), meta)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), `{"source":"hi","z":1,"a":{"b":2},"label":"cat","label-metadata":{"method":"agreed"`) {
		t.Fatalf("line = %s", got)
	}
	var v map[string]any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("not JSON: %s", got)
	}
	if got, _ := LabelledLine(json.RawMessage(`{}`), label.Answer(`"cat"`), meta); !bytes.HasPrefix(got, []byte(`{"label":"cat"`)) {
		t.Fatalf("empty object line = %s", got)
	}
	if _, err := LabelledLine(json.RawMessage(`[1]`), label.Answer(`"cat"`), meta); err == nil {
		t.Fatal("array line accepted")
	}
	// An answer that arrives indented (as from an indented store object) stays on one line.
	boxes := label.Answer("{\n  \"boxes\": [\n    {\"label\": \"car\", \"left\": 1}\n  ]\n}")
	if got, err := LabelledLine(json.RawMessage(`{"id":"x"}`), boxes, meta); err != nil || bytes.ContainsRune(got, '\n') ||
		!bytes.Contains(got, []byte(`"label":{"boxes":[{"label":"car","left":1}]}`)) {
		t.Fatalf("indented answer gave %s, %v", got, err)
	}
}
