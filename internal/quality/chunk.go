package quality

import (
	"encoding/json"

	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/results"
	"github.com/labelflow/labelflow/internal/spec"
)

// MeasureChunk measures a finished chunk: how its items were settled, how much the first two
// answers agreed, and what each person did. Gold items (items[i].Gold) are scored against their
// known answer and kept apart from the others.
func MeasureChunk(sp spec.Project, chunk int, items []manifest.Item, settled []results.Item) ChunkStats {
	m := chunkMeasure{typ: lookup(sp), st: ChunkStats{Chunk: chunk, People: map[string]AnnotatorStats{}}}
	sumAgreement := 0.0
	for i, r := range settled {
		if i < len(items) && items[i].Gold {
			m.gold(r, GoldTruth(items[i]))
			continue
		}
		sumAgreement += m.item(r)
	}
	if m.st.Items > 0 {
		m.st.Agreement = Round4(sumAgreement / float64(m.st.Items))
	}
	return m.st
}

// GoldTruth is the known answer a gold item carries in its line ("truth"); nil when it has none.
func GoldTruth(it manifest.Item) json.RawMessage {
	var line struct {
		Truth json.RawMessage `json:"truth"`
	}
	_ = json.Unmarshal(it.Data, &line)
	return line.Truth
}

// lookup is the project's annotation type; nil for a type this version does not know, whose
// answers are then counted but never judged.
func lookup(sp spec.Project) label.Type {
	typ, _ := label.Lookup(sp.Annotation.Type)
	return typ
}

// chunkMeasure gathers a chunk's figures item by item.
type chunkMeasure struct {
	typ label.Type
	st  ChunkStats
}

// person applies change to a person's figures.
func (m *chunkMeasure) person(worker string, change func(p *AnnotatorStats)) {
	p := m.st.People[worker]
	change(&p)
	m.st.People[worker] = p
}

// agree reports whether two answers agree under the type's measure.
func (m *chunkMeasure) agree(a, b json.RawMessage) bool {
	return m.typ != nil && len(b) > 0 && label.Agree(m.typ, a, b, 0)
}

// gold scores a gold item's answers against its known answer. A disputed gold item went to a
// reviewer like any other: their answer is scored too.
func (m *chunkMeasure) gold(r results.Item, truth json.RawMessage) {
	for _, c := range r.Annotations {
		m.person(c.Worker, func(p *AnnotatorStats) {
			p.GoldAnswers++
			p.Seconds += int64(c.Seconds)
			if m.agree(c.Answer, truth) {
				p.GoldCorrect++
			}
		})
	}
	if a := r.Arbitration; a != nil {
		m.person(a.Worker, func(p *AnnotatorStats) {
			p.GoldArbitrations++
			p.Seconds += int64(a.Seconds)
			if m.agree(a.Answer, truth) {
				p.GoldArbitrationsCorrect++
			}
		})
	}
	m.st.Gold++
}

// item counts an item to deliver and its people's answers; it returns the agreement of its first
// two answers.
func (m *chunkMeasure) item(r results.Item) float64 {
	m.st.Items++
	switch r.Method {
	case results.MethodArbitrated:
		m.st.Arbitrated++
	case results.MethodOverlap:
		m.st.Overlap++
	default:
		m.st.Agreed++
	}
	for _, c := range r.Annotations {
		right := m.typ != nil && label.Agree(m.typ, c.Answer, r.Final, 0)
		m.person(c.Worker, func(p *AnnotatorStats) { p.countAnswer(r.Method, right, c.Seconds) })
	}
	if a := r.Arbitration; a != nil {
		m.person(a.Worker, func(p *AnnotatorStats) {
			p.Arbitrated++
			p.Seconds += int64(a.Seconds)
		})
	}
	if len(r.Annotations) >= 2 && m.typ != nil {
		return m.typ.Agreement(r.Annotations[0].Answer, r.Annotations[1].Answer)
	}
	return 0
}

// countAnswer counts one annotation on an item settled by method; right when it matches the final
// label.
func (p *AnnotatorStats) countAnswer(method string, right bool, seconds int) {
	p.Answers++
	p.Seconds += int64(seconds)
	if right {
		p.Accepted++
	}
	if method == results.MethodAgreed {
		p.FirstPassOK++
		return
	}
	p.Disputed++
	if !right {
		p.Overruled++
	}
}
