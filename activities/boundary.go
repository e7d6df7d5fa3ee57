package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/spec"
)

// openTarget opens a delivery target once the project's client may use it. A refusal is retried
// like an unreachable bucket, and shows in the project's status: it means the clients file
// changed under a running project, which ops put right, rather than a reason to drop the work.
func (a *Activities) openTarget(ctx context.Context, sp spec.Project, target spec.Delivery) (*clientbucket.Bucket, error) {
	if errs := a.Boundary.CheckDelivery(sp.Client, target); len(errs) > 0 {
		return nil, fmt.Errorf("delivery target of project %s refused: %s", sp.ID, problems(errs))
	}
	b, err := a.Targets.Open(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("delivery target: %w", err)
	}
	return b, nil
}

// webhookAllowed refuses a webhook its client may not use: a secret that is not the client's,
// or a URL outside the egress rules.
func (a *Activities) webhookAllowed(sp spec.Project) error {
	if errs := a.Boundary.CheckWebhook(sp.Client, sp.Delivery.Webhook); len(errs) > 0 {
		return fmt.Errorf("webhook refused: %s", problems(errs))
	}
	return nil
}

// problems joins field problems into one line.
func problems(errs []spec.FieldError) string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Field + ": " + e.Reason
	}
	return strings.Join(out, "; ")
}
