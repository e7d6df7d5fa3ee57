package simulate

import "testing"

// The people who walk away are the given share of each role, the same on every run, so that a
// crowd keeps reviewers when some of them leave.
func TestWalkersAreAShareOfEachRole(t *testing.T) {
	crowd, err := Crowd(Options{Project: "p", Annotators: 10, Reviewers: 3})
	if err != nil {
		t.Fatal(err)
	}
	w := walkers(Options{WalkAway: 0.3}, crowd)
	byRole := map[string]int{}
	for _, p := range crowd {
		if w[p.ID] {
			byRole[p.Role]++
		}
	}
	if byRole["annotator"] != 3 || byRole["reviewer"] != 1 || len(w) != 4 {
		t.Fatalf("walkers = %v (%v), want 3 annotators and 1 reviewer", w, byRole)
	}
	if again := walkers(Options{WalkAway: 0.3}, crowd); len(again) != len(w) || !again[crowd[9].ID] || again[crowd[0].ID] {
		t.Fatalf("walkers differ between runs: %v, %v", w, again)
	}
	if none := walkers(Options{}, crowd); len(none) != 0 {
		t.Fatalf("walkers without WalkAway = %v", none)
	}
}
