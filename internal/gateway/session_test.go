package gateway_test

// Browser sessions: a token opens a session held in an HttpOnly, SameSite=Strict cookie; the
// cookie then stands for the token on every route, state-changing requests need the session's
// CSRF token, and signing out, rotating the token or revoking it ends the session.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/gateway"
)

// browser is an HTTP client that keeps cookies, as a browser does.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// call sends a request with the cookie jar and, when csrf is set, the CSRF header.
func call(t *testing.T, c *http.Client, method, url, csrf string, body any) *http.Response {
	t.Helper()
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func signIn(t *testing.T, c *http.Client, base, token string) (gateway.Session, *http.Response) {
	t.Helper()
	resp := call(t, c, "POST", base+"/v1/session", "", gateway.SignInBody{Token: token})
	var s gateway.Session
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
	}
	return s, resp
}

func TestSessionCookieStandsForTheToken(t *testing.T) {
	s := serve(t, func(c *config.Config) { c.GatewayTokenCacheTTL = 200 * time.Millisecond })
	p := people(t, s.env, "session", 1)[0]
	c := browser(t)

	if _, resp := signIn(t, c, s.url, "lf_wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("sign-in with a wrong token = %d, want 401", resp.StatusCode)
	}
	sess, resp := signIn(t, c, s.url, p.Token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"lf_session=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, p.Token) {
		t.Error("the cookie carries the token itself")
	}
	if sess.Person.ID != p.ID || sess.CSRF == "" || time.Until(sess.ExpiresAt) < time.Hour {
		t.Fatalf("session = %+v", sess)
	}

	if resp := call(t, c, "GET", s.url+"/v1/me", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/me with the cookie = %d", resp.StatusCode)
	}
	var again gateway.Session
	resp = call(t, c, "GET", s.url+"/v1/session", "", nil)
	if err := json.NewDecoder(resp.Body).Decode(&again); err != nil || again.CSRF != sess.CSRF {
		t.Fatalf("GET /v1/session = %d %+v %v", resp.StatusCode, again, err)
	}

	// A state-changing request with the cookie but without the CSRF token is refused.
	release := s.url + "/v1/projects/session/suites/c000000-s00000/release"
	if resp := call(t, c, "POST", release, "", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without CSRF = %d, want 403", resp.StatusCode)
	}
	if resp := call(t, c, "POST", release, "forged", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST with a wrong CSRF = %d, want 403", resp.StatusCode)
	}
	if resp := call(t, c, "POST", release, sess.CSRF, nil); resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized {
		t.Fatalf("POST with the CSRF token = %d, want it to reach the route", resp.StatusCode)
	}

	if resp := call(t, c, "DELETE", s.url+"/v1/session", sess.CSRF, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign-out = %d", resp.StatusCode)
	}
	if resp := call(t, c, "GET", s.url+"/v1/me", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after sign-out /v1/me = %d, want 401", resp.StatusCode)
	}
}

func TestRotatedTokenEndsItsSessions(t *testing.T) {
	s := serve(t, func(c *config.Config) { c.GatewayTokenCacheTTL = 200 * time.Millisecond })
	p := people(t, s.env, "rotate", 1)[0]
	c := browser(t)
	if _, resp := signIn(t, c, s.url, p.Token); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	// The cookie, stolen, is sent from elsewhere: it still works, until the token changes.
	stolen := browser(t)
	u := mustURL(t, s.url)
	stolen.Jar.SetCookies(u, c.Jar.Cookies(u))
	if resp := call(t, stolen, "GET", s.url+"/v1/me", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("copied cookie = %d", resp.StatusCode)
	}
	if _, err := s.env.App.Roster.RotateToken(context.Background(), p.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if resp := call(t, c, "GET", s.url+"/v1/me", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a session of a rotated token = %d, want 401", resp.StatusCode)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSessionCookieIsSecureBehindTLS(t *testing.T) {
	s := serve(t, func(c *config.Config) { c.GatewayURL = "https://work.example.org" })
	p := people(t, s.env, "secure", 1)[0]
	_, resp := signIn(t, browser(t), s.url, p.Token)
	if c := resp.Header.Get("Set-Cookie"); !strings.Contains(c, "Secure") {
		t.Fatalf("a gateway reached over https set %q, without Secure", c)
	}
}

func TestExpiredSessionsAreSweptByDay(t *testing.T) {
	s := serve(t, func(c *config.Config) { c.GatewayTokenCacheTTL = 200 * time.Millisecond })
	p := people(t, s.env, "sweep", 1)[0]
	c := browser(t)
	sess, resp := signIn(t, c, s.url, p.Token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	u := mustURL(t, s.url)
	cookie := c.Jar.Cookies(u)[0].Value
	if day := sess.ExpiresAt.UTC().Format("2006-01-02"); !strings.HasPrefix(cookie, day+".") {
		t.Fatalf("cookie %q does not start with its expiry day %s", cookie, day)
	}
	// A cookie whose day was changed names no session: nothing is looked up under another day.
	forged := browser(t)
	forged.Jar.SetCookies(u, []*http.Cookie{{Name: "lf_session", Value: "2099-01-01" + cookie[len("2006-01-02"):]}})
	if resp := call(t, forged, "GET", s.url+"/v1/me", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a cookie with another day = %d, want 401", resp.StatusCode)
	}
	// Swept as of its expiry day, the session stays; as of the next day, it is gone.
	if n, err := s.g.SweepSessions(context.Background(), sess.ExpiresAt); err != nil {
		t.Fatal(err)
	} else if resp := call(t, c, "GET", s.url+"/v1/me", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after a sweep on its expiry day (%d deleted) = %d, want the session kept", n, resp.StatusCode)
	}
	n, err := s.g.SweepSessions(context.Background(), sess.ExpiresAt.AddDate(0, 0, 1))
	if err != nil || n < 1 {
		t.Fatalf("sweep the day after: %d deleted, %v", n, err)
	}
	time.Sleep(300 * time.Millisecond)
	if resp := call(t, c, "GET", s.url+"/v1/me", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a swept session = %d, want 401", resp.StatusCode)
	}
}
