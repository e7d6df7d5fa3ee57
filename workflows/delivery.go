package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/internal/webhook"
)

// deliver is the project's last stage. Every chunk has already delivered its labels; this writes
// the rejects report and then, last of all, the manifest that tells the client the delivery is complete.
func (p *project) deliver(ctx, actx workflow.Context) error {
	var a *activities.Activities
	in := activities.DeliveryManifestInput{
		ProjectID: p.in.Spec.ID, Chunks: p.chunksToDeliver(), CompletedAt: workflow.Now(ctx),
	}
	if err := workflow.ExecuteActivity(actx, a.WriteDeliveryManifest, in).Get(ctx, &p.st.Delivery); err != nil {
		return err
	}
	if p.in.Spec.Delivery.Webhook.URL != "" {
		var res activities.WebhookResult
		wctx := workflow.WithActivityOptions(ctx, webhookActivityOptions(p.in.ActivityTaskQueue))
		if err := workflow.ExecuteActivity(wctx, a.NotifyWebhook, activities.WebhookInput{
			ProjectID: p.in.Spec.ID, Type: webhook.EventProjectCompleted, Items: p.st.Delivery.Items,
			ManifestKey: p.st.Delivery.ManifestKey, At: in.CompletedAt,
		}).Get(ctx, &res); err != nil {
			return err
		}
		p.st.Done.Webhooks.add(res)
	}
	return p.setStage(ctx, StageCompleted)
}
