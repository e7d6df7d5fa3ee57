package demo

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/labelflow/labelflow/workflows"
)

// HistoryTotals sums the history of every workflow run of a project, continued runs included.
type HistoryTotals struct {
	Runs       int   `json:"runs"`
	Events     int64 `json:"events"`
	Bytes      int64 `json:"bytes"`
	MaxEvents  int64 `json:"max_events_per_run"`
	MaxBytes   int64 `json:"max_bytes_per_run"`
	ChunkRuns  int   `json:"chunk_runs"`
	ProjectRun int   `json:"project_runs"`
}

// ProjectHistory reads the history sizes of a project's workflows through visibility.
func ProjectHistory(ctx context.Context, e *Env, project string) (HistoryTotals, error) {
	var t HistoryTotals
	var token []byte
	for {
		resp, err := e.App.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query:         fmt.Sprintf("%s = '%s'", workflows.SearchAttrProject, project),
			NextPageToken: token,
		})
		if err != nil {
			return t, err
		}
		for _, ex := range resp.GetExecutions() {
			d, err := e.App.Describe(ctx, ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId())
			if err != nil {
				return t, err
			}
			info := d.GetWorkflowExecutionInfo()
			t.Runs++
			t.Events += info.GetHistoryLength()
			t.Bytes += info.GetHistorySizeBytes()
			t.MaxEvents = max(t.MaxEvents, info.GetHistoryLength())
			t.MaxBytes = max(t.MaxBytes, info.GetHistorySizeBytes())
			if ex.GetType().GetName() == "ChunkWorkflow" {
				t.ChunkRuns++
			} else {
				t.ProjectRun++
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return t, nil
		}
	}
}

// PeakRSS returns the peak resident set (VmHWM) of a process, in bytes, from /proc.
func PeakRSS(pid int) (int64, error) { return statusBytes(pid, "VmHWM") }

// RSS is a process's resident set size now (VmRSS), in bytes.
func RSS(pid int) (int64, error) { return statusBytes(pid, "VmRSS") }

// statusBytes reads one of the kB fields of /proc/<pid>/status, in bytes.
func statusBytes(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
