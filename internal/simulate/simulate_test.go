package simulate

import (
	"encoding/json"
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
		_ = json.Unmarshal(answer(rng, "a", tax, 0.85), &got)
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
