package demo

import (
	"context"
	"errors"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// OpsDemo is the ops person who launches the demo's projects.
var OpsDemo = workforce.Person{ID: "ops-demo", Name: "Ops (demo)", Country: "KE", Role: role.Ops, PayoutMethod: "bank-transfer"}

// SignIn registers a member of staff if needed, gives them a fresh token and authenticates it,
// as the gateway does for a request: the demo acts for finance and ops only with their own
// credential, never on a name.
func SignIn(ctx context.Context, a *app.App, who workforce.Person) (app.Actor, error) {
	token, err := StaffToken(ctx, a, who)
	if err != nil {
		return app.Actor{}, err
	}
	return a.Authenticate(ctx, token)
}

// StaffToken registers a member of staff if needed and returns a fresh token for them: their
// old token, if any, stops working.
func StaffToken(ctx context.Context, a *app.App, who workforce.Person) (string, error) {
	r := a.Roster
	p, err := r.Get(ctx, who.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if err := r.Save(ctx, []workforce.Person{who}); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	case p.TokenHash != "":
		return r.RotateToken(ctx, who.ID)
	}
	return r.IssueToken(ctx, who.ID)
}
