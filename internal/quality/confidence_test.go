package quality

import (
	"math"
	"testing"
)

func TestPosteriorHandWorked(t *testing.T) {
	// Two agreeing annotators at 0.8, 3 classes:
	// 0.8² / (0.8² + 2·(0.1)²) = 0.64 / 0.66.
	got := Posterior("a", []Vote{{"a", 0.8}, {"a", 0.8}}, 3)
	if want := 0.64 / 0.66; math.Abs(got-want) > 1e-12 {
		t.Fatalf("agreed posterior = %v, want %v", got, want)
	}
	// Disagreement settled by a 0.9 reviewer siding with "a", 2 classes:
	// P(a) ∝ 0.8·0.2·0.9 = 0.144, P(b) ∝ 0.2·0.8·0.1 = 0.016 → 0.9.
	got = Posterior("a", []Vote{{"a", 0.8}, {"b", 0.8}, {"a", 0.9}}, 2)
	if math.Abs(got-0.9) > 1e-12 {
		t.Fatalf("arbitrated posterior = %v, want 0.9", got)
	}
	// More classes make agreement more telling.
	if Posterior("a", []Vote{{"a", 0.8}, {"a", 0.8}}, 10) <= Posterior("a", []Vote{{"a", 0.8}, {"a", 0.8}}, 2) {
		t.Fatal("confidence should grow with the number of classes")
	}
}
