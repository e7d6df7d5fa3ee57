package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/metrics"
)

// fakePart is a dependency whose answer the test sets, counting how often it is asked.
type fakePart struct {
	answer atomic.Value
	asked  atomic.Int32
}

func newFakePart(answer string) *fakePart {
	p := &fakePart{}
	p.answer.Store(answer)
	return p
}

func (p *fakePart) check(context.Context) string {
	p.asked.Add(1)
	return p.answer.Load().(string)
}

func readyz(t *testing.T, url string) (int, Readiness) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rd Readiness
	if err := json.NewDecoder(resp.Body).Decode(&rd); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK && resp.Header.Get("Retry-After") == "" {
		t.Errorf("an unready answer (%d) without Retry-After", resp.StatusCode)
	}
	return resp.StatusCode, rd
}

// A worker is ready once its pollers run and while the store and Temporal answer; liveness does
// not follow them.
func TestWorkerReadinessFollowsItsPollersAndItsDependencies(t *testing.T) {
	st, tp := newFakePart("ok"), newFakePart("ok")
	h := newWorkerHealth([]Dependency{{Name: "store", Check: st.check}, {Name: "temporal", Check: tp.check}}, metrics.New())
	srv := httptest.NewServer(h.srv.Handler)
	defer srv.Close()
	fresh := func() { h.probe = Probe{} } // drops the reading the probe reuses for a couple of seconds

	if code, rd := readyz(t, srv.URL); code != http.StatusServiceUnavailable || rd.Checks["pollers"] != "starting" {
		t.Errorf("before the pollers start: %d %+v", code, rd)
	}
	h.running()
	fresh()
	if code, rd := readyz(t, srv.URL); code != http.StatusOK || !rd.Ready() || len(rd.Checks) != 3 {
		t.Errorf("running: %d %+v", code, rd)
	}
	st.answer.Store("not answering: connection refused")
	fresh()
	code, rd := readyz(t, srv.URL)
	if code != http.StatusServiceUnavailable || rd.Checks["store"] != "not answering: connection refused" || rd.Checks["temporal"] != "ok" {
		t.Errorf("store down: %d %+v", code, rd)
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("liveness with the store down = %d, want 200", resp.StatusCode)
	}
	st.answer.Store("ok")
	h.stopping()
	fresh()
	if code, rd := readyz(t, srv.URL); code != http.StatusServiceUnavailable || rd.Checks["pollers"] != "stopping" {
		t.Errorf("stopping: %d %+v", code, rd)
	}
	if resp, err := http.Get(srv.URL + "/metrics"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// Probes within a reading's life cost the parts nothing; a part that hangs is not ready, within
// the check's bound, and does not hold up the others.
func TestProbeReusesAReadingAndBoundsAHangingPart(t *testing.T) {
	fast := newFakePart("ok")
	var p Probe
	for range 5 {
		if rd := p.Read(context.Background(), Dependency{Name: "fast", Check: fast.check}); !rd.Ready() {
			t.Fatalf("reading = %+v", rd)
		}
	}
	if n := fast.asked.Load(); n != 1 {
		t.Errorf("5 probes asked the part %d times, want 1", n)
	}

	hang := Dependency{Name: "hang", Check: func(ctx context.Context) string {
		<-ctx.Done()
		return "not answering: " + ctx.Err().Error()
	}}
	start := time.Now()
	rd := (&Probe{}).Read(context.Background(), hang, Dependency{Name: "fast", Check: fast.check})
	if took := time.Since(start); took > readyCheckTime+5*time.Second {
		t.Errorf("a hanging part held the probe %s", took)
	}
	if rd.Ready() || rd.Checks["fast"] != "ok" || rd.Checks["hang"] == "ok" {
		t.Errorf("reading with a hanging part = %+v", rd)
	}
}

func TestNoHealthServerWithoutAnAddress(t *testing.T) {
	a := &App{}
	h, err := a.startHealth("", metrics.New())
	if err != nil || h != nil {
		t.Fatalf("startHealth(\"\") = %v, %v", h, err)
	}
	h.running()
	h.stopping()
	h.stop()
}
