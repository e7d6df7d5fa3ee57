package gateway

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
)

// Readiness (GET /readyz) says whether the gateway can serve work now: the object store and
// Temporal both answer. Load balancers send people elsewhere while it is 503; /healthz stays
// liveness only, so that an outage behind the gateway does not get it restarted.

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

type readiness struct {
	mu   sync.Mutex
	last Readiness
	at   time.Time
}

func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	rd := g.readiness(r.Context())
	if rd.Status != "ready" {
		w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
		writeJSON(w, http.StatusServiceUnavailable, rd)
		return
	}
	writeJSON(w, http.StatusOK, rd)
}

// readiness returns the latest reading, checking again when it is older than readyCacheTime.
// Concurrent probes wait for the one check under way rather than starting their own.
func (g *Gateway) readiness(ctx context.Context) Readiness {
	g.ready.mu.Lock()
	defer g.ready.mu.Unlock()
	if !g.ready.at.IsZero() && time.Since(g.ready.at) < readyCacheTime {
		return g.ready.last
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyCheckTime)
	defer cancel()
	// Both at once, so that a part that hangs does not use up the other's time.
	temporal := make(chan string, 1)
	go func() { temporal <- g.checkTemporal(ctx) }()
	checks := map[string]string{"store": g.checkStore(ctx)}
	checks["temporal"] = <-temporal
	rd := Readiness{Status: "ready", Checks: checks}
	for _, v := range checks {
		if v != "ok" {
			rd.Status = "unavailable"
		}
	}
	g.ready.last, g.ready.at = rd, time.Now()
	return rd
}

func (g *Gateway) checkStore(ctx context.Context) string {
	ok, err := g.app.Store.Client.BucketExists(ctx, g.app.Store.Bucket)
	switch {
	case err != nil:
		return "not answering: " + err.Error()
	case !ok:
		return "the platform bucket " + g.app.Store.Bucket + " does not exist"
	}
	return "ok"
}

func (g *Gateway) checkTemporal(ctx context.Context) string {
	if _, err := g.app.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return "not answering: " + err.Error()
	}
	return "ok"
}
