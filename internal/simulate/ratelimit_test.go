package simulate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// Told to slow down, a simulated person waits as long as the gateway says and asks again, and
// does not count it as a failure.
func TestCallWaitsAsToldWhenRateLimited(t *testing.T) {
	var calls atomic.Int32
	var gap, last atomic.Int64 // nanoseconds
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		now := time.Now().UnixNano()
		if n > 1 {
			gap.Store(now - last.Load())
		}
		last.Store(now)
		if n <= 2 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(`{"suite": null, "project_open": false}`))
	}))
	defer srv.Close()
	s := &sim{o: Options{GatewayURL: srv.URL}, http: srv.Client()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	status, err := s.call(ctx, Person{Token: "t"}, http.MethodPost, "/v1/projects/p/claim", map[string]any{"x": 1}, nil)
	if err != nil || status != http.StatusOK || calls.Load() != 3 {
		t.Fatalf("call = %d, %v after %d requests; want 200 after 3", status, err, calls.Load())
	}
	if d := time.Duration(gap.Load()); d < 900*time.Millisecond {
		t.Errorf("asked again %s after a 429 with Retry-After: 1", d)
	}
}
