package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/metrics"
)

// syncBuffer is a log sink the server writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines are the access lines logged so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", sc.Bytes())
		}
		if m["message"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

func TestRequestsAreCountedByRouteAndLoggedWithoutCredentials(t *testing.T) {
	env := stack(t)
	logs := &syncBuffer{}
	a := *env.App
	a.Log = zerolog.New(logs).Level(zerolog.DebugLevel)
	g, err := gateway.New(&a)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	p := people(t, env, "metrics-routes", 1)[0]
	c := &http.Client{Timeout: 30 * time.Second}

	mustSend(t, c, "GET", srv.URL+"/v1/me", p.Token, nil)
	mustSend(t, c, "GET", srv.URL+"/v1/me", p.Token, nil)
	const wrongToken = "lf_not-a-token-of-anyone-0123456789abcdef"
	if a := mustSend(t, c, "GET", srv.URL+"/v1/me", wrongToken, nil); a.status != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d", a.status)
	}
	mustSend(t, c, "GET", srv.URL+"/v1/projects/no-such-project-4711", p.Token, nil)
	mustSend(t, c, "GET", srv.URL+"/no/such/path/4711", "", nil)
	mustSend(t, c, "GET", srv.URL+"/healthz", "", nil)

	s, err := metrics.Scrape(context.Background(), c, srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		route, code string
		want        float64
	}{
		{"GET /v1/me", "200", 2},
		{"GET /v1/me", "401", 1},
		{"GET /healthz", "200", 1},
	} {
		labels := map[string]string{"route": w.route, "code": w.code}
		if got := s.Sum("labelflow_http_requests_total", labels); got != w.want {
			t.Errorf("requests %v = %v, want %v", labels, got, w.want)
		}
		if got := s.Sum("labelflow_http_request_duration_seconds", labels); got != w.want {
			t.Errorf("latency observations %v = %v, want %v", labels, got, w.want)
		}
	}
	if got := s.Sum("labelflow_http_requests_total", map[string]string{"route": "GET /v1/projects/{project}"}); got != 1 {
		t.Errorf("requests of GET /v1/projects/{project} = %v, want 1", got)
	}
	if got := s.Sum("labelflow_http_requests_total", map[string]string{"route": "/", "code": "404"}); got != 1 {
		t.Errorf("requests no route serves = %v, want 1 under the catch-all", got)
	}
	if !s.Has("go_goroutines") {
		t.Errorf("the gateway's /metrics lacks the process's metrics: %v", s.Names())
	}

	lines := logs.lines(t)
	if len(lines) < 6 {
		t.Fatalf("%d access lines for 6 requests: %v", len(lines), lines)
	}
	for _, l := range lines[:6] {
		for _, k := range []string{"method", "route", "status", "duration_ms", "bytes"} {
			if _, ok := l[k]; !ok {
				t.Errorf("access line lacks %s: %v", k, l)
			}
		}
	}
	if l := lines[0]; l["route"] != "GET /v1/me" || l["status"] != float64(200) || l["person"] != p.ID || l["bytes"].(float64) <= 0 {
		t.Errorf("first access line = %v, want GET /v1/me, 200, person %s, bytes sent", l, p.ID)
	}
	if l := lines[2]; l["status"] != float64(401) || l["person"] != nil {
		t.Errorf("access line of an unknown token = %v, want 401 and no person", l)
	}
	if l := lines[5]; l["route"] != "GET /healthz" || l["level"] != "debug" {
		t.Errorf("access line of a probe = %v, want GET /healthz at debug level", l)
	}
	logs.mu.Lock()
	all := logs.buf.String()
	logs.mu.Unlock()
	for _, secret := range []string{p.Token, wrongToken, "4711"} {
		if strings.Contains(all, secret) {
			t.Errorf("the access log holds %q, a credential or a raw path", secret)
		}
	}
}
