// Package formats converts delivered LabelFlow results (JSON Lines: the client's original
// manifest line plus "label" and "label-metadata") into the formats clients load into their own
// tools: SageMaker Ground Truth output manifests, CSV, Label Studio JSON export and COCO object
// detection.
//
// Every converter is deterministic: the same lines always produce the same bytes. Errors name
// the line at fault, by its 1-based line number in the parsed file (or its 1-based position in
// the slice for lines not obtained from ParseLines) and its id when it has one.
package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// Annotation type names, as they appear in label-metadata.type.
const (
	TypeSingleLabel   = "single-label"
	TypeMultiLabel    = "multi-label"
	TypeBoundingBox   = "bounding-box"
	TypeTranscription = "transcription"
	TypeNamedEntities = "named-entities"
)

// Field names with a meaning of their own in a delivered line.
const (
	fieldID            = "id"
	fieldSource        = "source"
	fieldSourceRef     = "source-ref"
	fieldLabel         = "label"
	fieldLabelMetadata = "label-metadata"
)

// Line is one delivered results line.
type Line struct {
	Raw       json.RawMessage // the whole delivered line
	ID        string          // the manifest id ("" when the line has none); numbers in their decimal form
	Source    string
	SourceRef string
	Label     json.RawMessage // the delivered answer
	Meta      Metadata

	num int // 1-based line number in the parsed file, 0 when unknown
}

// Metadata is a line's label-metadata.
type Metadata struct {
	Method      string            `json:"method"`
	Annotators  []string          `json:"annotators"`
	Reviewer    string            `json:"reviewer,omitempty"`
	Answers     []json.RawMessage `json:"answers"`
	Confidence  float64           `json:"confidence"`
	Type        string            `json:"type"`
	Project     string            `json:"project"`
	CompletedAt time.Time         `json:"completed_at"`
	// Times are each answer's times, in the order of Annotators and then the Reviewer's; lines
	// recorded before they were kept have none.
	Times []AnswerTime `json:"times,omitempty"`
}

// AnswerTime is when one person took up an answer and when they submitted it, and the seconds
// it took them (their share of the time of the suite it came in).
type AnswerTime struct {
	AcceptedAt  time.Time `json:"accepted_at"`
	SubmittedAt time.Time `json:"submitted_at"`
	Seconds     int       `json:"seconds"`
}

// answerTime is the time of the k-th answer of a line (annotators first, then the reviewer).
// A line without times gives every answer the item's completion time.
func answerTime(m Metadata, k int) AnswerTime {
	if k < len(m.Times) {
		return m.Times[k]
	}
	return AnswerTime{AcceptedAt: m.CompletedAt, SubmittedAt: m.CompletedAt}
}

// ParseLines reads delivered JSON Lines. Blank lines are skipped but keep the numbering; every
// other line must be a JSON object carrying "label" and "label-metadata". Errors name the
// 1-based line.
func ParseLines(data []byte) ([]Line, error) {
	var out []Line
	num := 0
	for len(data) > 0 {
		num++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		l, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", num, err)
		}
		l.num = num
		out = append(out, l)
	}
	return out, nil
}

func parseLine(line []byte) (Line, error) {
	fields, err := objectFields(line)
	if err != nil {
		return Line{}, err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, line); err != nil {
		return Line{}, err
	}
	l := Line{Raw: json.RawMessage(compact.Bytes())}
	var haveLabel, haveMeta bool
	for _, f := range fields {
		switch f.key {
		case fieldID:
			if l.ID, err = decodeID(f.value); err != nil {
				return Line{}, err
			}
		case fieldSource:
			if err := json.Unmarshal(f.value, &l.Source); err != nil {
				return Line{}, fmt.Errorf("source must be a string")
			}
		case fieldSourceRef:
			if err := json.Unmarshal(f.value, &l.SourceRef); err != nil {
				return Line{}, fmt.Errorf("source-ref must be a string")
			}
		case fieldLabel:
			l.Label = append(json.RawMessage(nil), f.value...)
			haveLabel = true
		case fieldLabelMetadata:
			var m Metadata
			if err := json.Unmarshal(f.value, &m); err != nil {
				return Line{}, fmt.Errorf("label-metadata: %v", err)
			}
			l.Meta = m
			haveMeta = true
		}
	}
	if !haveLabel {
		return Line{}, errors.New(`no "label" field`)
	}
	if !haveMeta {
		return Line{}, errors.New(`no "label-metadata" field`)
	}
	return l, nil
}

// decodeID turns the raw JSON value of an id into its string form: strings as they are,
// integers as written, other numbers in their shortest decimal form.
func decodeID(raw json.RawMessage) (string, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("id: %v", err)
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("id must be a string or a number, got %s", excerpt(raw))
	}
	if _, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return n.String(), nil
	}
	f, err := n.Float64()
	if err != nil {
		return "", fmt.Errorf("id %s is out of range", n)
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}

// field is one member of a JSON object, its value as written.
type field struct {
	key   string
	value json.RawMessage
}

// objectFields returns the members of a JSON object in their order.
func objectFields(raw []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		key, ok := t.(string)
		if !ok {
			return nil, errors.New("not valid JSON: object key is not a string")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("not valid JSON: field %q: %v", key, err)
		}
		out = append(out, field{key: key, value: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not valid JSON: data after the object")
	}
	return out, nil
}

// originalFields returns the client's original fields of a line: Raw without "label" and
// "label-metadata", in their order, values compacted. A line without Raw (built by hand) yields
// its id, source and source-ref.
func originalFields(l Line) ([]field, error) {
	if len(bytes.TrimSpace(l.Raw)) == 0 {
		var out []field
		add := func(k, v string) {
			if v != "" {
				b, _ := marshal(v)
				out = append(out, field{key: k, value: b})
			}
		}
		add(fieldID, l.ID)
		add(fieldSource, l.Source)
		add(fieldSourceRef, l.SourceRef)
		return out, nil
	}
	all, err := objectFields(l.Raw)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, f := range all {
		if f.key == fieldLabel || f.key == fieldLabelMetadata {
			continue
		}
		var c bytes.Buffer
		if err := json.Compact(&c, f.value); err != nil {
			return nil, err
		}
		f.value = c.Bytes()
		out = append(out, f)
	}
	return out, nil
}

// imageSize is an image's size in pixels, read from the line's "width" and "height" fields or
// its "image_size" field, which may be {"width":w,"height":h}, [{"width":w,"height":h,"depth":d}]
// as Ground Truth writes it, or [w,h].
type imageSize struct {
	Width, Height, Depth int
}

func sizeOf(l Line) (imageSize, bool, error) {
	fields, err := originalFields(l)
	if err != nil {
		return imageSize{}, false, err
	}
	var w, h, imgSize json.RawMessage
	for _, f := range fields {
		switch f.key {
		case "width":
			w = f.value
		case "height":
			h = f.value
		case "image_size":
			imgSize = f.value
		}
	}
	if w != nil || h != nil {
		var s imageSize
		var err error
		if s.Width, err = pixels(w); err != nil {
			return s, false, fmt.Errorf("width: %v", err)
		}
		if s.Height, err = pixels(h); err != nil {
			return s, false, fmt.Errorf("height: %v", err)
		}
		return s, true, nil
	}
	if imgSize == nil {
		return imageSize{}, false, nil
	}
	s, err := parseImageSize(imgSize)
	if err != nil {
		return s, false, fmt.Errorf("image_size: %v", err)
	}
	return s, true, nil
}

// knownSize is sizeOf for converters that cannot write boxes without the image size.
func knownSize(l Line) (imageSize, error) {
	size, ok, err := sizeOf(l)
	if err != nil {
		return size, err
	}
	if !ok {
		return size, errors.New("the image size is unknown: the line needs width and height (or image_size) fields")
	}
	return size, nil
}

func parseImageSize(raw json.RawMessage) (imageSize, error) {
	type wh struct {
		Width  json.RawMessage `json:"width"`
		Height json.RawMessage `json:"height"`
		Depth  json.RawMessage `json:"depth"`
	}
	var one wh
	switch {
	case len(raw) > 0 && raw[0] == '{':
		if err := json.Unmarshal(raw, &one); err != nil {
			return imageSize{}, err
		}
	case len(raw) > 0 && raw[0] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return imageSize{}, err
		}
		switch {
		case len(list) == 1 && len(list[0]) > 0 && list[0][0] == '{':
			if err := json.Unmarshal(list[0], &one); err != nil {
				return imageSize{}, err
			}
		case len(list) == 2:
			one = wh{Width: list[0], Height: list[1]}
		default:
			return imageSize{}, fmt.Errorf("want [{\"width\":w,\"height\":h}] or [w,h], got %s", excerpt(raw))
		}
	default:
		return imageSize{}, fmt.Errorf("want an object or an array, got %s", excerpt(raw))
	}
	var s imageSize
	var err error
	if s.Width, err = pixels(one.Width); err != nil {
		return s, fmt.Errorf("width: %v", err)
	}
	if s.Height, err = pixels(one.Height); err != nil {
		return s, fmt.Errorf("height: %v", err)
	}
	if one.Depth != nil {
		if s.Depth, err = pixels(one.Depth); err != nil {
			return s, fmt.Errorf("depth: %v", err)
		}
	}
	return s, nil
}

// pixels reads a positive whole number of pixels.
func pixels(raw json.RawMessage) (int, error) {
	if raw == nil {
		return 0, errors.New("missing")
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, fmt.Errorf("must be a number, got %s", excerpt(raw))
	}
	if f <= 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, fmt.Errorf("must be a positive whole number of pixels, got %s", excerpt(raw))
	}
	return int(f), nil
}

// Answer shapes by type.
type (
	box struct {
		Label  string      `json:"label"`
		Left   json.Number `json:"left"`
		Top    json.Number `json:"top"`
		Width  json.Number `json:"width"`
		Height json.Number `json:"height"`
	}
	boxesAnswer struct {
		Boxes []box `json:"boxes"`
	}
	transcriptionAnswer struct {
		Text string `json:"text"`
	}
	span struct {
		Start int    `json:"start"`
		End   int    `json:"end"`
		Label string `json:"label"`
	}
	spansAnswer struct {
		Spans []span `json:"spans"`
	}
)

func decodeSingle(l Line) (string, error) {
	var s string
	if err := json.Unmarshal(l.Label, &s); err != nil {
		return "", fmt.Errorf("single-label answer must be a string, got %s", excerpt(l.Label))
	}
	return s, nil
}

func decodeMulti(l Line) ([]string, error) {
	var s []string
	if err := json.Unmarshal(l.Label, &s); err != nil || s == nil {
		return nil, fmt.Errorf("multi-label answer must be an array of strings, got %s", excerpt(l.Label))
	}
	return s, nil
}

func decodeBoxes(l Line) ([]box, error) {
	var a boxesAnswer
	if err := strictUnmarshal(l.Label, &a); err != nil {
		return nil, fmt.Errorf("bounding-box answer must be {\"boxes\":[...]}: %v", err)
	}
	for i, b := range a.Boxes {
		for _, n := range []struct {
			name string
			v    json.Number
		}{{"left", b.Left}, {"top", b.Top}, {"width", b.Width}, {"height", b.Height}} {
			if _, err := n.v.Float64(); err != nil {
				return nil, fmt.Errorf("boxes[%d].%s: missing or not a number", i, n.name)
			}
		}
	}
	return a.Boxes, nil
}

func decodeTranscription(l Line) (string, error) {
	var a transcriptionAnswer
	if err := strictUnmarshal(l.Label, &a); err != nil {
		return "", fmt.Errorf("transcription answer must be {\"text\":...}: %v", err)
	}
	return a.Text, nil
}

func decodeSpans(l Line) ([]span, error) {
	var a spansAnswer
	if err := strictUnmarshal(l.Label, &a); err != nil {
		return nil, fmt.Errorf("named-entities answer must be {\"spans\":[...]}: %v", err)
	}
	return a.Spans, nil
}

// strictUnmarshal decodes a JSON object into v, which must be a pointer to a struct.
func strictUnmarshal(raw json.RawMessage, v any) error {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("got %s", excerpt(raw))
	}
	return json.Unmarshal(raw, v)
}

func num(n json.Number) float64 {
	f, _ := n.Float64()
	return f
}

// lineError names a line in an error.
func lineError(l Line, index int, format string, args ...any) error {
	n := l.num
	if n == 0 {
		n = index + 1
	}
	msg := fmt.Sprintf(format, args...)
	if l.ID != "" {
		return fmt.Errorf("line %d (id %q): %s", n, l.ID, msg)
	}
	return fmt.Errorf("line %d: %s", n, msg)
}

// classIndex maps class names to their index in the taxonomy (the first, if listed twice).
func classIndex(taxonomy []string) map[string]int {
	m := make(map[string]int, len(taxonomy))
	for i, c := range taxonomy {
		if _, dup := m[c]; !dup {
			m[c] = i
		}
	}
	return m
}

// marshal encodes v as compact JSON without escaping <, > and &.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// object is a JSON object whose members keep the order they were added in.
type object []field

func (o *object) set(key string, v any) error {
	b, err := marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %v", key, err)
	}
	*o = append(*o, field{key: key, value: b})
	return nil
}

func (o *object) setRaw(key string, v json.RawMessage) {
	*o = append(*o, field{key: key, value: v})
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(f.key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(f.value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func excerpt(raw []byte) string {
	const max = 64
	s := string(bytes.TrimSpace(raw))
	if s == "" {
		return "nothing"
	}
	if len(s) > max {
		r := []rune(s[:max])
		if len(r) > 0 {
			r = r[:len(r)-1]
		}
		return string(r) + "..."
	}
	return s
}
