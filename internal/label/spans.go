package label

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Spans is named-entity recognition: the answer marks spans of the item's text with classes,
//
//	{"spans":[{"start":0,"end":5,"label":"PER"}, ...]}
//
// where start and end are offsets in Unicode code points, end excluded. Spans of one answer do
// not overlap. An empty list means the text names no entity.
type Spans struct{}

// SpansName is the spec value for named-entity spans.
const SpansName = "named-entities"

// Span is one labelled span of text, [Start, End) in code points.
type Span struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Label string `json:"label"`
}

type spansAnswer struct {
	Spans []Span `json:"spans"`
}

func init() { Register(Spans{}) }

func (Spans) Name() string { return SpansName }

// NeedsTextLength: spans are checked against the length of the item's text.
func (Spans) NeedsTextLength() {}

func (Spans) CheckTaxonomy(taxonomy []string) error { return checkClasses(taxonomy) }

func (Spans) Validate(a Answer, item Item) error {
	if err := checkTop(a, "object", `a JSON object {"spans": [...]}`); err != nil {
		return err
	}
	var top struct {
		Spans *[]json.RawMessage `json:"spans"`
	}
	if err := decodeStrict(a, &top, "answer"); err != nil {
		return err
	}
	if top.Spans == nil {
		return fmt.Errorf("spans: is required (use [] when the text names no entity)")
	}
	spans := make([]Span, len(*top.Spans))
	for i, r := range *top.Spans {
		s, err := parseSpan(r, i, item)
		if err != nil {
			return err
		}
		spans[i] = s
	}
	// Sorted by start, a span overlaps an earlier one exactly when it starts before the
	// furthest end seen so far.
	order := make([]int, len(spans))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return spans[order[x]].Start < spans[order[y]].Start })
	furthest := -1
	for _, i := range order {
		if furthest >= 0 && spans[i].Start < spans[furthest].End {
			first, second := min(i, furthest), max(i, furthest)
			return fmt.Errorf("spans[%d]: overlaps spans[%d] ([%d,%d) %s and [%d,%d) %s); spans must not overlap",
				second, first, spans[first].Start, spans[first].End, spans[first].Label,
				spans[second].Start, spans[second].End, spans[second].Label)
		}
		if furthest < 0 || spans[i].End > spans[furthest].End {
			furthest = i
		}
	}
	return nil
}

func parseSpan(raw json.RawMessage, i int, item Item) (Span, error) {
	field := fmt.Sprintf("spans[%d]", i)
	if jsonKind(raw) != "object" {
		return Span{}, fmt.Errorf("%s: must be an object with start, end and label, got %s", field, truncate(raw))
	}
	var in struct {
		Start *int    `json:"start"`
		End   *int    `json:"end"`
		Label *string `json:"label"`
	}
	if err := decodeStrict(raw, &in, field); err != nil {
		return Span{}, err
	}
	switch {
	case in.Start == nil:
		return Span{}, fmt.Errorf("%s.start: is required", field)
	case in.End == nil:
		return Span{}, fmt.Errorf("%s.end: is required", field)
	case in.Label == nil:
		return Span{}, fmt.Errorf("%s.label: is required", field)
	}
	s := Span{Start: *in.Start, End: *in.End, Label: *in.Label}
	if s.Start < 0 {
		return Span{}, fmt.Errorf("%s.start: must be >= 0, got %d", field, s.Start)
	}
	if s.End <= s.Start {
		return Span{}, fmt.Errorf("%s.end: must be > start (%d), got %d", field, s.Start, s.End)
	}
	if item.TextLen > 0 && s.End > item.TextLen {
		return Span{}, fmt.Errorf("%s.end: must be <= the text length %d, got %d", field, item.TextLen, s.End)
	}
	if !slices.Contains(item.Taxonomy, s.Label) {
		return Span{}, fmt.Errorf("%s.label: %q is not in the taxonomy %v", field, s.Label, item.Taxonomy)
	}
	return s, nil
}

// Agreement is the F1 score of exact matches: a span counts only when the other answer has the
// same start, end and label. It is 2·common/(n_a+n_b); two empty answers agree fully.
func (Spans) Agreement(a, b Answer) float64 {
	x, errA := parseSpanSet(a)
	y, errB := parseSpanSet(b)
	if errA != nil || errB != nil {
		return 0
	}
	if len(x) == 0 && len(y) == 0 {
		return 1
	}
	common := 0
	for s := range x {
		if y[s] {
			common++
		}
	}
	return 2 * float64(common) / float64(len(x)+len(y))
}

// DefaultThreshold is 0.8. With F1 on exact spans, a span marked differently (a boundary or the
// label) is tolerated only among five entities or more ((n-1)/n), and a span one answer forgot
// only among three or more (2·2/5 = 0.8): short texts with few entities must be marked alike.
func (Spans) DefaultThreshold() float64 { return 0.8 }

// Consolidate keeps the spans present in a strict majority of the answers (for two answers, the
// spans both marked), by start. Spans kept by a majority cannot overlap: two of them would both
// be in some answer.
func (Spans) Consolidate(answers []Answer) Answer {
	if len(answers) == 0 {
		return nil
	}
	out := majority(answers, parseSpanSet)
	sortSpans(out)
	return marshalAnswer(spansAnswer{Spans: out})
}

// Canonical sorts spans by start, end and label, once each.
func (Spans) Canonical(a Answer) Answer {
	set, err := parseSpanSet(a)
	if err != nil {
		return a
	}
	out := make([]Span, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sortSpans(out)
	return marshalAnswer(spansAnswer{Spans: out})
}

func sortSpans(spans []Span) {
	sort.Slice(spans, func(i, j int) bool {
		x, y := spans[i], spans[j]
		if x.Start != y.Start {
			return x.Start < y.Start
		}
		if x.End != y.End {
			return x.End < y.End
		}
		return x.Label < y.Label
	})
}

func parseSpanSet(a Answer) (map[Span]bool, error) {
	var ans spansAnswer
	if err := json.Unmarshal(a, &ans); err != nil {
		return nil, err
	}
	if jsonKind(a) != "object" {
		return nil, fmt.Errorf("not an object")
	}
	set := make(map[Span]bool, len(ans.Spans))
	for _, s := range ans.Spans {
		set[s] = true
	}
	return set, nil
}
