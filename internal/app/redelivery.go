package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workflows"
)

// Redeliver starts a re-delivery of a completed project's stored results to target (the
// project's own target when nil). It returns the re-delivery's workflow id. The same request
// twice is the same re-delivery.
func (a *App) Redeliver(ctx context.Context, project string, target *spec.Delivery, formats []string) (string, error) {
	v, err := a.ProjectStatus(ctx, project)
	if err != nil {
		return "", err
	}
	if v.Stage != workflows.StageCompleted {
		return "", fmt.Errorf("project %s is %s: re-delivery needs a completed project", project, v.Stage)
	}
	sp, err := spec.Load(ctx, a.Store, project)
	if err != nil {
		return "", err
	}
	effective := sp.Delivery
	if target != nil {
		effective = *target
	}
	// A re-delivery goes only where the project's client may receive it.
	if errs := a.Boundary().CheckDelivery(sp.Client, effective); len(errs) > 0 {
		return "", &spec.Error{File: "re-delivery of " + project, Fields: errs}
	}
	if err := delivery.CheckTarget(ctx, a.Targets, spec.Project{ID: sp.ID, Delivery: effective}); err != nil {
		return "", fmt.Errorf("delivery: %w", err)
	}
	for _, f := range formats {
		if !slices.Contains(spec.Formats, f) {
			return "", fmt.Errorf("--format %q: known formats are %v", f, spec.Formats)
		}
		if f == spec.FormatCOCO && sp.Annotation.Type != "bounding-box" {
			return "", fmt.Errorf("--format coco needs a bounding-box project")
		}
	}
	key, _ := json.Marshal(struct {
		Target  spec.Delivery
		Formats []string
	}{effective, formats})
	sum := sha256.Sum256(key)
	id := hex.EncodeToString(sum[:6])
	wid := workflows.RedeliveryWorkflowID(project, id)
	_, err = a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: wid, TaskQueue: a.Cfg.WorkflowTaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.RedeliveryWorkflow, workflows.RedeliveryInput{
		ProjectID: project, Chunks: v.Chunks, ActivityTaskQueue: a.Cfg.ActivityTaskQueue,
		Redelivery: delivery.Redelivery{ID: id, Target: &effective, Formats: formats},
	})
	if err != nil {
		return "", fmt.Errorf("start re-delivery of %s: %w", project, err)
	}
	return wid, nil
}

// WaitRedelivery waits for a re-delivery to finish.
func (a *App) WaitRedelivery(ctx context.Context, workflowID string) (delivery.ManifestResult, error) {
	var res delivery.ManifestResult
	err := a.Temporal.GetWorkflow(ctx, workflowID, "").Get(ctx, &res)
	return res, err
}
