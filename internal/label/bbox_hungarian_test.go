package label

import (
	"fmt"
	"math"
	"testing"
)

// A tall matrix is solved through its transpose; when costs are not finite the solver gives up
// and leaves rows unassigned, which must come back as -1 rather than as a crash.
func TestHungarianNonFiniteCostsLeaveRowsUnassigned(t *testing.T) {
	inf := math.Inf(1)
	for _, cost := range [][][]float64{
		{{inf, inf}, {inf, inf}, {inf, inf}},
		{{math.NaN()}, {math.NaN()}},
		{{inf, inf, inf}},
	} {
		got := hungarian(cost)
		if len(got) != len(cost) {
			t.Fatalf("hungarian(%v) = %v: one entry per row wanted", cost, got)
		}
		for _, j := range got {
			if j != -1 {
				t.Errorf("hungarian(%v) = %v, want every row unassigned", cost, got)
			}
		}
	}
	// Finite costs are still solved through the transpose.
	if got := hungarian([][]float64{{3}, {1}, {2}}); fmt.Sprint(got) != "[-1 0 -1]" {
		t.Errorf("3×1 assignment = %v, want [-1 0 -1]", got)
	}
}
