package label

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// MultiLabel is multi-label classification: the answer is the list of taxonomy classes that apply
// to the item, for example ["cat","outdoor"]. An empty list means that none apply.
//
// Canonical and Consolidate list classes in taxonomy order. The Type interface does not hand them
// the item, so the registered MultiLabel, which knows no taxonomy, orders classes by name; a
// workflow that knows the project's taxonomy uses WithTaxonomy to get taxonomy order.
type MultiLabel struct {
	order *classOrder // nil: order classes by name
}

type classOrder struct{ index map[string]int }

// MultiLabelName is the spec value for multi-label classification.
const MultiLabelName = "multi-label"

func init() { Register(MultiLabel{}) }

// WithTaxonomy returns the type ordering classes as taxonomy lists them. Classes the taxonomy
// does not list (which a valid answer never has) come after, by name.
func (MultiLabel) WithTaxonomy(taxonomy []string) MultiLabel {
	o := &classOrder{index: make(map[string]int, len(taxonomy))}
	for i, c := range taxonomy {
		if _, dup := o.index[c]; !dup {
			o.index[c] = i
		}
	}
	return MultiLabel{order: o}
}

func (MultiLabel) Name() string { return MultiLabelName }

// CheckTaxonomy needs one class at least: with a single class the question is whether it applies.
func (MultiLabel) CheckTaxonomy(taxonomy []string) error { return checkClasses(taxonomy) }

func (MultiLabel) Validate(a Answer, item Item) error {
	if err := checkTop(a, "array", `a JSON array of class names, for example ["cat"] (or [] when none apply)`); err != nil {
		return err
	}
	var raw []json.RawMessage
	if err := decodeStrict(a, &raw, "labels"); err != nil {
		return err
	}
	first := map[string]int{}
	for i, r := range raw {
		field := fmt.Sprintf("labels[%d]", i)
		var c string
		if jsonKind(r) != "string" {
			return fmt.Errorf("%s: must be a string naming a class, got %s", field, truncate(r))
		}
		if err := decodeStrict(r, &c, field); err != nil {
			return err
		}
		if !slices.Contains(item.Taxonomy, c) {
			return fmt.Errorf("%s: %q is not in the taxonomy %v", field, c, item.Taxonomy)
		}
		if j, dup := first[c]; dup {
			return fmt.Errorf("%s: %q is chosen twice (also labels[%d])", field, c, j)
		}
		first[c] = i
	}
	return nil
}

// Agreement is the Jaccard index of the two sets of classes: the classes both chose over the
// classes either chose. Two answers that both say "none apply" agree fully.
func (MultiLabel) Agreement(a, b Answer) float64 {
	x, errA := parseClassSet(a)
	y, errB := parseClassSet(b)
	if errA != nil || errB != nil {
		return 0
	}
	return jaccard(x, y)
}

func jaccard(x, y map[string]bool) float64 {
	if len(x) == 0 && len(y) == 0 {
		return 1
	}
	both := 0
	for c := range x {
		if y[c] {
			both++
		}
	}
	return float64(both) / float64(len(x)+len(y)-both)
}

// DefaultThreshold is 0.75. With the Jaccard index, answers naming one or two classes must then
// be identical (one difference gives at most 2/3); once annotators share three classes, one of
// them may add or omit a fourth (3/4). A class chosen instead of another keeps the answers apart
// for any realistic number of classes ((n-1)/(n+1) < 0.75 up to n = 6): a forgotten class among
// several is tolerated, a different reading of the item is not.
func (MultiLabel) DefaultThreshold() float64 { return 0.75 }

// Consolidate keeps the classes chosen by a strict majority of the answers (for two answers, the
// classes both chose).
func (m MultiLabel) Consolidate(answers []Answer) Answer {
	if len(answers) == 0 {
		return nil
	}
	kept := majority(answers, parseClassSet)
	m.sortClasses(kept)
	return marshalAnswer(kept)
}

// Canonical lists the classes once each, in taxonomy order (see MultiLabel), as compact JSON.
func (m MultiLabel) Canonical(a Answer) Answer {
	set, err := parseClassSet(a)
	if err != nil {
		return a
	}
	cs := make([]string, 0, len(set))
	for c := range set {
		cs = append(cs, c)
	}
	m.sortClasses(cs)
	return marshalAnswer(cs)
}

func (m MultiLabel) sortClasses(cs []string) {
	if m.order == nil {
		sort.Strings(cs)
		return
	}
	rank := func(c string) int {
		if i, ok := m.order.index[c]; ok {
			return i
		}
		return len(m.order.index)
	}
	sort.Slice(cs, func(i, j int) bool {
		ri, rj := rank(cs[i]), rank(cs[j])
		if ri != rj {
			return ri < rj
		}
		return cs[i] < cs[j]
	})
}

func parseClassSet(a Answer) (map[string]bool, error) {
	var cs []string
	if err := json.Unmarshal(a, &cs); err != nil {
		return nil, err
	}
	if cs == nil && jsonKind(a) != "array" {
		return nil, errors.New("not an array")
	}
	set := make(map[string]bool, len(cs))
	for _, c := range cs {
		set[c] = true
	}
	return set, nil
}

// The helpers below are shared by the multi-label, bounding-box, transcription and
// named-entities types.

// majority returns the elements present in more than half of the answers; an unreadable answer
// votes for nothing. The order is unspecified: callers sort.
func majority[T comparable](answers []Answer, parse func(Answer) (map[T]bool, error)) []T {
	votes := map[T]int{}
	for _, a := range answers {
		set, _ := parse(a)
		for e := range set {
			votes[e]++
		}
	}
	kept := []T{}
	for e, v := range votes {
		if 2*v > len(answers) {
			kept = append(kept, e)
		}
	}
	return kept
}

// checkClasses requires at least one class, none empty, none listed twice.
func checkClasses(taxonomy []string) error {
	if len(taxonomy) < 1 {
		return fmt.Errorf("needs at least 1 class, got %d", len(taxonomy))
	}
	seen := map[string]bool{}
	for i, c := range taxonomy {
		if c == "" {
			return fmt.Errorf("class %d is empty", i+1)
		}
		if seen[c] {
			return fmt.Errorf("class %q is listed twice", c)
		}
		seen[c] = true
	}
	return nil
}

// jsonKind names the kind of the JSON value raw starts with: "object", "array", "string",
// "number", "boolean", "null", or "" when it starts with none of them.
func jsonKind(raw []byte) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	}
	return ""
}

// checkTop checks that a is one well-formed JSON value of the wanted kind.
func checkTop(a Answer, kind, shape string) error {
	if !json.Valid(a) {
		var v any
		if err := decodeStrict(a, &v, "answer"); err != nil {
			return err
		}
		return errors.New("answer: is not valid JSON")
	}
	if jsonKind(a) != kind {
		return fmt.Errorf("answer: must be %s, got %s", shape, truncate(a))
	}
	return nil
}

// decodeStrict decodes exactly one JSON value from raw into v, refusing unknown fields and
// trailing data. Its errors start with the field at fault, path being where raw sits in the answer.
func decodeStrict(raw []byte, v any, path string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err, path)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: unexpected data after the JSON value", path)
	}
	return nil
}

func describeJSONError(err error, path string) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s: is empty, expected JSON", path)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: is not valid JSON: it ends too early", path)
	case errors.As(err, &syn):
		return fmt.Errorf("%s: is not valid JSON: %s (at byte %d)", path, strings.TrimPrefix(syn.Error(), "json: "), syn.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: must be %s, got %s", joinField(path, typ.Field), describeGoType(typ.Type), typ.Value)
	}
	msg := err.Error()
	if i := strings.Index(msg, "unknown field "); i >= 0 {
		name := strings.Trim(msg[i+len("unknown field "):], `"`)
		return fmt.Errorf("%s: unknown field", joinField(path, name))
	}
	return fmt.Errorf("%s: %s", path, strings.TrimPrefix(msg, "json: "))
}

func joinField(path, field string) string {
	switch {
	case field == "":
		return path
	case path == "" || path == "answer":
		return field
	}
	return path + "." + field
}

func describeGoType(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Float32, reflect.Float64:
		return "a finite number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another kind of value"
}

// marshalAnswer encodes v as compact JSON without HTML escaping, so stored text reads as typed.
func marshalAnswer(v any) Answer {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil
	}
	return Answer(bytes.TrimRight(buf.Bytes(), "\n"))
}
