package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/internal/metrics"
)

// Liveness (/healthz) says the process answers; readiness (/readyz) says it can do its work now:
// the platform store and Temporal both answer, and for a worker, its pollers run. An orchestrator
// restarts a process that is not live and sends no work to one that is not ready, so an outage
// behind a process makes it unready, never restarted.

const (
	// readyCacheTime is how long one readiness reading is reused, so that frequent probes cost
	// the store and Temporal at most one check each per period.
	readyCacheTime = 2 * time.Second
	// readyCheckTime bounds each check; a part slower than this is not ready.
	readyCheckTime = 2 * time.Second
)

// Readiness is the answer of /readyz: "ok" or what went wrong, per part.
type Readiness struct {
	Status string            `json:"status"` // ready | unavailable
	Checks map[string]string `json:"checks"`
}

// Ready reports whether every part answered.
func (r Readiness) Ready() bool { return r.Status == "ready" }

// Dependency is one part a process needs in order to work, and how to ask it: Check returns "ok"
// or what is wrong.
type Dependency struct {
	Name  string
	Check func(context.Context) string
}

// Dependencies are what every process needs: the platform store and Temporal.
func (a *App) Dependencies() []Dependency {
	return []Dependency{{Name: "store", Check: a.storeAnswers}, {Name: "temporal", Check: a.temporalAnswers}}
}

func (a *App) storeAnswers(ctx context.Context) string {
	ok, err := a.Store.Client.BucketExists(ctx, a.Store.Bucket)
	switch {
	case err != nil:
		return "not answering: " + err.Error()
	case !ok:
		return "the platform bucket " + a.Store.Bucket + " does not exist"
	}
	return "ok"
}

func (a *App) temporalAnswers(ctx context.Context) string {
	if _, err := a.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return "not answering: " + err.Error()
	}
	return "ok"
}

// Probe reads readiness, reusing a reading for readyCacheTime. Its zero value is ready to use.
type Probe struct {
	mu   sync.Mutex
	last Readiness
	at   time.Time
}

// Read returns the latest reading of deps, checking again when it is older than readyCacheTime.
// Concurrent probes wait for the one check under way rather than starting their own, and every
// part is checked at once, so that one that hangs does not use up the others' time.
func (p *Probe) Read(ctx context.Context, deps ...Dependency) Readiness {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && time.Since(p.at) < readyCacheTime {
		return p.last
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyCheckTime)
	defer cancel()
	answers := make([]string, len(deps))
	var wg sync.WaitGroup
	for i, d := range deps {
		wg.Go(func() { answers[i] = d.Check(ctx) })
	}
	wg.Wait()
	rd := Readiness{Status: "ready", Checks: make(map[string]string, len(deps))}
	for i, d := range deps {
		rd.Checks[d.Name] = answers[i]
		if answers[i] != "ok" {
			rd.Status = "unavailable"
		}
	}
	p.last, p.at = rd, time.Now()
	return rd
}

// ServeReadiness answers a readiness probe: 200 when ready, else 503 with Retry-After.
func ServeReadiness(w http.ResponseWriter, rd Readiness, retryAfter time.Duration) {
	status := http.StatusOK
	if !rd.Ready() {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", fmt.Sprint(int(retryAfter/time.Second)))
	}
	writeHealthJSON(w, status, rd)
}

func writeHealthJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// workerHealth is a worker's health server (LABELFLOW_WORKER_HEALTH_LISTEN): /healthz, /readyz
// and /metrics. A nil *workerHealth (no address set) serves nothing.
type workerHealth struct {
	srv   *http.Server
	deps  []Dependency
	probe Probe
	// pollers is what the worker's own part of readiness says: starting, ok, stopping.
	pollers atomic.Value
}

// healthRetryAfter is the Retry-After of an unready worker: about the time a probe's reading
// lasts.
const healthRetryAfter = 5 * time.Second

// startHealth listens on addr and serves the worker's health and metrics until stop. An address
// that cannot be listened on fails the worker at start, where the mistake is seen.
func (a *App) startHealth(addr string, m *metrics.Registry) (*workerHealth, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("worker health (LABELFLOW_WORKER_HEALTH_LISTEN): %w", err)
	}
	h := newWorkerHealth(a.Dependencies(), m)
	go func() {
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.Log.Error().Err(err).Str("listen", addr).Msg("worker health server stopped")
		}
	}()
	a.Log.Info().Str("listen", ln.Addr().String()).Msg("worker health and metrics serving")
	return h, nil
}

// newWorkerHealth builds the health server of a worker that needs deps, its pollers starting.
func newWorkerHealth(deps []Dependency, m *metrics.Registry) *workerHealth {
	h := &workerHealth{}
	h.pollers.Store("starting")
	h.deps = append(deps, Dependency{Name: "pollers", Check: func(context.Context) string { return h.pollers.Load().(string) }})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeHealthJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ServeReadiness(w, h.probe.Read(r.Context(), h.deps...), healthRetryAfter)
	})
	mux.Handle("GET /metrics", m.Handler())
	h.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	return h
}

// running marks the worker's pollers as started.
func (h *workerHealth) running() {
	if h != nil {
		h.pollers.Store("ok")
	}
}

// stopping marks the worker as stopping, so that it is no longer ready while its pollers drain.
func (h *workerHealth) stopping() {
	if h != nil {
		h.pollers.Store("stopping")
	}
}

// stop closes the server, once the worker has stopped.
func (h *workerHealth) stop() {
	if h == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.srv.Shutdown(ctx)
}
