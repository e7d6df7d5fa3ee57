package simulate

import (
	"encoding/json"
	"github.com/labelflow/labelflow/internal/label"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLoadTruth(t *testing.T) {
	truth, err := LoadTruth("t.csv", strings.NewReader("task,worker,label\nr1,w,positive\nr2,w,negative\n"))
	if err != nil {
		t.Fatal(err)
	}
	if truth["r1"] != "positive" || truth["r2"] != "negative" || len(truth) != 2 {
		t.Fatalf("truth = %v", truth)
	}
	for _, bad := range []string{"id,answer\nr1,x\n", "id,label\nr1,x\nr1,y\n", "id,label\n,x\n"} {
		if _, err := LoadTruth("t.csv", strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "t.csv:") {
			t.Errorf("%q: error %v, want one naming the file and line", bad, err)
		}
	}
}

func TestAnswerAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tax := []string{"a", "b", "c"}
	right := 0
	const n = 20000
	for i := 0; i < n; i++ {
		var got string
		_ = json.Unmarshal(noisyAnswer(rng, "single-label", json.RawMessage(`"a"`), tax, 0.85, itemInfo{}), &got)
		if got == "a" {
			right++
		}
	}
	if rate := float64(right) / n; rate < 0.84 || rate > 0.86 {
		t.Fatalf("correct %.3f of the time, want 0.85", rate)
	}
}

func TestCrowdIsStableAcrossRuns(t *testing.T) {
	o := Options{Project: "p", Annotators: 3, Reviewers: 2}
	a, b := Crowd(o), Crowd(o)
	if len(a) != 5 || a[0].ID != b[0].ID || a[0].Token != b[0].Token || a[4].Role != "reviewer" {
		t.Fatalf("crowd = %+v", a)
	}
	seen := map[string]bool{}
	for _, p := range a {
		if seen[p.ID] {
			t.Fatalf("duplicate person %s", p.ID)
		}
		seen[p.ID] = true
	}
}

func TestNoisyAnswersAreValidAndAgreeWhenRight(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	info := itemInfo{Width: 640, Height: 480, Text: "Amina Wanjiru flew from Nairobi to Kigali."}
	cases := []struct {
		typ   string
		tax   []string
		truth string
	}{
		{label.SingleLabelName, []string{"a", "b", "c"}, `"b"`},
		{label.MultiLabelName, []string{"a", "b", "c", "d"}, `["a","c"]`},
		{label.BoundingBoxName, []string{"car", "person"}, `{"boxes":[{"label":"car","left":10,"top":20,"width":200,"height":100},{"label":"person","left":400,"top":100,"width":60,"height":200}]}`},
		{label.TranscriptionName, []string{"text"}, `{"text":"Receipt total 1,250 KES"}`},
		{label.SpansName, []string{"PER", "LOC"}, `{"spans":[{"start":0,"end":13,"label":"PER"},{"start":24,"end":31,"label":"LOC"},{"start":35,"end":41,"label":"LOC"}]}`},
	}
	for _, c := range cases {
		typ, err := label.Lookup(c.typ)
		if err != nil {
			t.Fatal(err)
		}
		item := label.Item{Taxonomy: c.tax, Width: 640, Height: 480, TextLen: len([]rune(info.Text))}
		truth := json.RawMessage(c.truth)
		for _, acc := range []float64{1, 0} {
			agree := 0
			for i := 0; i < 200; i++ {
				a := noisyAnswer(rng, c.typ, truth, c.tax, acc, info)
				if err := typ.Validate(a, item); err != nil {
					t.Fatalf("%s: invalid answer %s: %v", c.typ, a, err)
				}
				if label.Agree(typ, a, truth, 0) {
					agree++
				}
			}
			if acc == 1 && agree < 190 || acc == 0 && agree > 10 {
				t.Errorf("%s at accuracy %.0f: %d of 200 answers agree with the truth", c.typ, acc, agree)
			}
		}
	}
}
