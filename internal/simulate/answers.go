package simulate

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/labelflow/labelflow/internal/label"
)

// itemInfo is what a simulated person sees of an item besides its truth.
type itemInfo struct {
	Width, Height float64
	Text          string
}

// noisyAnswer answers an item of any annotation type: right (up to the small imprecision real
// people show) with probability acc, otherwise wrong in a way the type's agreement measure
// notices.
func noisyAnswer(rng *rand.Rand, typ string, truth json.RawMessage, taxonomy []string, acc float64, it itemInfo) json.RawMessage {
	right := rng.Float64() < acc
	switch typ {
	case label.MultiLabelName:
		return noisyClasses(rng, truth, taxonomy, right)
	case label.BoundingBoxName:
		return noisyBoxes(rng, truth, taxonomy, right, it)
	case label.TranscriptionName:
		return noisyTranscription(rng, truth, right)
	case label.SpansName:
		return noisySpans(rng, truth, taxonomy, right)
	}
	var class string
	_ = json.Unmarshal(truth, &class)
	if class == "" || !right {
		class = other(rng, class, taxonomy)
	}
	return marshal(class)
}

// noisyClasses answers a multi-label item; a wrong answer adds or drops one class.
func noisyClasses(rng *rand.Rand, truth json.RawMessage, taxonomy []string, right bool) json.RawMessage {
	var set []string
	_ = json.Unmarshal(truth, &set)
	if !right {
		c := taxonomy[rng.IntN(len(taxonomy))]
		if i := slices.Index(set, c); i >= 0 {
			set = slices.Delete(set, i, i+1)
		} else {
			set = append(set, c)
		}
	}
	if set == nil {
		set = []string{}
	}
	return marshal(set)
}

// noisyBoxes answers a bounding-box item; a wrong answer moves one box well off its object or
// gives it the wrong class.
func noisyBoxes(rng *rand.Rand, truth json.RawMessage, taxonomy []string, right bool, it itemInfo) json.RawMessage {
	var a struct{ Boxes []label.Box }
	_ = json.Unmarshal(truth, &a)
	for i := range a.Boxes {
		b := &a.Boxes[i]
		// A careful person is off by a pixel or two.
		b.Left += rng.Float64()*2 - 1
		b.Top += rng.Float64()*2 - 1
	}
	if !right && len(a.Boxes) > 0 {
		b := &a.Boxes[rng.IntN(len(a.Boxes))]
		switch rng.IntN(2) {
		case 0: // a box drawn well off the object
			b.Left += b.Width * 0.6
		default: // the wrong class
			b.Label = other(rng, b.Label, taxonomy)
		}
	}
	for i := range a.Boxes {
		clampBox(&a.Boxes[i], it)
	}
	if a.Boxes == nil {
		a.Boxes = []label.Box{}
	}
	return marshal(map[string]any{"boxes": a.Boxes})
}

// noisyTranscription answers a transcription item; a wrong answer garbles a quarter of the
// characters.
func noisyTranscription(rng *rand.Rand, truth json.RawMessage, right bool) json.RawMessage {
	var a struct{ Text string }
	_ = json.Unmarshal(truth, &a)
	text := []rune(a.Text)
	if !right && len(text) > 0 {
		for n := max(1, len(text)/4); n > 0; n-- {
			text[rng.IntN(len(text))] = rune('a' + rng.IntN(26))
		}
	}
	if len(strings.TrimSpace(string(text))) == 0 {
		text = []rune("?")
	}
	return marshal(map[string]string{"text": string(text)})
}

// noisySpans answers a named-entities item; a wrong answer mislabels one entity and, in longer
// texts, misses another.
func noisySpans(rng *rand.Rand, truth json.RawMessage, taxonomy []string, right bool) json.RawMessage {
	var a struct{ Spans []label.Span }
	_ = json.Unmarshal(truth, &a)
	if !right && len(a.Spans) > 0 {
		i := rng.IntN(len(a.Spans))
		a.Spans[i].Label = other(rng, a.Spans[i].Label, taxonomy)
		if len(a.Spans) >= 3 {
			j := (i + 1) % len(a.Spans)
			a.Spans = slices.Delete(a.Spans, j, j+1)
		}
	}
	if a.Spans == nil {
		a.Spans = []label.Span{}
	}
	return marshal(map[string]any{"spans": a.Spans})
}

func other(rng *rand.Rand, not string, taxonomy []string) string {
	var others []string
	for _, c := range taxonomy {
		if c != not {
			others = append(others, c)
		}
	}
	if len(others) == 0 {
		return not
	}
	return others[rng.IntN(len(others))]
}

func clampBox(b *label.Box, it itemInfo) {
	b.Left, b.Top = math.Max(0, b.Left), math.Max(0, b.Top)
	if it.Width > 0 {
		b.Left = math.Min(b.Left, it.Width-1)
		b.Width = math.Max(1, math.Min(b.Width, it.Width-b.Left))
	}
	if it.Height > 0 {
		b.Top = math.Min(b.Top, it.Height-1)
		b.Height = math.Max(1, math.Min(b.Height, it.Height-b.Top))
	}
	b.Left, b.Top = math.Round(b.Left*100)/100, math.Round(b.Top*100)/100
	b.Width, b.Height = math.Round(b.Width*100)/100, math.Round(b.Height*100)/100
}

func marshal(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
