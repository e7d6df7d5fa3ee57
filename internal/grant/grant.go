// Package grant signs the identity LabelFlow established for a request, so that a workflow can
// tell a request the gateway or the API vouched for from one written by anyone who can reach
// Temporal. The gateway authenticates a person from their token and the roster, puts who they
// are and what they may do in the request, and seals it: an HMAC-SHA256 over the request, the
// workflow and Update it is addressed to, and an expiry. The workflow's validator checks the
// seal before it reads a single field, so a made-up identity, a request replayed to another
// workflow or Update, or an old request never reaches history.
package grant

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TTL is how long a seal stays valid. A request travels from the gateway to the workflow in
// seconds; two minutes leave room for clock skew between hosts and a slow Update.
const TTL = 2 * time.Minute

// maxTTL bounds how far in the future a seal may expire, so a seal is never a standing pass.
const maxTTL = 10 * time.Minute

// minProductionKeyBytes is the shortest key a production stack accepts.
const minProductionKeyBytes = 32

// Seal travels with a request and proves who made it.
type Seal struct {
	KeyID   string    `json:"kid"`
	Expires time.Time `json:"exp"`
	MAC     string    `json:"mac"` // base64url HMAC-SHA256
}

// Target is what a request is addressed to: a workflow and one of its Updates (or "start").
type Target struct {
	Workflow string
	Action   string
}

// Keys sign and verify seals. The first key signs; every key verifies, so keys rotate without
// refusing requests in flight.
type Keys struct {
	signing string
	keys    map[string][]byte
}

// Errors a verification returns.
var (
	ErrMissing = errors.New("the request carries no seal: identities come from LabelFlow's gateway or API, not from the caller")
	ErrInvalid = errors.New("the request's seal does not match it: it was not issued by LabelFlow for this request")
	ErrExpired = errors.New("the request's seal has expired")
	ErrNoKeys  = errors.New("this worker has no grant keys configured")
)

// ParseKeys reads "id:secret[,id:secret...]". With production set, every secret must be at
// least 32 bytes.
func ParseKeys(s string, production bool) (*Keys, error) {
	k := &Keys{keys: map[string][]byte{}}
	for i, part := range strings.Split(s, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(part), ":")
		switch {
		case !ok || id == "" || secret == "":
			return nil, fmt.Errorf("grant key %d: want id:secret", i+1)
		case strings.ContainsAny(id, " \t"):
			return nil, fmt.Errorf("grant key %d: id %q has spaces", i+1, id)
		case production && len(secret) < minProductionKeyBytes:
			return nil, fmt.Errorf("grant key %q: at least %d bytes in production, got %d", id, minProductionKeyBytes, len(secret))
		}
		if _, dup := k.keys[id]; dup {
			return nil, fmt.Errorf("grant key id %q appears twice", id)
		}
		k.keys[id] = []byte(secret)
		if i == 0 {
			k.signing = id
		}
	}
	return k, nil
}

// Sign seals body (the request without its seal) for target, valid for TTL from now.
func (k *Keys) Sign(t Target, body []byte, now time.Time) Seal {
	s := Seal{KeyID: k.signing, Expires: now.Add(TTL).UTC().Truncate(time.Millisecond)}
	s.MAC = mac(k.keys[k.signing], t, s.Expires, body)
	return s
}

// SignUntil seals body for target until expires, at most maxTTL from now: for a grant that must
// last as long as something else (a lease), not as long as one request.
func (k *Keys) SignUntil(t Target, body []byte, now, expires time.Time) Seal {
	if limit := now.Add(maxTTL); expires.After(limit) {
		expires = limit
	}
	expires = expires.UTC().Truncate(time.Millisecond)
	s := Seal{KeyID: k.signing, Expires: expires}
	s.MAC = mac(k.keys[k.signing], t, s.Expires, body)
	return s
}

// Verify checks that seal was made by one of the keys for exactly this target and body, and
// has not expired at now.
func (k *Keys) Verify(t Target, body []byte, seal *Seal, now time.Time) error {
	if k == nil || len(k.keys) == 0 {
		return ErrNoKeys
	}
	if seal == nil || seal.MAC == "" {
		return ErrMissing
	}
	key, ok := k.keys[seal.KeyID]
	if !ok {
		return fmt.Errorf("%w (unknown key id %q)", ErrInvalid, seal.KeyID)
	}
	want := mac(key, t, seal.Expires, body)
	if !hmac.Equal([]byte(want), []byte(seal.MAC)) {
		return ErrInvalid
	}
	if !now.Before(seal.Expires) {
		return fmt.Errorf("%w (at %s)", ErrExpired, seal.Expires.Format(time.RFC3339))
	}
	if seal.Expires.Sub(now) > maxTTL {
		return fmt.Errorf("%w (it claims to last until %s)", ErrInvalid, seal.Expires.Format(time.RFC3339))
	}
	return nil
}

func mac(key []byte, t Target, expires time.Time, body []byte) string {
	h := hmac.New(sha256.New, key)
	// Each field is length-prefixed so that no two different targets share a message.
	for _, f := range [][]byte{[]byte("labelflow-grant-v1"), []byte(t.Workflow), []byte(t.Action), []byte(expires.UTC().Format(time.RFC3339Nano)), body} {
		fmt.Fprintf(h, "%d:", len(f))
		h.Write(f)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
