package gateway

import (
	"net/http"

	"github.com/labelflow/labelflow/internal/app"
)

// Readiness (GET /readyz) says whether the gateway can serve work now: the object store and
// Temporal both answer. Load balancers send people elsewhere while it is 503; /healthz stays
// liveness only, so that an outage behind the gateway does not get it restarted.

// Readiness is the answer of /readyz: "ok" or what went wrong, per part.
type Readiness = app.Readiness

// readiness keeps the latest reading, so that frequent probes cost the store and Temporal at most
// one check each every couple of seconds.
type readiness = app.Probe

func (g *Gateway) readyz(w http.ResponseWriter, r *http.Request) {
	app.ServeReadiness(w, g.ready.Read(r.Context(), g.app.Dependencies()...), retryAfter)
}
