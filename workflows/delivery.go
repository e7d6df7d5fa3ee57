package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
)

// deliver is the project's last stage. Every chunk has already delivered its labels; this writes
// the rejects report and then, last of all, the manifest that tells the client the delivery is complete.
func (p *project) deliver(ctx, actx workflow.Context) error {
	var a *activities.Activities
	in := activities.DeliveryManifestInput{
		ProjectID: p.in.Spec.ID, Chunks: p.st.Split.Chunks, CompletedAt: workflow.Now(ctx),
	}
	if err := workflow.ExecuteActivity(actx, a.WriteDeliveryManifest, in).Get(ctx, &p.st.Delivery); err != nil {
		return err
	}
	return p.setStage(ctx, StageCompleted)
}
