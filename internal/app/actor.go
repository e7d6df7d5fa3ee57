package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/labelflow/labelflow/internal/audit"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
)

// Actor is a person LabelFlow authenticated from their own token: who they are and what they may
// do come from the roster, never from a request.
type Actor struct {
	workforce.Person
	// Credential names the token presented (a fingerprint, never the token), for the audit log.
	Credential string
}

// Roles of finance and ops actions.
const (
	RoleFinance = role.Finance
	RoleOps     = role.Ops
)

// ErrUnauthenticated is a missing or unknown token.
var ErrUnauthenticated = errors.New("unknown token")

// ErrForbidden is an action the person's role does not allow.
var ErrForbidden = errors.New("not allowed")

// Authenticate resolves a token to the person who holds it.
func (a *App) Authenticate(ctx context.Context, token string) (Actor, error) {
	if token == "" {
		return Actor{}, fmt.Errorf("%w: no token given (set LABELFLOW_TOKEN to your own token)", ErrUnauthenticated)
	}
	p, err := a.Roster.ByToken(ctx, token)
	if errors.Is(err, workforce.ErrUnknownToken) {
		return Actor{}, ErrUnauthenticated
	}
	if err != nil {
		return Actor{}, err
	}
	return Actor{Person: p, Credential: Fingerprint(token)}, nil
}

// Fingerprint names a token in logs and audit records without revealing it.
func Fingerprint(token string) string {
	h := sha256.Sum256([]byte("labelflow-credential:" + token))
	return "tok-" + hex.EncodeToString(h[:6])
}

// may refuses an actor whose role is not one of roles.
func may(act Actor, action string, roles ...string) error {
	if !slices.Contains(roles, act.Role) {
		return fmt.Errorf("%w: %s has the role %q; only %s may %s", ErrForbidden, act.ID, act.Role, strings.Join(roles, " or "), action)
	}
	return nil
}

// auditWriteTime bounds the writing of one audit record.
const auditWriteTime = 10 * time.Second

// audited runs an action and writes its audit record, whatever the outcome. An action that took
// effect but could not be recorded is reported as an error, so that nobody believes it was
// refused or lets it go unrecorded.
func (a *App) audited(ctx context.Context, act Actor, action, target string, details map[string]string, fn func() error) error {
	err := fn()
	rec := audit.Record{At: time.Now().UTC(), Person: act.ID, Role: act.Role, Credential: act.Credential, Action: action, Target: target, Details: details}
	// The record is written even when the action ran out of time, within a bound of its own.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditWriteTime)
	defer cancel()
	if aerr := audit.Write(wctx, a.Store, rec, err); aerr != nil {
		a.Log.Error().Err(aerr).Str("action", action).Str("person", act.ID).Msg("audit record not written")
		if err == nil {
			return fmt.Errorf("%s %s took effect, but its audit record could not be written: %w", action, target, aerr)
		}
	}
	return err
}
