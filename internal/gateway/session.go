package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// People in a browser sign in once with their token and then hold a session cookie: HttpOnly, so
// that no script can read it, SameSite=Strict, so that no other site can send it, and Secure over
// TLS. The token itself is never kept by the browser. A session is a record in the platform store
// under a hash of its cookie, so that every gateway replica knows it and signing out ends it
// everywhere. It names the person and the hash of the token they signed in with: a token rotated
// or revoked ends the sessions opened with it. State-changing requests carry the session's CSRF
// token in a header, which a page of another origin cannot read nor set.

const (
	sessionCookie = "lf_session"
	csrfHeader    = "X-CSRF-Token"
	// sessionTTL is how long a session lasts from sign-in: a working day, so that a shared or lost
	// laptop does not stay signed in for good.
	sessionTTL = 12 * time.Hour
	// sessionCacheCap bounds how many sessions a gateway remembers.
	sessionCacheCap = 8192
)

// sessionRecord is what the store keeps of a session.
type sessionRecord struct {
	Person    string    `json:"person"`
	TokenHash string    `json:"token_hash"`
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Session is what a signed-in browser is told about its session.
type Session struct {
	Person    Me        `json:"person"`
	CSRF      string    `json:"csrf"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SignInBody is a sign-in from the browser.
type SignInBody struct {
	Token string `json:"token"`
}

type sessionCache struct {
	mu     sync.Mutex
	byHash *lru[string, cachedSession]
}

type cachedSession struct {
	rec     sessionRecord
	checked time.Time
}

func newSessionCache() *sessionCache {
	return &sessionCache{byHash: newLRU[string, cachedSession](sessionCacheCap)}
}

func (c *sessionCache) get(hash string) (cachedSession, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byHash.get(hash)
}

func (c *sessionCache) put(hash string, rec sessionRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byHash.put(hash, cachedSession{rec: rec, checked: time.Now()})
}

func (c *sessionCache) forget(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byHash.remove(hash)
}

func (g *Gateway) sessionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/session", g.signIn)
	mux.HandleFunc("GET /v1/session", g.auth(g.currentSession))
	mux.HandleFunc("DELETE /v1/session", g.auth(g.signOut))
}

// signIn checks a token and opens a session for its holder.
func (g *Gateway) signIn(w http.ResponseWriter, r *http.Request) {
	if !g.signInAllowed(w, r) {
		return
	}
	var body SignInBody
	if !decodeJSON(w, r, 4<<10, &body) {
		return
	}
	p, err := g.person(r.Context(), body.Token, false)
	if errors.Is(err, workforce.ErrUnknownToken) {
		g.failedSignIn(r)
		writeError(w, http.StatusUnauthorized, "unauthorized", "unknown token")
		return
	}
	if err != nil {
		g.fail(w, err)
		return
	}
	if !g.allowPerson(w, p.ID) {
		return
	}
	cookie, rec, err := newSession(p)
	if err != nil {
		g.fail(w, err)
		return
	}
	id, _ := sessionID(cookie)
	if err := g.saveSession(r.Context(), id, rec); err != nil {
		g.fail(w, err)
		return
	}
	g.sweepSessionsNow()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: cookie, Path: "/", Expires: rec.ExpiresAt,
		MaxAge: int(sessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: g.secure(r)})
	writeJSON(w, http.StatusOK, sessionOf(p, rec))
}

// newSession makes a session for p: a random cookie and its record.
func newSession(p workforce.Person) (cookie string, rec sessionRecord, err error) {
	cookie, err = randomToken()
	if err != nil {
		return "", rec, err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", rec, err
	}
	now := time.Now().UTC()
	rec = sessionRecord{Person: p.ID, TokenHash: p.TokenHash, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(sessionTTL)}
	// The cookie names the day its session expires, and so does the record's key: whole days of
	// expired sessions are then deleted by prefix (sweepSessions), without reading them.
	return rec.ExpiresAt.Format(sessionDay) + "." + cookie, rec, nil
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// sessionDay is the layout of the expiry day a cookie starts with.
const sessionDay = "2006-01-02"

// sessionID is where a cookie's session is kept: its expiry day and a hash of the cookie, so that
// the store never holds what signs a browser in. A cookie without a day names no session.
func sessionID(cookie string) (string, bool) {
	day, _, ok := strings.Cut(cookie, ".")
	if _, err := time.Parse(sessionDay, day); !ok || err != nil {
		return "", false
	}
	h := sha256.Sum256([]byte("labelflow-session:" + cookie))
	return layout.SessionID(day, hex.EncodeToString(h[:])), true
}

func (g *Gateway) saveSession(ctx context.Context, id string, rec sessionRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := g.app.Store.Put(ctx, layout.SessionKey(id), data); err != nil {
		return err
	}
	g.sessions.put(id, rec)
	return nil
}

func sessionOf(p workforce.Person, rec sessionRecord) Session {
	return Session{Person: meOf(p), CSRF: rec.CSRF, ExpiresAt: rec.ExpiresAt}
}

// currentSession tells a reloaded page who is signed in and the CSRF token to send.
func (g *Gateway) currentSession(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	rec, ok := sessionFrom(r.Context())
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthorized", "no session: sign in with your token")
		return
	}
	writeJSON(w, http.StatusOK, sessionOf(p, rec))
}

// signOut ends the session everywhere and clears the cookie.
func (g *Gateway) signOut(w http.ResponseWriter, r *http.Request, _ workforce.Person) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if id, ok := sessionID(c.Value); ok {
			if err := g.app.Store.Delete(r.Context(), layout.SessionKey(id)); err != nil && !errors.Is(err, store.ErrNotFound) {
				g.fail(w, err)
				return
			}
			g.sessions.forget(id)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: g.secure(r)})
	w.WriteHeader(http.StatusNoContent)
}

// secure reports whether the session cookie must be Secure: the request came over TLS, or people
// reach the gateway over https (LABELFLOW_GATEWAY_URL), as behind a proxy that ends TLS.
func (g *Gateway) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(g.app.Cfg.GatewayURL, "https://")
}

// errNoSession is a cookie that names no live session.
var errNoSession = errors.New("no session")

// sessionPerson resolves a session cookie to its person: the session must exist and be unexpired,
// and the person must still hold the token the session was opened with. Like tokens, sessions
// are remembered for the token cache's TTL, and while the store cannot be read a session checked
// within staleLimit keeps working when stale is allowed.
func (g *Gateway) sessionPerson(ctx context.Context, cookie string, stale bool) (workforce.Person, sessionRecord, error) {
	hash, ok := sessionID(cookie)
	if !ok {
		return workforce.Person{}, sessionRecord{}, errNoSession
	}
	rec, err := g.sessionRecord(ctx, hash, stale)
	if err != nil {
		return workforce.Person{}, rec, err
	}
	if time.Now().After(rec.ExpiresAt) {
		g.sessions.forget(hash)
		return workforce.Person{}, rec, errNoSession
	}
	p, err := g.personByID(ctx, rec, stale)
	if err != nil {
		return p, rec, err
	}
	if subtle.ConstantTimeCompare([]byte(p.TokenHash), []byte(rec.TokenHash)) != 1 || p.TokenHash == "" || p.Inactive {
		g.sessions.forget(hash)
		return workforce.Person{}, rec, errNoSession // the token was rotated or revoked since
	}
	return p, rec, nil
}

func (g *Gateway) sessionRecord(ctx context.Context, hash string, stale bool) (sessionRecord, error) {
	cached, ok := g.sessions.get(hash)
	if ok && time.Since(cached.checked) < g.tokens.ttl {
		return cached.rec, nil
	}
	lookup, cancel := context.WithTimeout(ctx, rosterLookupTime)
	defer cancel()
	data, err := g.app.Store.Get(lookup, layout.SessionKey(hash))
	switch {
	case errors.Is(err, store.ErrNotFound):
		g.sessions.forget(hash)
		return sessionRecord{}, errNoSession
	case err != nil && stale && ok && time.Since(cached.checked) < staleLimit && unavailable(err):
		return cached.rec, nil
	case err != nil:
		return sessionRecord{}, err
	}
	var rec sessionRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("session record: %w", err)
	}
	g.sessions.put(hash, rec)
	return rec, nil
}

// personByID reads a session's person, through the token cache under the session's token hash
// (the same entry a bearer token of that person uses).
func (g *Gateway) personByID(ctx context.Context, rec sessionRecord, stale bool) (workforce.Person, error) {
	cached, ok := g.tokens.get(rec.TokenHash)
	if ok && time.Since(cached.checked) < g.tokens.ttl {
		return cached.person, nil
	}
	lookup, cancel := context.WithTimeout(ctx, rosterLookupTime)
	defer cancel()
	p, err := g.app.Roster.Get(lookup, rec.Person)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return p, errNoSession
	case err != nil && stale && ok && time.Since(cached.checked) < staleLimit && unavailable(err):
		return cached.person, nil
	case err != nil:
		return p, err
	}
	if p.TokenHash == rec.TokenHash {
		g.tokens.put(rec.TokenHash, p)
	}
	return p, nil
}

// checkCSRF refuses a state-changing request made with a session cookie that does not carry the
// session's CSRF token.
func checkCSRF(r *http.Request, rec sessionRecord) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	got := r.Header.Get(csrfHeader)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(rec.CSRF)) == 1
}

type sessionKey struct{}

type credentialKey struct{}

// withCredential notes, for the handlers, the credential a request was authenticated with and
// the session when it was a cookie.
func withCredential(ctx context.Context, fingerprint string, rec *sessionRecord) context.Context {
	ctx = context.WithValue(ctx, credentialKey{}, fingerprint)
	if rec != nil {
		ctx = context.WithValue(ctx, sessionKey{}, *rec)
	}
	return ctx
}

func sessionFrom(ctx context.Context) (sessionRecord, bool) {
	rec, ok := ctx.Value(sessionKey{}).(sessionRecord)
	return rec, ok
}

func credentialFrom(ctx context.Context) string {
	s, _ := ctx.Value(credentialKey{}).(string)
	return s
}

// sessionFingerprint names a session in audit records without revealing its cookie.
func sessionFingerprint(cookie string) string {
	h := sha256.Sum256([]byte("labelflow-session:" + cookie))
	return "ses-" + hex.EncodeToString(h[:6])
}
