package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// Ops look after the roster through these: who is in it, deactivating someone who must no longer
// sign in, and giving someone a token. Changes are audited; reading the roster is not, as it
// changes nothing (the gateway checks the role of whoever reads).

// tokenRoles are the roles ops may give tokens to. A token of a finance or ops person would let
// whoever receives it act as them (approve payroll, launch projects), so those are given only
// with `labelflow workforce token issue`, by someone who holds the store's own credentials.
var tokenRoles = []string{role.Annotator, role.Reviewer}

// ListPeople returns everyone in the roster, by id, for an ops person.
func (a *App) ListPeople(ctx context.Context, act Actor) ([]workforce.Person, error) {
	if err := may(act, "list the roster", RoleOps); err != nil {
		return nil, err
	}
	return a.Roster.List(ctx)
}

// DeactivatePerson stops a person from signing in, for an ops person: their token is revoked and
// they are marked inactive, but they stay in the roster, so the work they did is still paid.
// Nobody deactivates themselves, so that ops cannot lock the last of themselves out by mistake.
func (a *App) DeactivatePerson(ctx context.Context, act Actor, person, reason string) (workforce.Person, error) {
	var p workforce.Person
	err := a.audited(ctx, act, "deactivate", person, map[string]string{"reason": reason}, func() error {
		if err := may(act, "deactivate people", RoleOps); err != nil {
			return err
		}
		switch {
		case strings.TrimSpace(reason) == "":
			return errors.New("--reason: say why the person is deactivated; it is kept in the audit log")
		case person == act.ID:
			return fmt.Errorf("%s cannot deactivate themselves; another ops person can", act.ID)
		}
		var err error
		p, err = a.Roster.Deactivate(ctx, person)
		return notInRoster(err)
	})
	return p, err
}

// IssueToken gives an annotator or reviewer a new token, for an ops person, and returns it: the
// only time it is seen. A token they held stops working at once, and a deactivated person is
// active again.
func (a *App) IssueToken(ctx context.Context, act Actor, person string) (string, error) {
	var token string
	details := map[string]string{}
	err := a.audited(ctx, act, "issue-token", person, details, func() error {
		if err := may(act, "issue tokens", RoleOps); err != nil {
			return err
		}
		p, err := a.Roster.Get(ctx, person)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %q is %w", ErrNotFound, person, workforce.ErrUnknownPerson)
		} else if err != nil {
			return err
		}
		if !slices.Contains(tokenRoles, p.Role) {
			return fmt.Errorf("%w: %s is %s; tokens of %s people are given with `labelflow workforce token issue`", ErrForbidden, person, p.Role, p.Role)
		}
		details["replaced"], details["reactivated"] = strconv.FormatBool(p.TokenHash != ""), strconv.FormatBool(p.Inactive)
		token, err = a.Roster.GiveToken(ctx, person)
		return notInRoster(err)
	})
	return token, err
}

// notInRoster marks an unknown person as not found.
func notInRoster(err error) error {
	if errors.Is(err, workforce.ErrUnknownPerson) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}
