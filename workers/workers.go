// Package workers builds LabelFlow's Temporal workers in one place: the workflow worker and the
// I/O activity worker poll separate task queues so that each scales on its own.
package workers

import (
	"fmt"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/workflows"
)

// registered are every workflow and the type name it runs under.
var registered = []struct {
	name string
	fn   any
}{
	{"ProjectWorkflow", workflows.ProjectWorkflow},
	{"ChunkWorkflow", workflows.ChunkWorkflow},
	{"PayrollWorkflow", workflows.PayrollWorkflow},
	{"PayrollLedgerWorkflow", workflows.PayrollLedgerWorkflow},
	{"RedeliveryWorkflow", workflows.RedeliveryWorkflow},
	{"ScheduledPayrollWorkflow", workflows.ScheduledPayrollWorkflow},
}

// RegisterWorkflows registers every workflow; replay tests use it too.
func RegisterWorkflows(r worker.WorkflowRegistry) {
	for _, w := range registered {
		r.RegisterWorkflowWithOptions(w.fn, workflow.RegisterOptions{Name: w.name})
	}
}

// WorkflowTypes names every registered workflow type: replay tests check each has a history.
func WorkflowTypes() []string {
	out := make([]string, len(registered))
	for i, w := range registered {
		out[i] = w.name
	}
	return out
}

// New builds the workers the configured role asks for. Start them with Run or Start.
func New(c client.Client, cfg config.Config, acts *activities.Activities) ([]worker.Worker, error) {
	var out []worker.Worker
	if cfg.WorkerRole == "all" || cfg.WorkerRole == "workflows" {
		w := worker.New(c, cfg.WorkflowTaskQueue, worker.Options{})
		RegisterWorkflows(w)
		out = append(out, w)
	}
	if cfg.WorkerRole == "all" || cfg.WorkerRole == "activities" {
		if acts == nil {
			return nil, fmt.Errorf("the activity worker needs its dependencies")
		}
		w := worker.New(c, cfg.ActivityTaskQueue, worker.Options{MaxConcurrentActivityExecutionSize: cfg.WorkerConcurrency})
		w.RegisterActivity(acts)
		out = append(out, w)
	}
	return out, nil
}
