package quality

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/results"
	"github.com/labelflow/labelflow/internal/spec"
)

// twoItems are a chunk's two settled items: both annotators said cat on item 0 (agreed); on item
// 1 ann-a said dog, ann-b cat, and the reviewer dog.
func twoItems(at time.Time) []results.Item {
	c := func(w, a string, d time.Duration) results.Contribution {
		return results.Contribution{Worker: w, Answer: label.Answer(a), SubmittedAt: at.Add(d), Seconds: 20}
	}
	rev := c("rev", `"dog"`, 3*time.Minute)
	return []results.Item{
		{Item: 0, Final: label.Answer(`"cat"`), Method: "agreed", Annotations: []results.Contribution{c("ann-a", `"cat"`, 0), c("ann-b", `"cat"`, time.Minute)}},
		{Item: 1, Final: label.Answer(`"dog"`), Method: "arbitrated", Annotations: []results.Contribution{c("ann-a", `"dog"`, 0), c("ann-b", `"cat"`, time.Minute)}, Arbitration: &rev},
	}
}

func TestMeasureChunk(t *testing.T) {
	sp := spec.Project{ID: "p1", Annotation: spec.Annotation{Type: "single-label", Taxonomy: []string{"cat", "dog"}}}
	st := MeasureChunk(sp, 0, nil, twoItems(time.Now()))
	// Item 0: both said cat (agreed). Item 1: ann-a said dog, ann-b cat, the reviewer dog.
	a, b, rev := st.People["ann-a"], st.People["ann-b"], st.People["rev"]
	if st.Items != 2 || st.Agreed != 1 || st.Arbitrated != 1 || st.Agreement != 0.5 {
		t.Fatalf("chunk stats = %+v", st)
	}
	if a.Answers != 2 || a.Accepted != 2 || a.Disputed != 1 || a.Overruled != 0 || a.FirstPassOK != 1 {
		t.Fatalf("ann-a = %+v", a)
	}
	if b.Accepted != 1 || b.Overruled != 1 || rev.Arbitrated != 1 || rev.Answers != 0 {
		t.Fatalf("ann-b = %+v, rev = %+v", b, rev)
	}
}

// Gold items are scored against their known answer, the reviewer's too, and kept out of the
// chunk's items and agreement.
func TestMeasureChunkScoresGoldApart(t *testing.T) {
	sp := spec.Project{ID: "p1", Annotation: spec.Annotation{Type: "single-label", Taxonomy: []string{"cat", "dog"}}}
	gold := manifest.Item{Gold: true, Data: json.RawMessage(`{"source":"a gold dog","truth":"dog"}`)}
	st := MeasureChunk(sp, 3, []manifest.Item{{}, gold}, twoItems(time.Now()))
	if st.Chunk != 3 || st.Items != 1 || st.Gold != 1 || st.Agreed != 1 || st.Arbitrated != 0 || st.Agreement != 1 {
		t.Fatalf("chunk stats = %+v", st)
	}
	a, b, rev := st.People["ann-a"], st.People["ann-b"], st.People["rev"]
	if a.GoldAnswers != 1 || a.GoldCorrect != 1 || b.GoldAnswers != 1 || b.GoldCorrect != 0 || a.Answers != 1 {
		t.Fatalf("ann-a = %+v, ann-b = %+v", a, b)
	}
	if rev.GoldArbitrations != 1 || rev.GoldArbitrationsCorrect != 1 || rev.Arbitrated != 0 || rev.Seconds != 20 {
		t.Fatalf("rev = %+v", rev)
	}
}
