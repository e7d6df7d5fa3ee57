package simulate

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// Through a short outage (503, a dropped connection, 502), a simulated person keeps coming back
// and stops only when the project says it is no longer open.
func TestPeopleKeepWorkingThroughAnOutage(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
		case 3:
			w.WriteHeader(http.StatusBadGateway)
		default:
			_, _ = w.Write([]byte(`{"suite": null, "project_open": false}`))
		}
	}))
	defer srv.Close()
	s := &sim{o: Options{GatewayURL: srv.URL, Project: "p", Idle: time.Millisecond}, http: srv.Client(), truth: map[int][]known{}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.work(ctx, Person{Token: "t"}, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatalf("work through an outage: %v", err)
	}
	if n := calls.Load(); n != 4 {
		t.Errorf("%d claims, want 4: three failed ones and the one that said the project is closed", n)
	}
}

// A gateway that stays down keeps the person waiting until their context ends, not for a fixed
// number of tries.
func TestPeopleWaitForAGatewayThatStaysDownUntilTheirContextEnds(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	s := &sim{o: Options{GatewayURL: srv.URL}, http: srv.Client()}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.call(ctx, Person{Token: "t"}, http.MethodPost, "/v1/projects/p/claim", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) < 1400*time.Millisecond {
		t.Fatalf("call = %v after %s, want the context's end after 1.5s", err, time.Since(start))
	}
	if calls.Load() < 3 {
		t.Errorf("%d tries in 1.5s, want it to keep trying", calls.Load())
	}
}

func TestBackoffGrowsToItsCapWithJitter(t *testing.T) {
	var b backoff
	prevMax := time.Duration(0)
	for i := 0; i < 20; i++ {
		d := b.next()
		if d > backoffMax || d < backoffFirst/2 {
			t.Fatalf("wait %d = %s, outside [%s, %s]", i, d, backoffFirst/2, backoffMax)
		}
		prevMax = max(prevMax, d)
	}
	if prevMax < backoffMax/2 {
		t.Errorf("longest wait %s, want it to reach at least half of %s", prevMax, backoffMax)
	}
}
