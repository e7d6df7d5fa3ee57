package app_test

import (
	"testing"

	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workflows"
)

// The rule on project ids (spec.ValidID) is checked here against the workflow ids themselves:
// spec cannot import workflows, and launching is where an id meets its workflows.

func TestChunkOfVicIsProjectVicChunk(t *testing.T) {
	if workflows.ChunkWorkflowID("vic", 0) != workflows.ProjectWorkflowID("vic-chunk-000000") {
		t.Fatal("chunk 0 of vic is no longer project-vic-chunk-000000: revisit spec.ValidID's reasoning")
	}
	if spec.ValidID("vic-chunk-000000") || !spec.ValidID("vic") {
		t.Fatal("ValidID must refuse vic-chunk-000000 and accept vic")
	}
}

// workflowIDs are the ids of every workflow a project id appears in: its own, chunks (a first,
// a late and one past six digits) and re-deliveries.
func workflowIDs(project string) []string {
	return []string{
		workflows.ProjectWorkflowID(project),
		workflows.ChunkWorkflowID(project, 0),
		workflows.ChunkWorkflowID(project, 7),
		workflows.ChunkWorkflowID(project, 1234567),
		workflows.RedeliveryWorkflowID(project, "0123456789ab"),
		workflows.RedeliveryWorkflowID(project, "ba9876543210"),
	}
}

// idsFrom returns every id of at most n tokens, tokens being the pieces colliding ids are made of.
func idsFrom(tokens []string, n int) []string {
	ids := []string{""}
	all := []string{}
	for range n {
		var next []string
		for _, id := range ids {
			for _, t := range tokens {
				next = append(next, id+t)
			}
		}
		all = append(all, next...)
		ids = next
	}
	return all
}

// firstCollision returns two ids among ids whose workflows share an id, or "" when none do.
func firstCollision(ids []string) (a, b, workflowID string) {
	owner := map[string]string{}
	for _, id := range ids {
		for _, w := range workflowIDs(id) {
			if other, dup := owner[w]; dup && other != id {
				return other, id, w
			}
			owner[w] = id
		}
	}
	return "", "", ""
}

// TestNoTwoProjectsShareAWorkflowID tries every id made of up to five pieces of the workflow ids
// themselves, and checks the rule on ids is what keeps them apart: without it they collide.
func TestNoTwoProjectsShareAWorkflowID(t *testing.T) {
	tokens := []string{"vic", "-", "chunk", "000000", "000007", "1234567", "0123456789ab", "redelivery", "project"}
	var valid, patternOnly []string
	for _, id := range idsFrom(tokens, 5) {
		if spec.ValidID(id) {
			valid = append(valid, id)
		}
		if id != "" && id[0] != '-' && len(id) <= 63 {
			patternOnly = append(patternOnly, id)
		}
	}
	if a, b, w := firstCollision(valid); w != "" {
		t.Fatalf("projects %q and %q both have workflow %s", a, b, w)
	}
	if a, _, _ := firstCollision(patternOnly); a == "" {
		t.Fatal("no collision without the rule: the test cannot tell whether the rule matters")
	}
	t.Logf("%d valid ids, no shared workflow id", len(valid))
}
