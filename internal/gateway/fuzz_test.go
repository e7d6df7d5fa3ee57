package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// fuzzTaxonomies are the classes answers are checked against, per annotation type.
var fuzzTaxonomies = map[string][]string{
	label.SingleLabelName:   {"positive", "negative", "neutral"},
	label.MultiLabelName:    {"cat", "dog", "outdoor"},
	label.BoundingBoxName:   {"car", "person"},
	label.TranscriptionName: {"text"},
	label.SpansName:         {"PER", "ORG", "LOC"},
}

// FuzzSubmitBody feeds bodies of POST /v1/projects/{project}/suites/{suite}/submit through the
// path a submission takes before it is accepted: decodeJSON as the handler calls it, then the
// answer validation of the project's annotation type, as the chunk's submit validator runs it.
// Whatever the body: a refusal is a 400 or 413 with a JSON error; a refused answer names its
// field; an accepted answer's canonical form is accepted too, stable, and agrees with the answer;
// and the body as it travels to the workflow (encoded again as JSON) gets the same verdicts.
func FuzzSubmitBody(f *testing.F) {
	for _, seed := range []struct {
		body          string
		typ           uint8
		width, height int16
		textLen       int16
	}{
		{`{"answers":[{"item":0,"answer":"positive"},{"item":1,"answer":"neutral"}]}`, 0, 0, 0, 0},
		{`{"answers":[{"item":3,"answer":["cat","outdoor"]},{"item":4,"answer":[]}]}`, 1, 0, 0, 0},
		{`{"answers":[{"item":0,"answer":{"boxes":[{"label":"car","left":10,"top":20,"width":30,"height":40}]}}]}`, 2, 100, 80, 0},
		{`{"answers":[{"item":0,"answer":{"text":"TOTAL 12.50 KES"}}]}`, 3, 0, 0, 0},
		{`{"answers":[{"item":0,"answer":{"spans":[{"start":0,"end":5,"label":"PER"},{"start":6,"end":9,"label":"ORG"}]}}]}`, 4, 0, 0, 12},
		{`{"answers":[{"item":0,"answer":"positive"}],"extra":1}`, 0, 0, 0, 0},
		{`{"answers":[{"item":"0","answer":"positive"}]}`, 0, 0, 0, 0},
		{`{"answers":[{"item":0,"answer":"<b>&"}]} {}`, 0, 0, 0, 0},
		{`{"answers":[{"item":0,"answer":{"text":"\u2028 caf` + "\xe9" + `"}}]}`, 3, 0, 0, 0},
		{`{"answers":[{"item":0,"answer":{"spans":[{"start":0,"end":5,"label":"PER"},{"start":4,"end":6,"label":"PER"}]}}]}`, 4, 0, 0, 0},
		{`{"answers":null}`, 0, 0, 0, 0},
		{``, 0, 0, 0, 0},
	} {
		f.Add([]byte(seed.body), seed.typ, seed.width, seed.height, seed.textLen)
	}
	names := label.Names()
	f.Fuzz(func(t *testing.T, body []byte, typ uint8, width, height, textLen int16) {
		name := names[int(typ)%len(names)]
		kind, err := label.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		item := label.Item{Taxonomy: fuzzTaxonomies[name], Width: int(width), Height: int(height), TextLen: max(int(textLen), 0)}

		answers, ok := decodeSubmitBody(t, body)
		if !ok {
			return
		}
		verdicts := make([]error, len(answers))
		for i, a := range answers {
			verdicts[i] = checkAnswer(t, kind, a.Answer, item)
		}

		// What the workflow receives: the request, converted to its message, as JSON.
		sent, err := json.Marshal(submitRequest(workforce.Person{ID: "p"}, "c000000-s00000", SubmitBody{Answers: answers}))
		if err != nil {
			t.Fatalf("accepted body does not encode: %v", err)
		}
		var req workflows.SubmitRequest
		if err := json.Unmarshal(sent, &req); err != nil || len(req.Answers) != len(answers) {
			t.Fatalf("accepted body does not reach the workflow whole (%v): %s", err, sent)
		}
		again := req.Answers
		for i, a := range again {
			err := kind.Validate(a.Answer, item)
			if a.Item != answers[i].Item || (err == nil) != (verdicts[i] == nil) {
				t.Fatalf("answers[%d] changed through JSON: item %d→%d, verdict %v→%v\n%s\n%s",
					i, answers[i].Item, a.Item, verdicts[i], err, answers[i].Answer, a.Answer)
			}
			if err == nil && !bytes.Equal(kind.Canonical(a.Answer), kind.Canonical(answers[i].Answer)) {
				t.Fatalf("answers[%d]: canonical form changed through JSON: %s → %s", i, answers[i].Answer, a.Answer)
			}
		}
	})
}

// decodeSubmitBody decodes a body as the submit handler does. A refusal must be answered with a
// 400 or 413 carrying a JSON error that says what is wrong.
func decodeSubmitBody(t *testing.T, body []byte) ([]AnswerBody, bool) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/v1/projects/p/suites/c000000-s00000/submit", bytes.NewReader(body))
	var sb SubmitBody
	if decodeJSON(rec, req, maxBodyBytes, &sb) {
		return sb.Answers, true
	}
	if rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("refused body answered %d", rec.Code)
	}
	var e ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || !strings.HasPrefix(e.Error.Message, "body: ") {
		t.Fatalf("refusal does not say what is wrong with the body: %s", rec.Body.Bytes())
	}
	return nil, false
}

// checkAnswer validates one answer and asserts what validation promises either way.
func checkAnswer(t *testing.T, kind label.Type, a label.Answer, item label.Item) error {
	t.Helper()
	err := kind.Validate(a, item)
	// Whatever the answer, the other methods must not panic either.
	canon := kind.Canonical(a)
	agreement := kind.Agreement(a, canon)
	if agreement < 0 || agreement > 1 {
		t.Fatalf("agreement %v outside [0, 1]", agreement)
	}
	if err != nil {
		if !strings.Contains(err.Error(), ": ") {
			t.Fatalf("error names no field: %v", err)
		}
		return err
	}
	if err := kind.Validate(canon, item); err != nil {
		t.Fatalf("canonical form %s of valid answer %s is refused: %v", canon, a, err)
	}
	if again := kind.Canonical(canon); !bytes.Equal(again, canon) {
		t.Fatalf("canonical form not stable: %s then %s", canon, again)
	}
	if agreement != 1 || kind.Agreement(a, a) != 1 {
		t.Fatalf("valid answer %s does not fully agree with itself or its canonical form %s", a, canon)
	}
	if merged := kind.Consolidate([]label.Answer{a, canon}); kind.Validate(merged, item) != nil {
		t.Fatalf("consolidation %s of valid answer %s is refused: %v", merged, a, kind.Validate(merged, item))
	}
	return nil
}
