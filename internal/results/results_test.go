package results

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

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

// Each answer keeps its own times: the reviewer's differ from the annotators', and each is taken
// up its share of its suite's time before the suite was submitted.
func TestEveryAnswerKeepsItsOwnTimes(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	it := Item{
		Annotations: []Contribution{{Worker: "a", SubmittedAt: at, Seconds: 12}, {Worker: "b", SubmittedAt: at.Add(time.Minute), Seconds: 30}},
		Arbitration: &Contribution{Worker: "r", SubmittedAt: at.Add(time.Hour), Seconds: 5},
	}
	times := TimesOf(it)
	if len(times) != 3 {
		t.Fatalf("%d times for 3 answers", len(times))
	}
	want := []struct {
		accepted, submitted time.Time
		seconds             int
	}{
		{at.Add(-12 * time.Second), at, 12},
		{at.Add(time.Minute - 30*time.Second), at.Add(time.Minute), 30},
		{at.Add(time.Hour - 5*time.Second), at.Add(time.Hour), 5},
	}
	for i, w := range want {
		if !times[i].AcceptedAt.Equal(w.accepted) || !times[i].SubmittedAt.Equal(w.submitted) || times[i].Seconds != w.seconds {
			t.Errorf("answer %d: %+v, want %+v", i, times[i], w)
		}
	}
	line, err := LabelledLine(json.RawMessage(`{"id":"x"}`), label.Answer(`"cat"`), LabelMetadata{Times: times})
	if err != nil || !bytes.Contains(line, []byte(`"times":[{"accepted_at":"2026-03-04T09:59:48Z","submitted_at":"2026-03-04T10:00:00Z","seconds":12}`)) {
		t.Fatalf("line %s, %v", line, err)
	}
}
