package workforce

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/labelflow/labelflow/internal/store"
)

// Tokens are issued by LabelFlow, never chosen by people: 32 random bytes (256 bits) from
// crypto/rand, base64url-encoded after a prefix that makes a leaked token easy to recognise, as
// in "lf_3q2-7wEjA0C…" (46 characters in all).
const (
	TokenPrefix = "lf_"
	tokenBytes  = 32
)

// TokenLen is the length of an issued token.
var TokenLen = len(TokenPrefix) + base64.RawURLEncoding.EncodedLen(tokenBytes)

// minTokenVariety is the fewest distinct characters an issued token shows. 43 random characters
// of a 64-letter alphabet show about 31; fewer than 16 happens about once in 10^13 tokens, while
// hand-made strings such as "lf_aaaa…" or a short pattern repeated fall far below it.
const minTokenVariety = 16

// NewToken returns a new random token.
func NewToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// CheckToken tells whether s looks like a token LabelFlow issued, and if not, why. Messages never
// repeat the token.
func CheckToken(s string) error {
	if err := tokenShape(s); err != nil {
		return err
	}
	body := s[len(TokenPrefix):]
	seen := map[rune]bool{}
	for _, c := range body {
		seen[c] = true
	}
	if len(seen) < minTokenVariety {
		return fmt.Errorf("is not random: %d distinct characters where an issued token has about 31", len(seen))
	}
	return nil
}

// tokenShape checks the prefix, length and alphabet of an issued token.
func tokenShape(s string) error {
	body, ok := strings.CutPrefix(s, TokenPrefix)
	switch {
	case !ok:
		return fmt.Errorf("must be a token issued by `labelflow workforce token issue` (it starts with %q)", TokenPrefix)
	case len(s) != TokenLen:
		return fmt.Errorf("must be %d characters long, got %d", TokenLen, len(s))
	}
	for _, c := range body {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("must hold only letters, digits, '-' and '_' after %q", TokenPrefix)
		}
	}
	return nil
}

// ErrNoPepper is returned where a token would be hashed without the server-side key.
var ErrNoPepper = errors.New("the roster has no token pepper (LABELFLOW_TOKEN_PEPPER)")

// TokenHash is the stored form of a token: HMAC-SHA256 under the roster's pepper, in hex. Without
// the pepper, a copy of the roster does not let anyone test guessed tokens against it.
func (r Roster) TokenHash(token string) string {
	m := hmac.New(sha256.New, r.Pepper)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// Errors of issuing, rotating and revoking tokens.
var (
	ErrUnknownPerson = errors.New("not in the roster")
	ErrHasToken      = errors.New("already has a token")
	ErrNoToken       = errors.New("has no token")
)

// IssueToken gives a person without a token a new one, and returns it: the only time it is seen.
func (r Roster) IssueToken(ctx context.Context, id string) (string, error) {
	p, err := r.member(ctx, id)
	if err != nil {
		return "", err
	}
	if p.TokenHash != "" {
		return "", fmt.Errorf("%s %w: rotate it to replace it", id, ErrHasToken)
	}
	return r.giveToken(ctx, p)
}

// RotateToken replaces a person's token with a new one and returns it. The old token stops
// working at once.
func (r Roster) RotateToken(ctx context.Context, id string) (string, error) {
	p, err := r.member(ctx, id)
	if err != nil {
		return "", err
	}
	if p.TokenHash == "" {
		return "", fmt.Errorf("%s %w to rotate: issue one", id, ErrNoToken)
	}
	return r.giveToken(ctx, p)
}

// RevokeToken takes a person's token away: they stay in the roster and can no longer sign in.
func (r Roster) RevokeToken(ctx context.Context, id string) error {
	p, err := r.member(ctx, id)
	if err != nil {
		return err
	}
	if p.TokenHash == "" {
		return fmt.Errorf("%s %w to revoke", id, ErrNoToken)
	}
	p.TokenHash = ""
	return r.Save(ctx, []Person{p})
}

// GiveToken gives a person a new token, whether they had one (it stops working at once) or not,
// and returns it: the only time it is seen. It re-activates a person who was deactivated.
func (r Roster) GiveToken(ctx context.Context, id string) (string, error) {
	p, err := r.member(ctx, id)
	if err != nil {
		return "", err
	}
	return r.giveToken(ctx, p)
}

// Deactivate stops a person from signing in: their token is taken away and they are marked
// inactive, so that no token given later by a roster import lets them in either. They stay in
// the roster, and payroll pays the work they did. Deactivating an inactive person changes
// nothing. It returns the person as saved.
func (r Roster) Deactivate(ctx context.Context, id string) (Person, error) {
	p, err := r.member(ctx, id)
	if err != nil || (p.Inactive && p.TokenHash == "") {
		return p, err
	}
	p.Inactive, p.TokenHash = true, ""
	return p, r.Save(ctx, []Person{p})
}

// giveToken gives p a new token; issuing a token is what lets a person sign in, so it also
// re-activates them.
func (r Roster) giveToken(ctx context.Context, p Person) (string, error) {
	if len(r.Pepper) == 0 {
		return "", ErrNoPepper
	}
	token, err := NewToken()
	if err != nil {
		return "", err
	}
	p.TokenHash, p.Inactive = r.TokenHash(token), false
	if err := r.Save(ctx, []Person{p}); err != nil {
		return "", err
	}
	return token, nil
}

// member reads a person, naming an unknown id clearly.
func (r Roster) member(ctx context.Context, id string) (Person, error) {
	p, err := r.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("%q is %w", id, ErrUnknownPerson)
	}
	return p, err
}
