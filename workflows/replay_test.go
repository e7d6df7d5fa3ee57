package workflows_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/labelflow/labelflow/workers"
)

// TestReplayRecordedHistories replays histories recorded on a real Temporal server by the
// integration test (LABELFLOW_WRITE_REPLAY_FIXTURES=1 rewrites them). A change that breaks
// determinism for workflows already running fails here.
func TestReplayRecordedHistories(t *testing.T) {
	for _, typ := range []string{"ProjectWorkflow", "ChunkWorkflow", "PayrollWorkflow", "RedeliveryWorkflow"} {
		t.Run(typ, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			workers.RegisterWorkflows(r)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, filepath.Join("testdata", typ+".history.json")); err != nil {
				t.Fatal(err)
			}
		})
	}
}
