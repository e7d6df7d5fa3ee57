package gateway

import (
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workflows"
)

func TestClaimsCarryAccuracyWhereItIsUsed(t *testing.T) {
	plain := spec.Project{}
	gated := spec.Project{Quality: spec.Quality{MinAccuracy: 0.6}}
	dynamic := spec.Project{Quality: spec.Quality{Overlap: spec.Overlap{Mode: "dynamic"}}}
	cases := []struct {
		name string
		sp   spec.Project
		role string
		want bool
	}{
		{"reviewer, plain project: ranked for arbitration", plain, workflows.RoleReviewer, true},
		{"annotator, plain project", plain, workflows.RoleAnnotator, false},
		{"annotator, minimum accuracy", gated, workflows.RoleAnnotator, true},
		{"annotator, dynamic overlap", dynamic, workflows.RoleAnnotator, true},
	}
	for _, c := range cases {
		if got := needsAccuracy(c.sp, c.role); got != c.want {
			t.Errorf("%s: needsAccuracy = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestOutrankedReasonIsPassedOn(t *testing.T) {
	err := temporal.NewApplicationError("more accurate reviewers are taking the open disputes of chunk 2 right now", workflows.ErrNoWork,
		workflows.NoWorkDetail{Reason: workflows.NoWorkOutranked})
	fc := temporal.GetDefaultFailureConverter()
	received := fc.FailureToError(fc.ErrorToFailure(err))
	if workflows.NoWorkReason(received) == "" {
		t.Fatalf("the reason did not survive: %v", received)
	}
	if got := message(received); !strings.HasPrefix(got, "more accurate reviewers") || strings.Contains(got, "(type:") {
		t.Fatalf("reason shown = %q", got)
	}
}
