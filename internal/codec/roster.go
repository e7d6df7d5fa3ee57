package codec

import (
	"context"
	"errors"
	"fmt"

	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
)

// RosterOps accepts the own token of an active ops person of the roster (byToken is
// workforce.Roster.ByToken): decoding shows client data and who answered what, which is ops'
// to see, and a person's token can be revoked alone.
func RosterOps(byToken func(ctx context.Context, token string) (workforce.Person, error)) Authorizer {
	return func(ctx context.Context, token string) (string, error) {
		p, err := byToken(ctx, token)
		switch {
		case errors.Is(err, workforce.ErrUnknownToken):
			return "", ErrUnauthenticated
		case err != nil:
			return "", err
		case p.Role != role.Ops:
			return "", fmt.Errorf("%w: %s has the role %q", ErrForbidden, p.ID, p.Role)
		}
		return p.ID, nil
	}
}
