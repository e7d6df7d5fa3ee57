package formats

import (
	"encoding/json"
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

// lsAnnotation is one annotation as Label Studio imports it (label_studio/tasks/serializers.py,
// BaseTaskSerializerBulk): it reads result, ground_truth (true when absent), was_cancelled,
// lead_time, id and completed_by, and ignores the rest. completed_by is left out: Label Studio
// accepts only the id or the email of a member of its own organisation there and rolls back the
// whole import on anything else, while without it the annotation is credited to the person who
// imports. Who answered stays in the task's meta, under their pseudonyms.
type lsAnnotation struct {
	ID           int        `json:"id"`
	Result       []lsResult `json:"result"`
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

// lsMeta keeps what LabelFlow knows of how the label was reached. Label Studio keeps a task's
// meta as it is (a JSON object). The individual answers are here rather than in predictions,
// which Label Studio keeps for a model's output.
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
// line's original fields (an original field with that same name is left out). The annotation
// has no completed_by (see lsAnnotation); created_at is completed_at; ground_truth is false.
// meta holds the line's id, project, type, method, confidence, annotators, reviewer, individual
// answers and completed_at.
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
	dataKey, data, err := labelStudioData(l)
	if err != nil {
		return lsTask{}, err
	}
	rs := lsResultSet{task: n, toName: dataKey, classes: idx}
	if err := rs.addAnswer(l); err != nil {
		return lsTask{}, err
	}
	meta := labelStudioMeta(l)
	return lsTask{
		ID:   n,
		Data: data,
		Annotations: []lsAnnotation{{
			ID: n, Result: rs.list(), GroundTruth: false, CreatedAt: meta.CompletedAt,
		}},
		Meta: meta,
	}, nil
}

// labelStudioData returns the name of the object tag the results point at ("text" or "image")
// and the task's data: that tag's value first, then the line's original fields.
func labelStudioData(l Line) (string, object, error) {
	dataKey, dataValue := lsText, l.Source
	if l.Source == "" && l.SourceRef != "" {
		dataKey, dataValue = lsImage, l.SourceRef
	}
	fields, err := originalFields(l)
	if err != nil {
		return "", nil, err
	}
	data := object{}
	if err := data.set(dataKey, dataValue); err != nil {
		return "", nil, err
	}
	for _, f := range fields {
		if f.key != dataKey {
			data = append(data, f)
		}
	}
	return dataKey, data, nil
}

func labelStudioMeta(l Line) lsMeta {
	meta := lsMeta{
		ID: l.ID, Project: l.Meta.Project, Type: l.Meta.Type, Method: l.Meta.Method,
		Confidence: l.Meta.Confidence, Annotators: l.Meta.Annotators, Reviewer: l.Meta.Reviewer,
		Answers: l.Meta.Answers, CompletedAt: l.Meta.CompletedAt.UTC().Format(lsDateLayout),
	}
	if meta.Annotators == nil {
		meta.Annotators = []string{}
	}
	if meta.Answers == nil {
		meta.Answers = []json.RawMessage{}
	}
	return meta
}

// lsResultSet collects the results of one task, numbered "<task>-<k>" in the order added.
type lsResultSet struct {
	task    int
	toName  string
	classes map[string]int // the taxonomy; empty: any class goes
	results []lsResult
}

func (s *lsResultSet) add(typ string, value any) *lsResult {
	s.results = append(s.results, lsResult{
		ID:       fmt.Sprintf("%d-%d", s.task, len(s.results)+1),
		FromName: lsFromName,
		ToName:   s.toName,
		Type:     typ,
		Value:    value,
	})
	return &s.results[len(s.results)-1]
}

// list returns the results; an empty list rather than null, which Label Studio refuses.
func (s *lsResultSet) list() []lsResult {
	if s.results == nil {
		return []lsResult{}
	}
	return s.results
}

func (s *lsResultSet) check(class string) error {
	if len(s.classes) == 0 {
		return nil
	}
	if _, ok := s.classes[class]; !ok {
		return fmt.Errorf("class %q is not in the taxonomy", class)
	}
	return nil
}

// addAnswer adds the results of the line's answer, in the form of its annotation type.
func (s *lsResultSet) addAnswer(l Line) error {
	switch l.Meta.Type {
	case TypeSingleLabel:
		return s.addSingleLabel(l)
	case TypeMultiLabel:
		return s.addMultiLabel(l)
	case TypeBoundingBox:
		return s.addBoxes(l)
	case TypeTranscription:
		return s.addTranscription(l)
	case TypeNamedEntities:
		return s.addSpans(l)
	default:
		return fmt.Errorf("annotation type %q has no Label Studio form", l.Meta.Type)
	}
}

func (s *lsResultSet) addSingleLabel(l Line) error {
	class, err := decodeSingle(l)
	if err != nil {
		return err
	}
	if err := s.check(class); err != nil {
		return err
	}
	s.add("choices", lsChoices{Choices: []string{class}})
	return nil
}

func (s *lsResultSet) addMultiLabel(l Line) error {
	classes, err := decodeMulti(l)
	if err != nil {
		return err
	}
	for _, c := range classes {
		if err := s.check(c); err != nil {
			return err
		}
	}
	s.add("choices", lsChoices{Choices: classes})
	return nil
}

// addBoxes gives each box in percent of the image size, as Label Studio stores rectangles;
// the size is only needed when there are boxes.
func (s *lsResultSet) addBoxes(l Line) error {
	boxes, err := decodeBoxes(l)
	if err != nil || len(boxes) == 0 {
		return err
	}
	size, err := knownSize(l)
	if err != nil {
		return err
	}
	w, h := float64(size.Width), float64(size.Height)
	for k, b := range boxes {
		if err := s.check(b.Label); err != nil {
			return fmt.Errorf("boxes[%d]: %v", k, err)
		}
		r := s.add("rectanglelabels", lsRectangle{
			X:               num(b.Left) * 100 / w,
			Y:               num(b.Top) * 100 / h,
			Width:           num(b.Width) * 100 / w,
			Height:          num(b.Height) * 100 / h,
			RectangleLabels: []string{b.Label},
		})
		r.OriginalWidth, r.OriginalHeight = size.Width, size.Height
		r.ImageRotation = new(int)
	}
	return nil
}

func (s *lsResultSet) addTranscription(l Line) error {
	text, err := decodeTranscription(l)
	if err != nil {
		return err
	}
	s.add("textarea", lsTextArea{Text: []string{text}})
	return nil
}

// addSpans quotes each span's text when the line has one; offsets are in code points.
func (s *lsResultSet) addSpans(l Line) error {
	spans, err := decodeSpans(l)
	if err != nil {
		return err
	}
	runes := []rune(l.Source)
	for k, sp := range spans {
		if err := s.check(sp.Label); err != nil {
			return fmt.Errorf("spans[%d]: %v", k, err)
		}
		v := lsLabels{Start: sp.Start, End: sp.End, Labels: []string{sp.Label}}
		if l.Source != "" {
			if sp.Start < 0 || sp.End < sp.Start || sp.End > len(runes) {
				return fmt.Errorf("spans[%d]: [%d,%d) is outside the text of %d characters", k, sp.Start, sp.End, len(runes))
			}
			text := string(runes[sp.Start:sp.End])
			v.Text = &text
		}
		s.add("labels", v)
	}
	return nil
}
