package formats

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Label Studio names used in exported results. A Label Studio project importing these tasks
// labels with one control tag named "label" on an object tag named "text" (items with a source)
// or "image" (items with a source-ref).
const (
	lsFromName   = "label"
	lsText       = "text"
	lsImage      = "image"
	lsDateLayout = "2006-01-02T15:04:05.000000Z"
)

type lsTask struct {
	ID          int            `json:"id"`
	Data        object         `json:"data"`
	Annotations []lsAnnotation `json:"annotations"`
	Meta        lsMeta         `json:"meta"`
}

type lsAnnotation struct {
	ID           int        `json:"id"`
	Result       []lsResult `json:"result"`
	CompletedBy  string     `json:"completed_by"`
	WasCancelled bool       `json:"was_cancelled"`
	GroundTruth  bool       `json:"ground_truth"`
	CreatedAt    string     `json:"created_at"`
}

type lsResult struct {
	ID             string `json:"id"`
	FromName       string `json:"from_name"`
	ToName         string `json:"to_name"`
	Type           string `json:"type"`
	OriginalWidth  int    `json:"original_width,omitempty"`
	OriginalHeight int    `json:"original_height,omitempty"`
	ImageRotation  *int   `json:"image_rotation,omitempty"`
	Value          any    `json:"value"`
}

type lsChoices struct {
	Choices []string `json:"choices"`
}

type lsRectangle struct {
	X               float64  `json:"x"`
	Y               float64  `json:"y"`
	Width           float64  `json:"width"`
	Height          float64  `json:"height"`
	Rotation        float64  `json:"rotation"`
	RectangleLabels []string `json:"rectanglelabels"`
}

type lsTextArea struct {
	Text []string `json:"text"`
}

type lsLabels struct {
	Start  int      `json:"start"`
	End    int      `json:"end"`
	Text   *string  `json:"text,omitempty"`
	Labels []string `json:"labels"`
}

// lsMeta keeps what LabelFlow knows of how the label was reached.
type lsMeta struct {
	ID          string            `json:"id,omitempty"`
	Project     string            `json:"project"`
	Type        string            `json:"type"`
	Method      string            `json:"method"`
	Confidence  float64           `json:"confidence"`
	Annotators  []string          `json:"annotators"`
	Reviewer    string            `json:"reviewer,omitempty"`
	Answers     []json.RawMessage `json:"answers"`
	CompletedAt string            `json:"completed_at"`
}

// LabelStudio writes lines as a Label Studio JSON export: an array of tasks, task n (1-based)
// having id n and one annotation, also with id n.
//
// A task's data holds "text" (the line's source) or "image" (its source-ref) followed by the
// line's original fields (an original field with that same name is left out). The annotation's
// completed_by is the reviewer when there is one, else the first annotator; created_at is
// completed_at; ground_truth is false. meta holds the line's id, project, type, method,
// confidence, annotators, reviewer, individual answers and completed_at.
//
// Results: single- and multi-label give one "choices" result; bounding-box one
// "rectanglelabels" result per box, with x, y, width and height in percent of the image size
// (read from the line's width/height or image_size fields, required when there are boxes) and
// original_width/original_height in pixels; transcription one "textarea" result; named-entities
// one "labels" result per span with start and end (offsets in Unicode code points) and the
// spanned text. When taxonomy is not empty, every class must belong to it.
func LabelStudio(lines []Line, taxonomy []string) ([]byte, error) {
	idx := classIndex(taxonomy)
	tasks := make([]lsTask, 0, len(lines))
	for i, l := range lines {
		t, err := labelStudioTask(l, i+1, idx)
		if err != nil {
			return nil, lineError(l, i, "%v", err)
		}
		tasks = append(tasks, t)
	}
	return marshal(tasks)
}

func labelStudioTask(l Line, n int, idx map[string]int) (lsTask, error) {
	check := func(class string) error {
		if len(idx) == 0 {
			return nil
		}
		if _, ok := idx[class]; !ok {
			return fmt.Errorf("class %q is not in the taxonomy", class)
		}
		return nil
	}
	dataKey, dataValue := lsText, l.Source
	if l.Source == "" && l.SourceRef != "" {
		dataKey, dataValue = lsImage, l.SourceRef
	}
	fields, err := originalFields(l)
	if err != nil {
		return lsTask{}, err
	}
	data := object{}
	if err := data.set(dataKey, dataValue); err != nil {
		return lsTask{}, err
	}
	for _, f := range fields {
		if f.key != dataKey {
			data = append(data, f)
		}
	}

	var results []lsResult
	result := func(typ string, value any) lsResult {
		return lsResult{
			ID:       fmt.Sprintf("%d-%d", n, len(results)+1),
			FromName: lsFromName,
			ToName:   dataKey,
			Type:     typ,
			Value:    value,
		}
	}
	switch l.Meta.Type {
	case TypeSingleLabel:
		class, err := decodeSingle(l)
		if err != nil {
			return lsTask{}, err
		}
		if err := check(class); err != nil {
			return lsTask{}, err
		}
		results = append(results, result("choices", lsChoices{Choices: []string{class}}))
	case TypeMultiLabel:
		classes, err := decodeMulti(l)
		if err != nil {
			return lsTask{}, err
		}
		for _, c := range classes {
			if err := check(c); err != nil {
				return lsTask{}, err
			}
		}
		results = append(results, result("choices", lsChoices{Choices: classes}))
	case TypeBoundingBox:
		boxes, err := decodeBoxes(l)
		if err != nil {
			return lsTask{}, err
		}
		if len(boxes) == 0 {
			break
		}
		size, ok, err := sizeOf(l)
		if err != nil {
			return lsTask{}, err
		}
		if !ok {
			return lsTask{}, errors.New("the image size is unknown: the line needs width and height (or image_size) fields")
		}
		w, h := float64(size.Width), float64(size.Height)
		for k, b := range boxes {
			if err := check(b.Label); err != nil {
				return lsTask{}, fmt.Errorf("boxes[%d]: %v", k, err)
			}
			r := result("rectanglelabels", lsRectangle{
				X:               num(b.Left) * 100 / w,
				Y:               num(b.Top) * 100 / h,
				Width:           num(b.Width) * 100 / w,
				Height:          num(b.Height) * 100 / h,
				RectangleLabels: []string{b.Label},
			})
			r.OriginalWidth, r.OriginalHeight = size.Width, size.Height
			r.ImageRotation = new(int)
			results = append(results, r)
		}
	case TypeTranscription:
		text, err := decodeTranscription(l)
		if err != nil {
			return lsTask{}, err
		}
		results = append(results, result("textarea", lsTextArea{Text: []string{text}}))
	case TypeNamedEntities:
		spans, err := decodeSpans(l)
		if err != nil {
			return lsTask{}, err
		}
		runes := []rune(l.Source)
		for k, s := range spans {
			if err := check(s.Label); err != nil {
				return lsTask{}, fmt.Errorf("spans[%d]: %v", k, err)
			}
			v := lsLabels{Start: s.Start, End: s.End, Labels: []string{s.Label}}
			if l.Source != "" {
				if s.Start < 0 || s.End < s.Start || s.End > len(runes) {
					return lsTask{}, fmt.Errorf("spans[%d]: [%d,%d) is outside the text of %d characters", k, s.Start, s.End, len(runes))
				}
				text := string(runes[s.Start:s.End])
				v.Text = &text
			}
			results = append(results, result("labels", v))
		}
	default:
		return lsTask{}, fmt.Errorf("annotation type %q has no Label Studio form", l.Meta.Type)
	}
	if results == nil {
		results = []lsResult{}
	}

	by := l.Meta.Reviewer
	if by == "" && len(l.Meta.Annotators) > 0 {
		by = l.Meta.Annotators[0]
	}
	created := l.Meta.CompletedAt.UTC().Format(lsDateLayout)
	meta := lsMeta{
		ID: l.ID, Project: l.Meta.Project, Type: l.Meta.Type, Method: l.Meta.Method,
		Confidence: l.Meta.Confidence, Annotators: l.Meta.Annotators, Reviewer: l.Meta.Reviewer,
		Answers: l.Meta.Answers, CompletedAt: created,
	}
	if meta.Annotators == nil {
		meta.Annotators = []string{}
	}
	if meta.Answers == nil {
		meta.Answers = []json.RawMessage{}
	}
	return lsTask{
		ID:   n,
		Data: data,
		Annotations: []lsAnnotation{{
			ID: n, Result: results, CompletedBy: by, GroundTruth: false, CreatedAt: created,
		}},
		Meta: meta,
	}, nil
}
