package gateway_test

// The gateway while the object store is away: people it already knows keep working, anyone else
// is asked to come back (503 with Retry-After), readiness says which part is down, and a revoked
// token still stops within the token cache's TTL.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// storeSwitch stands between a gateway and the S3 server; while down, it closes every connection
// without an answer, as an unreachable server would.
type storeSwitch struct {
	down atomic.Bool
	url  string
}

func newStoreSwitch(t *testing.T, target string) *storeSwitch {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	sw := &storeSwitch{}
	rp := httputil.NewSingleHostReverseProxy(u) // keeps the Host the client signed
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sw.down.Load() {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	sw.url = srv.URL
	return sw
}

// serveThroughSwitch serves a gateway of the shared stack whose platform store is reached through
// a storeSwitch, with the given token cache TTL.
func serveThroughSwitch(t *testing.T, ttl time.Duration) (served, *storeSwitch) {
	t.Helper()
	env := stack(t)
	sw := newStoreSwitch(t, env.Stack.S3Endpoint)
	st, err := store.New(store.Options{Endpoint: sw.url, AccessKey: env.Stack.AccessKey, SecretKey: env.Stack.SecretKey,
		Region: env.Cfg.StoreRegion, Bucket: env.Cfg.StoreBucket})
	if err != nil {
		t.Fatal(err)
	}
	a := *env.App
	a.Store, a.Roster = st, workforce.Roster{Store: st, Pepper: env.App.Roster.Pepper}
	a.Cfg.GatewayTokenCacheTTL = ttl
	g, err := gateway.New(&a)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return served{g: g, url: srv.URL, env: env}, sw
}

func TestKnownPeopleKeepWorkingWhileTheStoreIsDown(t *testing.T) {
	s, sw := serveThroughSwitch(t, 100*time.Millisecond)
	crowd := people(t, s.env, "outage", 2)
	c := &http.Client{Timeout: 30 * time.Second}
	if a := mustSend(t, c, "GET", s.url+"/v1/me", crowd[0].Token, nil); a.status != http.StatusOK {
		t.Fatalf("before the outage: /v1/me = %d %s", a.status, a.msg)
	}
	waitReady(t, c, s.url, http.StatusOK)

	sw.down.Store(true)
	time.Sleep(200 * time.Millisecond) // past the TTL: the cached entry must be checked again, and cannot be
	if a := mustSend(t, c, "GET", s.url+"/v1/me", crowd[0].Token, nil); a.status != http.StatusOK {
		t.Errorf("store down, known person: /v1/me = %d %s, want 200 from the token cache", a.status, a.msg)
	}
	a := mustSend(t, c, "GET", s.url+"/v1/me", crowd[1].Token, nil)
	if a.status != http.StatusServiceUnavailable || a.code != "unavailable" || a.retryAfter == "" {
		t.Errorf("store down, person not seen before: %d %s (Retry-After %q), want 503 unavailable with Retry-After", a.status, a.code, a.retryAfter)
	}
	rd := waitReady(t, c, s.url, http.StatusServiceUnavailable)
	if rd.Checks["store"] == "ok" || rd.Checks["temporal"] != "ok" {
		t.Errorf("readiness with the store down = %+v, want the store named and Temporal ok", rd)
	}

	sw.down.Store(false)
	waitReady(t, c, s.url, http.StatusOK)
	if a := mustSend(t, c, "GET", s.url+"/v1/me", crowd[1].Token, nil); a.status != http.StatusOK {
		t.Errorf("store back: /v1/me = %d %s", a.status, a.msg)
	}
}

// waitReady polls /readyz until it answers want (readings are reused for a couple of seconds).
func waitReady(t *testing.T, c *http.Client, base string, want int) gateway.Readiness {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		a := mustSend(t, c, "GET", base+"/readyz", "", nil)
		var rd gateway.Readiness
		if err := json.Unmarshal(a.body, &rd); err != nil {
			t.Fatalf("/readyz: %v: %s", err, a.body)
		}
		if a.status == want {
			return rd
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %+v, want %d", a.status, rd, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func TestRevokedTokenStopsWithinTheCacheTTL(t *testing.T) {
	const ttl = 300 * time.Millisecond
	s, _ := serveThroughSwitch(t, ttl)
	p := people(t, s.env, "revoke", 1)[0]
	c := &http.Client{Timeout: 30 * time.Second}
	if a := mustSend(t, c, "GET", s.url+"/v1/me", p.Token, nil); a.status != http.StatusOK {
		t.Fatalf("/v1/me = %d %s", a.status, a.msg)
	}
	if err := s.env.App.Roster.RevokeToken(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl + 50*time.Millisecond)
	if a := mustSend(t, c, "GET", s.url+"/v1/me", p.Token, nil); a.status != http.StatusUnauthorized {
		t.Fatalf("a TTL after revocation: /v1/me = %d %s, want 401", a.status, a.msg)
	}
	// Refused once, the token is not served from the cache again either.
	if a := mustSend(t, c, "GET", s.url+"/v1/me", p.Token, nil); a.status != http.StatusUnauthorized {
		t.Fatalf("again: /v1/me = %d %s, want 401", a.status, a.msg)
	}
}
