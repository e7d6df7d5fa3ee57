package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var secret = []byte("s3cr3t")

func chunk(n int) *int { return &n }

func event() Event {
	return Event{
		Type: EventChunkDelivered, Project: "proj-1", Chunk: chunk(3), Items: 250,
		ManifestKey: "results/proj-1/000003.jsonl", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func fast(int) time.Duration { return time.Millisecond }

// receiver records requests and answers with statuses in turn (the last one repeated).
type receiver struct {
	mu       sync.Mutex
	statuses []int
	headers  []http.Header
	bodies   [][]byte
	onReq    func(n int, w http.ResponseWriter)
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.headers = append(rc.headers, r.Header.Clone())
	rc.bodies = append(rc.bodies, b)
	n := len(rc.bodies)
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status = rc.statuses[min(n, len(rc.statuses))-1]
	}
	on := rc.onReq
	rc.mu.Unlock()
	if on != nil {
		on(n, w)
	}
	w.WriteHeader(status)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.bodies)
}

func TestSignVerify(t *testing.T) {
	body := []byte(`{"type":"chunk.delivered"}`)
	sig := Sign(secret, body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Fatalf("signature %q", sig)
	}
	// Known value: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	if got := Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog")); got != "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Errorf("known vector: %s", got)
	}
	if !Verify(secret, body, sig) {
		t.Error("own signature rejected")
	}
	for _, bad := range []string{"", "sha256=", strings.ToUpper(sig), sig[:len(sig)-1] + "0", "sha1=" + sig[7:]} {
		if bad != sig && Verify(secret, body, bad) {
			t.Errorf("accepted %q", bad)
		}
	}
	if Verify([]byte("other"), body, sig) {
		t.Error("accepted under another secret")
	}
	if Verify(secret, []byte(`{"type":"chunk.delivered" }`), sig) {
		t.Error("tampered body accepted")
	}
}

func TestSendSignsAndDescribes(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := &Sender{Client: srv.Client(), Backoff: fast}
	out, err := s.Send(context.Background(), srv.URL, secret, event())
	if err != nil {
		t.Fatal(err)
	}
	if out != (Outcome{Attempts: 1, Status: 200}) {
		t.Errorf("outcome %+v", out)
	}
	h, body := rc.headers[0], rc.bodies[0]
	if !Verify(secret, body, h.Get(HeaderSignature)) {
		t.Error("signature does not verify against the received body")
	}
	tampered := strings.Replace(string(body), `"items":250`, `"items":251`, 1)
	if tampered == string(body) || Verify(secret, []byte(tampered), h.Get(HeaderSignature)) {
		t.Error("tampered body verifies")
	}
	if got := h.Get(HeaderEvent); got != EventChunkDelivered {
		t.Errorf("event header %q", got)
	}
	if got := h.Get(HeaderDelivery); got != "proj-1/000003/chunk.delivered" {
		t.Errorf("delivery header %q", got)
	}
	if got := h.Get("Content-Type"); got != "application/json" {
		t.Errorf("content type %q", got)
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	if e.Type != EventChunkDelivered || e.Project != "proj-1" || e.Chunk == nil || *e.Chunk != 3 || e.Items != 250 ||
		e.ManifestKey != "results/proj-1/000003.jsonl" || !e.At.Equal(event().At) || e.DeliveryID != "proj-1/000003/chunk.delivered" {
		t.Errorf("body %s", body)
	}

	done := Event{Type: EventProjectCompleted, Project: "proj-1", Items: 1000}
	if _, err := s.Send(context.Background(), srv.URL, secret, done); err != nil {
		t.Fatal(err)
	}
	if got := rc.headers[1].Get(HeaderDelivery); got != "proj-1/project.completed" {
		t.Errorf("delivery header %q", got)
	}
	if strings.Contains(string(rc.bodies[1]), `"chunk"`) {
		t.Errorf("project event carries a chunk: %s", rc.bodies[1])
	}
}

func TestRetryUntilSuccess(t *testing.T) {
	rc := &receiver{statuses: []int{503, 503, 204}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	var waits []int
	s := &Sender{Client: srv.Client(), MaxAttempts: 5, Backoff: func(a int) time.Duration { waits = append(waits, a); return time.Millisecond }}
	out, err := s.Send(context.Background(), srv.URL, secret, event())
	if err != nil {
		t.Fatal(err)
	}
	if out != (Outcome{Attempts: 3, Status: 204}) {
		t.Errorf("outcome %+v", out)
	}
	if len(waits) != 2 || waits[0] != 1 || waits[1] != 2 {
		t.Errorf("backoff called with %v", waits)
	}
	ids := map[string]bool{}
	for i, h := range rc.headers {
		ids[h.Get(HeaderDelivery)] = true
		if !Verify(secret, rc.bodies[i], h.Get(HeaderSignature)) {
			t.Errorf("attempt %d: bad signature", i+1)
		}
	}
	if len(ids) != 1 {
		t.Errorf("delivery ids differ between attempts: %v", ids)
	}
}

func TestNoRetryOn4xx(t *testing.T) {
	for _, status := range []int{400, 401, 404, 410} {
		rc := &receiver{statuses: []int{status}}
		srv := httptest.NewServer(rc)
		s := &Sender{Client: srv.Client(), MaxAttempts: 5, Backoff: fast}
		out, err := s.Send(context.Background(), srv.URL, secret, event())
		srv.Close()
		if err == nil {
			t.Errorf("%d: no error", status)
		}
		if out.Attempts != 1 || out.Status != status || out.Err == "" || rc.count() != 1 {
			t.Errorf("%d: outcome %+v after %d requests", status, out, rc.count())
		}
	}
}

func TestGivesUp(t *testing.T) {
	rc := &receiver{statuses: []int{503, 502, 500}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := &Sender{Client: srv.Client(), MaxAttempts: 3, Backoff: fast}
	out, err := s.Send(context.Background(), srv.URL, secret, event())
	if err == nil {
		t.Fatal("no error")
	}
	if out.Attempts != 3 || out.Status != 500 || !strings.Contains(out.Err, "500") || rc.count() != 3 {
		t.Errorf("outcome %+v after %d requests", out, rc.count())
	}
}

func TestRetryOn429HonoursRetryAfter(t *testing.T) {
	rc := &receiver{statuses: []int{429, 200}}
	rc.onReq = func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
		}
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := &Sender{Client: srv.Client(), MaxAttempts: 3, Backoff: fast}
	start := time.Now()
	out, err := s.Send(context.Background(), srv.URL, secret, event())
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 900*time.Millisecond {
		t.Errorf("retried after %v, Retry-After said 1s", elapsed)
	}
	if out != (Outcome{Attempts: 2, Status: 200}) {
		t.Errorf("outcome %+v", out)
	}
}

func TestRetryOnNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	s := &Sender{MaxAttempts: 3, Backoff: fast}
	out, err := s.Send(context.Background(), url, secret, event())
	if err == nil || out.Attempts != 3 || out.Status != 0 || out.Err == "" {
		t.Errorf("outcome %+v, err %v", out, err)
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	rc := &receiver{statuses: []int{503}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sender{Client: srv.Client(), MaxAttempts: 100, Backoff: func(int) time.Duration { return time.Hour }}
	done := make(chan struct{})
	var out Outcome
	var err error
	go func() {
		out, err = s.Send(ctx, srv.URL, secret, event())
		close(done)
	}()
	time.AfterFunc(50*time.Millisecond, cancel)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Send did not stop on cancellation")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if out.Attempts != 1 || rc.count() != 1 || out.Status != 503 {
		t.Errorf("outcome %+v after %d requests", out, rc.count())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v  string
		d  time.Duration
		ok bool
	}{
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{"999999999", maxRetryAfter, true},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second, true},
		{now.Add(-10 * time.Second).Format(http.TimeFormat), 0, true},
	} {
		d, ok := parseRetryAfter(tc.v, now)
		if d != tc.d || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.v, d, ok, tc.d, tc.ok)
		}
	}
}

func TestDefaultBackoff(t *testing.T) {
	for a := 1; a <= 40; a++ {
		for range 20 {
			d := DefaultBackoff(a)
			limit := min(maxBackoff, baseBackoff<<min(a-1, 15))
			if d < 0 || d > limit {
				t.Fatalf("attempt %d: %v outside [0, %v]", a, d, limit)
			}
		}
	}
}
