package demo

import (
	"context"
	"errors"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/workforce"
)

// OpsDemo is the ops person who launches the demo's projects.
var OpsDemo = workforce.Person{ID: "ops-demo", Name: "Ops (demo)", Country: "KE", Role: app.RoleOps, PayoutMethod: "bank-transfer"}

// SignIn registers a member of staff if needed, gives them a fresh token and authenticates it,
// as the gateway does for a request: the demo acts for finance and ops only with their own
// credential, never on a name.
func SignIn(ctx context.Context, a *app.App, who workforce.Person) (app.Actor, error) {
	token, err := freshToken(ctx, a.Roster, who)
	if err != nil {
		return app.Actor{}, err
	}
	return a.Authenticate(ctx, token)
}

// StaffToken registers a member of staff if needed and returns a fresh token for them.
func StaffToken(ctx context.Context, a *app.App, who workforce.Person) (string, error) {
	return freshToken(ctx, a.Roster, who)
}

func freshToken(ctx context.Context, r workforce.Roster, who workforce.Person) (string, error) {
	p, err := r.Get(ctx, who.ID)
	if err != nil {
		if err := r.Save(ctx, []workforce.Person{who}); err != nil {
			return "", err
		}
		return r.IssueToken(ctx, who.ID)
	}
	if p.TokenHash == "" {
		return r.IssueToken(ctx, who.ID)
	}
	token, err := r.RotateToken(ctx, who.ID)
	if errors.Is(err, workforce.ErrNoToken) {
		return r.IssueToken(ctx, who.ID)
	}
	return token, err
}
