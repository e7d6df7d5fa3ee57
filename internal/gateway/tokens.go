package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/labelflow/labelflow/internal/workforce"
)

// The gateway remembers whom a token belongs to for a short while (LABELFLOW_GATEWAY_TOKEN_CACHE_TTL),
// so that a request costs no roster reads and people keep working while the store is unreachable.
// Entries are keyed by the token's hash, never the token; only tokens the roster named are kept,
// so a flood of made-up tokens cannot fill the cache nor be answered from it.

const (
	// tokenCacheCap bounds how many signed-in people the gateway remembers.
	tokenCacheCap = 8192
	// staleLimit is how long a remembered person keeps working while the roster cannot be read:
	// long enough to ride out a restart of the store, short enough that an outage does not
	// keep a token alive for good.
	staleLimit = 15 * time.Minute
	// rosterLookupTime bounds one roster lookup, so that an unreachable store is answered with
	// 503 quickly rather than after the store client's own retries.
	rosterLookupTime = 5 * time.Second
)

// errStoreSlow marks a roster lookup cut off by rosterLookupTime.
var errStoreSlow = errors.New("the object store did not answer in time")

type tokenCache struct {
	ttl    time.Duration
	mu     sync.Mutex
	byHash *lru[string, cachedPerson]
	// downUntil: the roster was unreachable at the last lookup; until then remembered people are
	// answered from the cache without trying it again, so that an outage does not hold every
	// request for rosterLookupTime.
	downUntil time.Time
}

type cachedPerson struct {
	person  workforce.Person
	checked time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, byHash: newLRU[string, cachedPerson](tokenCacheCap)}
}

func (c *tokenCache) get(hash string) (cachedPerson, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byHash.get(hash)
}

func (c *tokenCache) put(hash string, p workforce.Person) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byHash.put(hash, cachedPerson{person: p, checked: time.Now()})
}

func (c *tokenCache) forget(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byHash.remove(hash)
}

// rosterDown reports whether the roster was found unreachable less than retryAfter ago.
func (c *tokenCache) rosterDown() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Before(c.downUntil)
}

// setRosterDown records whether the last lookup found the roster unreachable.
func (c *tokenCache) setRosterDown(down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.downUntil = time.Time{}
	if down {
		c.downUntil = time.Now().Add(retryAfter)
	}
}

// person resolves a bearer token to the roster's person: from the cache while its entry is
// younger than the TTL, else from the roster. A token the roster no longer names is forgotten at
// once (revoked, rotated, removed). When the roster cannot be read and stale is allowed, a person
// checked within staleLimit keeps working; anyone else gets the store's error, which fail
// answers with 503.
func (g *Gateway) person(ctx context.Context, token string, stale bool) (workforce.Person, error) {
	hash := g.app.Roster.TokenHash(token)
	cached, ok := g.tokens.get(hash)
	if ok && time.Since(cached.checked) < g.tokens.ttl {
		return cached.person, nil
	}
	graced := stale && ok && time.Since(cached.checked) < staleLimit
	if graced && g.tokens.rosterDown() {
		return cached.person, nil
	}
	lookup, cancel := context.WithTimeout(ctx, rosterLookupTime)
	defer cancel()
	p, err := g.app.Roster.ByToken(lookup, token)
	if err != nil && lookup.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w: %w", errStoreSlow, err)
	}
	down := unavailable(err)
	g.tokens.setRosterDown(down)
	switch {
	case err == nil:
		g.tokens.put(hash, p)
		return p, nil
	case errors.Is(err, workforce.ErrUnknownToken):
		g.tokens.forget(hash)
		return p, err
	case graced && down:
		g.log.Debug().Err(err).Str("person", cached.person.ID).Msg("roster unreachable; a recently checked token is trusted")
		return cached.person, nil
	}
	return p, err
}
