package workflows_test

import (
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/labelflow/labelflow/workers"
)

// TestReplayRecordedHistories replays histories recorded on a real Temporal server by the
// integration test (LABELFLOW_WRITE_REPLAY_FIXTURES=1 rewrites <Type>.history.json). Histories of
// earlier versions are kept beside them under other names, so that a versioned change
// (workflow.GetVersion) keeps replaying what already ran. A change that breaks determinism for
// workflows already running fails here.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.history.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".history.json")
		seen[strings.SplitN(name, "-", 2)[0]] = true
		t.Run(name, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			workers.RegisterWorkflows(r)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, typ := range workers.WorkflowTypes() {
		if !seen[typ] {
			t.Errorf("no recorded history of %s in testdata", typ)
		}
	}
}
