package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/workflows"
)

// ErrProjectExists is returned when a project id was launched before.
var ErrProjectExists = errors.New("project already exists")

// LoadSpecFile reads and validates a spec file.
func LoadSpecFile(path string) (spec.Project, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return spec.Project{}, err
	}
	return spec.Parse(path, data)
}

// Launch checks a project can run — source readable, delivery target writable — and starts it.
// A project id runs once: launching it again is refused, whatever state the first run is in.
func (a *App) Launch(ctx context.Context, act Actor, p spec.Project) (string, error) {
	var id string
	err := a.audited(ctx, act, "launch", p.ID, map[string]string{"client": p.Client, "source": p.Source}, func() error {
		var err error
		id, err = a.launch(ctx, act, p)
		return err
	})
	return id, err
}

func (a *App) launch(ctx context.Context, act Actor, p spec.Project) (string, error) {
	if err := may(act, "launch projects", RoleOps); err != nil {
		return "", err
	}
	if a.Grants == nil {
		return "", errNoGrantKeys
	}
	// Nothing is read, probed or started for a spec that reaches outside its client.
	if errs := a.Boundary().Check(p); len(errs) > 0 {
		return "", &spec.Error{File: "project " + p.ID, Fields: errs}
	}
	bucket, key, _ := store.ParseURI(p.Source)
	r, err := a.Store.OpenIn(ctx, bucket, key)
	if err != nil {
		return "", fmt.Errorf("source: %w", err)
	}
	r.Close()
	if err := delivery.CheckTarget(ctx, a.Targets, p); err != nil {
		return "", fmt.Errorf("delivery: %w", err)
	}
	id := workflows.ProjectWorkflowID(p.ID)
	input, err := workflows.Seal(a.Grants, id, workflows.ActionStart, workflows.ProjectInput{
		Spec: p, Window: a.Cfg.ChunkWindow, SpillBytes: a.Cfg.ChunkSpillBytes,
		WorkflowTaskQueue: a.Cfg.WorkflowTaskQueue, ActivityTaskQueue: a.Cfg.ActivityTaskQueue, LaunchedBy: act.ID,
	}, time.Now())
	if err != nil {
		return "", err
	}
	_, err = a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                a.Cfg.WorkflowTaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    workflows.ProjectSearchAttributes(p),
	}, workflows.ProjectWorkflow, input)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return "", fmt.Errorf("%w: %s (workflow %s)", ErrProjectExists, p.ID, id)
	}
	if err != nil {
		return "", fmt.Errorf("start project %s: %w", p.ID, err)
	}
	return p.ID, nil
}

// ProjectView is a project's status with its running chunks' live progress.
type ProjectView struct {
	workflows.ProjectStatus
	Live       []workflows.ChunkStatus `json:"live_chunks"`
	Annotated  int                     `json:"annotated_items"` // items with both annotations
	Final      int                     `json:"final_items"`     // items with a final label
	Agreed     int                     `json:"agreed_items"`
	Arbitrated int                     `json:"arbitrated_items"`
	Leases     int                     `json:"active_leases"`
	Agreement  float64                 `json:"agreement"`
	Closed     bool                    `json:"closed"`
	Finished   []FinishedChunk         `json:"finished_chunks,omitempty"`
	// Problems are activities being retried right now (an unreachable bucket, a failing store),
	// with their last error, so that ops see what holds a project up.
	Problems []string `json:"problems,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// FinishedChunk is a delivered chunk's outcome, read from its delivery receipt.
type FinishedChunk struct {
	Chunk      int     `json:"chunk"`
	Items      int     `json:"items"`
	Agreed     int     `json:"agreed"`
	Arbitrated int     `json:"arbitrated"`
	Agreement  float64 `json:"agreement"`
	Key        string  `json:"key"`
	SHA256     string  `json:"sha256"`
}

// FinishedChunks reads the receipts of a project's delivered chunks. It reads one object per
// chunk, so status asks for it only on demand.
func (a *App) FinishedChunks(ctx context.Context, project string) ([]FinishedChunk, error) {
	var out []FinishedChunk
	receipts, err := delivery.ListReceipts(ctx, a.Store, project)
	for _, r := range receipts {
		f := FinishedChunk{Chunk: r.Chunk, Items: r.Items, Agreed: r.Agreed, Arbitrated: r.Arbitrated, Key: r.Key, SHA256: r.SHA256}
		if r.Items > 0 {
			f.Agreement = float64(r.Agreed) / float64(r.Items)
		}
		out = append(out, f)
	}
	return out, err
}

// ProjectStatus queries a project and its running chunks.
func (a *App) ProjectStatus(ctx context.Context, project string) (ProjectView, error) {
	var v ProjectView
	wid := workflows.ProjectWorkflowID(project)
	desc, err := a.Describe(ctx, wid, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return v, fmt.Errorf("project %s %w", project, ErrNotFound)
		}
		return v, err
	}
	info := desc.GetWorkflowExecutionInfo()
	v.Problems = append(v.Problems, a.retrying(wid, desc)...)
	v.Closed = info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	if v.Closed && info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		v.Error = "project workflow " + info.GetStatus().String()
	}
	if v.Closed && info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		err = a.Temporal.GetWorkflow(ctx, wid, "").Get(ctx, &v.ProjectStatus)
	} else {
		var res interface{ Get(any) error }
		res, err = a.Temporal.QueryWorkflow(ctx, wid, "", workflows.QueryStatus)
		if err == nil {
			err = res.Get(&v.ProjectStatus)
		}
	}
	if err != nil {
		return v, fmt.Errorf("status of %s: %w", project, err)
	}
	d := v.Done
	v.Annotated, v.Final, v.Agreed, v.Arbitrated = d.Items, d.Items, d.Agreed, d.Arbitrated
	for _, c := range v.Running {
		if d, err := a.Describe(ctx, workflows.ChunkWorkflowID(project, c), ""); err == nil {
			v.Problems = append(v.Problems, a.retrying(workflows.ChunkWorkflowID(project, c), d)...)
			if s := d.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && s != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				v.Problems = append(v.Problems, fmt.Sprintf("%s: chunk workflow %s; see it in the Temporal UI", workflows.ChunkWorkflowID(project, c), s))
			}
		}
		res, err := a.Temporal.QueryWorkflow(ctx, workflows.ChunkWorkflowID(project, c), "", workflows.QueryStatus)
		if err != nil {
			continue // the chunk is finishing; its totals arrive with its report
		}
		var cs workflows.ChunkStatus
		if res.Get(&cs) != nil {
			continue
		}
		v.Live = append(v.Live, cs)
		v.Annotated += cs.DoublyAnnotated
		v.Final += cs.Final
		v.Agreed += cs.Agreed
		v.Arbitrated += cs.Arbitrated
		v.Leases += cs.ActiveLeases
	}
	sort.Slice(v.Live, func(i, j int) bool { return v.Live[i].Chunk < v.Live[j].Chunk })
	if v.Annotated > 0 {
		v.Agreement = float64(v.Agreed) / float64(v.Annotated)
	}
	return v, nil
}

// RunningChunks returns the chunks a project is annotating now, and its stage.
func (a *App) RunningChunks(ctx context.Context, project string) ([]int, string, error) {
	res, err := a.Temporal.QueryWorkflow(ctx, workflows.ProjectWorkflowID(project), "", workflows.QueryStatus)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, "", fmt.Errorf("project %s not found: %w", project, ErrNotFound)
		}
		return nil, "", err
	}
	var st workflows.ProjectStatus
	if err := res.Get(&st); err != nil {
		return nil, "", err
	}
	return st.Running, st.Stage, nil
}

// ErrNotFound marks a missing project, suite or person.
var ErrNotFound = errors.New("not found")

// ProjectSummary is a line of `project list`.
type ProjectSummary struct {
	ID     string `json:"id"`
	Client string `json:"client"`
	Stage  string `json:"stage"`
	Status string `json:"status"`
}

// ListProjects lists projects through Temporal visibility and their search attributes.
func (a *App) ListProjects(ctx context.Context) ([]ProjectSummary, error) {
	var out []ProjectSummary
	var token []byte
	for {
		resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query:         "WorkflowType = 'ProjectWorkflow'",
			NextPageToken: token,
		})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			s := ProjectSummary{Status: e.GetStatus().String()}
			fields := e.GetSearchAttributes().GetIndexedFields()
			s.ID = decodeKeyword(fields[workflows.SearchAttrProject])
			s.Client = decodeKeyword(fields[workflows.SearchAttrClient])
			s.Stage = decodeKeyword(fields[workflows.SearchAttrStage])
			out = append(out, s)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func decodeKeyword(p *commonpb.Payload) string {
	if p == nil {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}

// retrying describes the activities of a workflow that have failed at least once and are being
// retried.
func (a *App) retrying(workflowID string, d *workflowservice.DescribeWorkflowExecutionResponse) []string {
	var out []string
	for _, pa := range d.GetPendingActivities() {
		if pa.GetAttempt() > 1 && pa.GetLastFailure() != nil {
			out = append(out, fmt.Sprintf("%s: %s failing (attempt %d): %s", workflowID,
				pa.GetActivityType().GetName(), pa.GetAttempt(), a.FailureMessage(pa.GetLastFailure())))
		}
	}
	return out
}

// CancelProject stops a project for an ops person: it starts no more chunks, lets the running
// ones finish (every answer given is recorded, paid and delivered) and then delivers what they
// hold.
func (a *App) CancelProject(ctx context.Context, act Actor, project, reason string) (workflows.ProjectStatus, error) {
	var st workflows.ProjectStatus
	err := a.audited(ctx, act, "cancel", project, map[string]string{"reason": reason}, func() error {
		if err := may(act, "cancel projects", RoleOps); err != nil {
			return err
		}
		if !spec.ValidID(project) {
			return fmt.Errorf("project %q is not a project id", project)
		}
		if a.Grants == nil {
			return errNoGrantKeys
		}
		id := workflows.ProjectWorkflowID(project)
		req, err := workflows.Seal(a.Grants, id, workflows.UpdateCancel, workflows.CancelRequest{By: act.ID, Role: act.Role, Reason: reason}, time.Now())
		if err != nil {
			return err
		}
		h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: id, UpdateName: workflows.UpdateCancel, Args: []any{req}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, &st)
		}
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) || (err != nil && strings.Contains(err.Error(), "workflow execution already completed")) {
			return fmt.Errorf("%w: project %s is not running", ErrNotFound, project)
		}
		return err
	})
	return st, err
}
