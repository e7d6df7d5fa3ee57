package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// The test vector of the Standard Webhooks libraries' own tests.
func TestSignMatchesTheSchemeVector(t *testing.T) {
	key, err := Key([]byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
	if err != nil {
		t.Fatal(err)
	}
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if got != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Errorf("signature %s", got)
	}
	if raw, _ := Key(secret); string(raw) != string(secret) {
		t.Errorf("a plain secret is its own key, got %q", raw)
	}
	for _, bad := range []string{"", "whsec_", "whsec_not base64!"} {
		if _, err := Key([]byte(bad)); err == nil {
			t.Errorf("Key(%q) accepted", bad)
		}
	}
}

func TestMessageID(t *testing.T) {
	id := MessageID("proj.v2/000003/chunk.delivered")
	if !strings.HasPrefix(id, "msg_") || len(id) != 36 || strings.Contains(id, ".") || id != MessageID("proj.v2/000003/chunk.delivered") {
		t.Errorf("message id %q", id)
	}
	if id == MessageID("proj.v2/000004/chunk.delivered") {
		t.Error("two events share a message id")
	}
}

// signed is a webhook as it arrives: headers and body, signed at ts.
func signed(ts time.Time, body string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, "msg_1")
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Sign(secret, "msg_1", ts, []byte(body)))
	return h
}

func TestReceiverVerify(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rx := Receiver{Secret: secret, Now: func() time.Time { return now }}
	body := `{"type":"chunk.delivered"}`
	if err := rx.Verify(signed(now.Add(-4*time.Minute), body), []byte(body)); err != nil {
		t.Errorf("a webhook of four minutes ago: %v", err)
	}
	rotated := signed(now, body)
	rotated.Set(HeaderSignature, "v1,b2xkIGtleQ== "+rotated.Get(HeaderSignature))
	if err := rx.Verify(rotated, []byte(body)); err != nil {
		t.Errorf("a signature list with the current key second: %v", err)
	}
	for name, tc := range map[string]struct {
		h    func() http.Header
		body string
		want error
	}{
		"replayed":        {func() http.Header { return signed(now.Add(-6*time.Minute), body) }, body, ErrTimestamp},
		"from the future": {func() http.Header { return signed(now.Add(6*time.Minute), body) }, body, ErrTimestamp},
		"tampered body":   {func() http.Header { return signed(now, body) }, `{"type":"chunk.delivered" }`, ErrSignature},
		"no id":           {func() http.Header { h := signed(now, body); h.Del(HeaderID); return h }, body, ErrMissingHeaders},
		"no signature":    {func() http.Header { h := signed(now, body); h.Del(HeaderSignature); return h }, body, ErrMissingHeaders},
		"other id":        {func() http.Header { h := signed(now, body); h.Set(HeaderID, "msg_2"); return h }, body, ErrSignature},
		"moved timestamp": {func() http.Header {
			h := signed(now, body)
			h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix()-1, 10))
			return h
		}, body, ErrSignature},
		"other version": {func() http.Header {
			h := signed(now, body)
			h.Set(HeaderSignature, "v2"+h.Get(HeaderSignature)[2:])
			return h
		}, body, ErrSignature},
		"another key": {func() http.Header {
			h := signed(now, body)
			h.Set(HeaderSignature, Sign([]byte("other"), "msg_1", now, []byte(body)))
			return h
		}, body, ErrSignature},
	} {
		if err := rx.Verify(tc.h(), []byte(tc.body)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	h := signed(now, body)
	h.Set(HeaderTimestamp, "2026-05-01T12:00:00Z")
	if err := rx.Verify(h, []byte(body)); err == nil {
		t.Error("a timestamp that is not Unix seconds was accepted")
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
	if err := (Receiver{Secret: secret}).Verify(h, body); err != nil {
		t.Errorf("the delivered webhook does not verify: %v", err)
	}
	tampered := strings.Replace(string(body), `"items":250`, `"items":251`, 1)
	if err := (Receiver{Secret: secret}).Verify(h, []byte(tampered)); tampered == string(body) || !errors.Is(err, ErrSignature) {
		t.Errorf("tampered body: %v", err)
	}
	if got := h.Get(HeaderEvent); got != EventChunkDelivered {
		t.Errorf("event header %q", got)
	}
	if got := h.Get(HeaderID); got != MessageID("proj-1/000003/chunk.delivered") {
		t.Errorf("webhook-id %q", got)
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
	if got := rc.headers[1].Get(HeaderID); got != MessageID("proj-1/project.completed") {
		t.Errorf("webhook-id %q", got)
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
	clock := time.Now()
	s := &Sender{Client: srv.Client(), MaxAttempts: 5, Backoff: func(a int) time.Duration { waits = append(waits, a); return time.Millisecond },
		Now: func() time.Time { clock = clock.Add(time.Second); return clock }}
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
	ids, stamps := map[string]bool{}, map[string]bool{}
	for i, h := range rc.headers {
		ids[h.Get(HeaderID)] = true
		stamps[h.Get(HeaderTimestamp)] = true
		if err := (Receiver{Secret: secret}).Verify(h, rc.bodies[i]); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
	if len(ids) != 1 {
		t.Errorf("webhook ids differ between attempts: %v", ids)
	}
	if len(stamps) != 3 {
		t.Errorf("attempts are not stamped anew: %v", stamps)
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
