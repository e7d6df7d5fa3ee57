package gateway

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// What the abuse tests (package gateway_test, which starts the whole stack) read of a gateway's
// insides: the sizes of everything a client's choice of keys could grow.

// LimiterSizes reports how many clients each limiter remembers.
func (g *Gateway) LimiterSizes() (perIP, signIn, perPerson int) {
	return g.limits.perIP.len(), g.limits.signIn.len(), g.limits.perPerson.len()
}

// CacheSizes reports how many projects the caches hold.
func (g *Gateway) CacheSizes() (specs, running int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.specs.len(), g.running.len()
}

// CapLimiters makes each limiter remember at most max clients, so that a test reaches the cap
// with few clients.
func (g *Gateway) CapLimiters(max int) {
	for _, s := range []*limiterSet{g.limits.perIP, g.limits.signIn, g.limits.perPerson} {
		s.mu.Lock()
		s.byKey = newLRU[string, *rate.Limiter](max)
		s.mu.Unlock()
	}
}

// SweepSessions deletes expired sessions as of now.
func (g *Gateway) SweepSessions(ctx context.Context, now time.Time) (int, error) {
	return g.sweepSessions(ctx, now)
}
