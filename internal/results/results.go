// Package results owns the outcome of labelled items: what the chunk workflow hands over for each
// settled item (Item, with each person's Contribution), and the delivered line the platform keeps
// of it in projects/<id>/results/ (internal/layout) — the client's line with "label" and
// "label-metadata" added — from which every delivery and re-delivery is made.
package results

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/labelflow/labelflow/internal/formats"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/store"
)

// Contribution is one person's answer to one item.
type Contribution struct {
	Worker      string       `json:"worker"`
	Answer      label.Answer `json:"answer,omitempty"` // dropped once stored (StoreSettled)
	SubmittedAt time.Time    `json:"submitted_at"`
	Seconds     int          `json:"seconds"` // time from claim to submit, per task of the suite
	// Accuracy is the person's estimated accuracy when they claimed the work (0: unknown).
	Accuracy float64 `json:"accuracy,omitempty"`
}

// Item is the outcome of one item, as the chunk workflow hands it over. It travels in workflow
// history and in the settled parts of the store, so its JSON shape is fixed.
type Item struct {
	Item        int             `json:"item"`
	Final       json.RawMessage `json:"final"`
	Method      string          `json:"method"`
	Annotations []Contribution  `json:"annotations"`
	Arbitration *Contribution   `json:"arbitration,omitempty"`
}

// Methods by which an item's label became final.
const (
	MethodAgreed     = "agreed"
	MethodArbitrated = "arbitrated"
	MethodOverlap    = "overlap" // settled by asking more annotators
	MethodDisputed   = "disputed"
)

// LabelMetadata is added to each delivered line beside the label.
type LabelMetadata struct {
	Method      string    `json:"method"`
	Annotators  []string  `json:"annotators"`
	Reviewer    string    `json:"reviewer,omitempty"`
	Answers     []any     `json:"answers"`
	Confidence  float64   `json:"confidence"`
	Type        string    `json:"type"`
	Project     string    `json:"project"`
	CompletedAt time.Time `json:"completed_at"`
	// Times are each answer's times, in the order of Annotators and then the Reviewer's (see
	// TimesOf): clients' tools such as Ground Truth's worker responses give them per answer.
	Times []formats.AnswerTime `json:"times,omitempty"`
}

// TimesOf returns the times of an item's answers, annotations first and then the arbitration.
// A suite's tasks are claimed and submitted together, and its time is shared evenly by its
// tasks (Contribution.Seconds), so an answer was taken up its share of the time before the
// suite was submitted.
func TimesOf(it Item) []formats.AnswerTime {
	out := make([]formats.AnswerTime, 0, len(it.Annotations)+1)
	for _, c := range it.Annotations {
		out = append(out, c.Time())
	}
	if it.Arbitration != nil {
		out = append(out, it.Arbitration.Time())
	}
	return out
}

// Time is when the person took the answer up and submitted it, and the seconds it took.
func (c Contribution) Time() formats.AnswerTime {
	at := c.SubmittedAt.UTC()
	return formats.AnswerTime{AcceptedAt: at.Add(-time.Duration(c.Seconds) * time.Second), SubmittedAt: at, Seconds: c.Seconds}
}

// LabelledLine appends "label" and "label-metadata" to the client's original JSON object, keeping
// its fields and their order untouched.
func LabelledLine(original, final json.RawMessage, meta LabelMetadata) ([]byte, error) {
	trimmed := bytes.TrimSpace(original)
	if len(trimmed) < 2 || trimmed[0] != '{' || trimmed[len(trimmed)-1] != '}' {
		return nil, fmt.Errorf("input line is not a JSON object")
	}
	m, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(trimmed[:len(trimmed)-1])
	if len(bytes.TrimSpace(trimmed[1:len(trimmed)-1])) > 0 {
		b.WriteByte(',')
	}
	b.WriteString(`"label":`)
	// Compact, so that the line stays one line whatever formatting the answer came with.
	if err := json.Compact(&b, final); err != nil {
		return nil, fmt.Errorf("label: %v", err)
	}
	b.WriteString(`,"label-metadata":`)
	b.Write(m)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ForEachChunk reads a project's recorded results one chunk file at a time, in key order, so
// memory holds a chunk, not the project. fn gets the file's key and its delivered lines.
func ForEachChunk(ctx context.Context, s *store.Store, project string, fn func(key string, lines []formats.Line) error) error {
	return s.List(ctx, layout.ResultsPrefix(project), func(key string, _ int64) error {
		data, err := s.Get(ctx, key)
		if err != nil {
			return err
		}
		lines, err := formats.ParseLines(data)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return fn(key, lines)
	})
}
