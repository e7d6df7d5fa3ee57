// Package pseudonym names the people who labelled a client's data without naming them: every
// client-facing file carries a person's pseudonym for that client, never their roster id. A
// pseudonym is a keyed HMAC of the client and the person, so it is the same across all of one
// client's projects (the client can follow an annotator's work) and different for every other
// client (two clients cannot match their annotators). Only the platform, holding the key and
// the roster, can map a pseudonym back to a person.
package pseudonym

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// MinKeyBytes is the shortest key accepted: HMAC-SHA256 with a key shorter than its output
// would be weaker than it looks.
const MinKeyBytes = 32

// Prefix starts every pseudonym, so that one is never mistaken for a roster id.
const Prefix = "a-"

// digestBytes of the HMAC are kept: 80 bits, 16 base32 characters, so that two people of one
// client sharing a pseudonym is out of reach for any roster size.
const digestBytes = 10

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Namer gives pseudonyms under one key.
type Namer struct {
	key []byte
}

// New returns a Namer keyed with key, which must be at least MinKeyBytes long.
func New(key string) (*Namer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("the pseudonym key must be at least %d bytes, got %d", MinKeyBytes, len(key))
	}
	return &Namer{key: []byte(key)}, nil
}

// Of is person's pseudonym for client. The two are joined with a NUL byte, which neither
// holds, so that ("ab", "c") and ("a", "bc") never collide.
func (n *Namer) Of(client, person string) string {
	if person == "" {
		return ""
	}
	mac := hmac.New(sha256.New, n.key)
	mac.Write([]byte(client))
	mac.Write([]byte{0})
	mac.Write([]byte(person))
	return Prefix + strings.ToLower(encoding.EncodeToString(mac.Sum(nil)[:digestBytes]))
}

// For returns the function that names people for client, as the formats take it.
func (n *Namer) For(client string) func(person string) string {
	return func(person string) string { return n.Of(client, person) }
}

// ErrUnknown is returned by Find when no one in the roster has the pseudonym.
var ErrUnknown = errors.New("no one in the roster has this pseudonym for this client")

// Find maps a pseudonym back to the person among people who carries it for client: the HMAC
// cannot be reversed, so each person's pseudonym is computed and compared.
func (n *Namer) Find(client, pseudonym string, people []string) (string, error) {
	want := strings.ToLower(strings.TrimSpace(pseudonym))
	if !strings.HasPrefix(want, Prefix) {
		return "", fmt.Errorf("%q is not a pseudonym: pseudonyms start with %q", pseudonym, Prefix)
	}
	for _, p := range people {
		if hmac.Equal([]byte(n.Of(client, p)), []byte(want)) {
			return p, nil
		}
	}
	return "", ErrUnknown
}
