package workflows_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

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

// A run started since the changes were bundled records one version marker and so one
// TemporalChangeVersion upsert, a billed action, where it recorded one per change before.
func TestNewRunsRecordTheirChangesOnce(t *testing.T) {
	upserts := func(file string) (n int) {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		var h historypb.History
		if err := protojson.Unmarshal(data, &h); err != nil {
			t.Fatal(err)
		}
		for _, e := range h.GetEvents() {
			if _, ok := e.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()["TemporalChangeVersion"]; ok {
				n++
			}
		}
		return n
	}
	if n := upserts("ChunkWorkflow.history.json"); n != 1 {
		t.Errorf("a new chunk run upserts TemporalChangeVersion %d times, want once", n)
	}
	if n := upserts("ChunkWorkflow-before-bundle.history.json"); n < 4 {
		t.Errorf("a chunk run before the bundle upserted TemporalChangeVersion %d times; the fixture should show one per change", n)
	}
}
