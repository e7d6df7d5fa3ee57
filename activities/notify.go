package activities

import (
	"context"
	"time"

	"github.com/labelflow/labelflow/internal/webhook"
)

// WebhookInput is one notification to a project's webhook.
type WebhookInput struct {
	ProjectID   string
	Type        string // webhook.EventChunkDelivered | webhook.EventProjectCompleted
	Chunk       *int
	Items       int
	ManifestKey string
	At          time.Time // when the event happened (workflow time), so retries send the same body
}

// WebhookResult is the outcome of a notification, for status. A failing webhook never fails a
// delivery: the labels are already in the client's bucket.
type WebhookResult struct {
	Sent     bool
	Attempts int
	Status   int
	Err      string
}

// NotifyWebhook posts a signed event to the project's webhook, if it has one, retrying with
// backoff. Receivers deduplicate with the webhook-id header (Standard Webhooks), which is stable across
// retries.
func (a *Activities) NotifyWebhook(ctx context.Context, in WebhookInput) (WebhookResult, error) {
	sp, err := a.spec(ctx, in.ProjectID)
	if err != nil {
		return WebhookResult{}, err
	}
	hook := sp.Delivery.Webhook
	if hook.URL == "" {
		return WebhookResult{}, nil
	}
	if err := a.webhookAllowed(sp); err != nil {
		a.Metrics.Webhook(in.Type, false)
		return WebhookResult{Err: err.Error()}, nil
	}
	secret, err := a.Targets.WebhookSecret(hook.Secret)
	if err != nil {
		a.Metrics.Webhook(in.Type, false)
		return WebhookResult{Err: err.Error()}, nil
	}
	sender := webhook.Sender{MaxAttempts: 6, Client: a.Boundary.Egress.HTTPClient(webhook.DefaultTimeout)}
	out, err := sender.Send(ctx, hook.URL, secret, webhook.Event{
		Type: in.Type, Project: in.ProjectID, Chunk: in.Chunk, Items: in.Items, ManifestKey: in.ManifestKey, At: in.At.UTC(),
	})
	res := WebhookResult{Sent: err == nil, Attempts: out.Attempts, Status: out.Status, Err: out.Err}
	if err != nil && ctx.Err() != nil {
		return res, ctx.Err()
	}
	a.logger(ctx).Info("webhook", "project", in.ProjectID, "event", in.Type, "sent", res.Sent, "status", res.Status)
	a.Metrics.Webhook(in.Type, res.Sent)
	return res, nil
}
