package codec

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
)

// fakeRoster holds tokens: "tok-ops" is an ops person's, "tok-ann" an annotator's.
func fakeRoster(_ context.Context, token string) (workforce.Person, error) {
	switch token {
	case "tok-ops":
		return workforce.Person{ID: "ops-1", Role: role.Ops}, nil
	case "tok-ann":
		return workforce.Person{ID: "ann-1", Role: role.Annotator}, nil
	case "tok-down":
		return workforce.Person{}, errors.New("store unreachable")
	}
	return workforce.Person{}, workforce.ErrUnknownToken
}

const uiOrigin = "https://temporal.example.com"

func codecServer(t *testing.T, c *Codec) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Handler(ServerOptions{Codec: c, Namespace: "labelflow", Origins: []string{uiOrigin},
		Authorize: Either(RosterOps(fakeRoster), SharedSecret("a-proxy-secret-of-at-least-32-bytes"))}))
	t.Cleanup(srv.Close)
	return srv
}

// post sends payloads to path with the headers and returns the status and body.
func post(t *testing.T, url string, payloads []*commonpb.Payload, headers map[string]string) (int, string, http.Header) {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestCodecServerDecodesForOps(t *testing.T) {
	c := mustCodec(t, "k:"+newKey(t))
	srv := codecServer(t, c)
	p, _ := converter.GetDefaultDataConverter().ToPayload("answer from annotator-amina")
	sealed, _ := c.Encode([]*commonpb.Payload{p})

	for _, path := range []string{"/labelflow/decode", "/decode"} {
		code, body, h := post(t, srv.URL+path, sealed, map[string]string{"Authorization": "Bearer tok-ops"})
		if code != http.StatusOK {
			t.Fatalf("%s by ops: %d %s", path, code, body)
		}
		var out commonpb.Payloads
		if err := protojson.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		var s string
		if err := converter.GetDefaultDataConverter().FromPayload(out.Payloads[0], &s); err != nil || s != "answer from annotator-amina" {
			t.Errorf("%s decoded %q, %v", path, s, err)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: decoded client data may be cached: %q", path, h.Get("Cache-Control"))
		}
	}
	// The CLI encodes (for a signal typed in the UI, say) the same way.
	code, body, _ := post(t, srv.URL+"/encode", []*commonpb.Payload{p}, map[string]string{"Authorization": "Bearer a-proxy-secret-of-at-least-32-bytes", "X-Namespace": "labelflow"})
	if code != http.StatusOK || !strings.Contains(body, "encryption-key-id") {
		t.Errorf("encode with the shared secret: %d %s", code, body)
	}
}

func TestCodecServerRefusesOthers(t *testing.T) {
	c := mustCodec(t, "k:"+newKey(t))
	srv := codecServer(t, c)
	p, _ := converter.GetDefaultDataConverter().ToPayload("answer from annotator-amina")
	sealed, _ := c.Encode([]*commonpb.Payload{p})
	for _, tc := range []struct {
		name    string
		path    string
		headers map[string]string
		want    int
	}{
		{"no credential", "/decode", nil, http.StatusUnauthorized},
		{"not a bearer", "/decode", map[string]string{"Authorization": "Basic b3BzOm9wcw=="}, http.StatusUnauthorized},
		{"unknown token", "/decode", map[string]string{"Authorization": "Bearer tok-nobody"}, http.StatusUnauthorized},
		{"an annotator", "/decode", map[string]string{"Authorization": "Bearer tok-ann"}, http.StatusForbidden},
		{"roster unreachable", "/decode", map[string]string{"Authorization": "Bearer tok-down"}, http.StatusServiceUnavailable},
		{"another namespace", "/other/decode", map[string]string{"Authorization": "Bearer tok-ops"}, http.StatusNotFound},
		{"another namespace by header", "/decode", map[string]string{"Authorization": "Bearer tok-ops", "X-Namespace": "other"}, http.StatusNotFound},
		{"no such operation", "/labelflow/peek", map[string]string{"Authorization": "Bearer tok-ops"}, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := post(t, srv.URL+tc.path, sealed, tc.headers)
			if code != tc.want {
				t.Errorf("status %d, want %d: %s", code, tc.want, body)
			}
			if strings.Contains(body, "annotator-amina") {
				t.Errorf("a refused request got the data: %s", body)
			}
		})
	}
	resp, err := http.Get(srv.URL + "/decode")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

// The Temporal UI calls from the browser: its origin gets CORS headers (and its preflight an
// answer without credentials, which browsers never send on a preflight); other origins get none.
func TestCodecServerCORS(t *testing.T) {
	srv := codecServer(t, mustCodec(t, "k:"+newKey(t)))
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/labelflow/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ok := preflight(uiOrigin)
	if ok.StatusCode != http.StatusNoContent || ok.Header.Get("Access-Control-Allow-Origin") != uiOrigin ||
		ok.Header.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight from the UI: %d %v", ok.StatusCode, ok.Header)
	}
	other := preflight("https://evil.example")
	if other.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin was allowed: %v", other.Header)
	}
	if other.StatusCode == http.StatusNoContent {
		t.Errorf("another origin's preflight succeeded")
	}
}

func TestRememberedChecksOncePerTTL(t *testing.T) {
	calls := 0
	auth := Remembered(func(ctx context.Context, cred string) (string, error) {
		calls++
		if cred == "good" {
			return "ops-1", nil
		}
		return "", ErrUnauthenticated
	}, 50*time.Millisecond)
	for range 3 {
		if who, err := auth(context.Background(), "good"); err != nil || who != "ops-1" {
			t.Fatal(who, err)
		}
	}
	if calls != 1 {
		t.Errorf("checked %d times within the TTL, want 1", calls)
	}
	time.Sleep(60 * time.Millisecond)
	_, _ = auth(context.Background(), "good")
	if calls != 2 {
		t.Errorf("not checked again after the TTL: %d", calls)
	}
	for range 2 {
		if _, err := auth(context.Background(), "bad"); !errors.Is(err, ErrUnauthenticated) {
			t.Fatal(err)
		}
	}
	if calls != 4 {
		t.Errorf("refusals were remembered: %d checks", calls)
	}
}

// The health route answers probes without a credential and decodes nothing.
func TestCodecServerHealth(t *testing.T) {
	srv := codecServer(t, mustCodec(t, "k:"+newKey(t)))
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("GET /healthz = %d %q, want 200 ok", resp.StatusCode, body)
	}
	resp, err = http.Post(srv.URL+"/healthz", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("POST /healthz = %d, want 404 (not a codec endpoint)", resp.StatusCode)
	}
}
