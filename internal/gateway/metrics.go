package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/internal/metrics"
)

// The gateway's metrics and access log: every request is counted and timed by route pattern and
// status, and logged on one line. Neither ever holds a token, a cookie or a raw path: the route
// is the pattern that served the request ("POST /v1/projects/{project}/claim"), and a person is
// named by their id once the request has been authenticated.

// quietRoutes are probes and scrapes: frequent, and of no interest one by one, so their access
// lines are at debug level.
var quietRoutes = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /metrics": true}

// requestNote is what a request's handlers learn that its access line reports.
type requestNote struct {
	person string
}

type noteKey struct{}

// notePerson records who sent the request, for its access line.
func notePerson(ctx context.Context, id string) {
	if n, ok := ctx.Value(noteKey{}).(*requestNote); ok {
		n.person = id
	}
}

// observed serves next, counting, timing and logging each request.
func (g *Gateway) observed(q *metrics.Requests, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		done := q.Started()
		note := &requestNote{}
		// The mux records the pattern it routes by on this request, which the line reads back.
		r = r.WithContext(context.WithValue(r.Context(), noteKey{}, note))
		rec := &responseRecorder{ResponseWriter: w}
		answered := false
		defer func() {
			took := time.Since(start)
			status := rec.statusCode()
			if !answered {
				status = http.StatusInternalServerError // the handler panicked; the server drops the connection
			}
			done(r.Pattern, status, took)
			g.accessLine(r, status, rec.bytes, took, note.person)
		}()
		next.ServeHTTP(rec, r)
		answered = true
	})
}

// accessLine logs one request: method, route, status, duration, bytes sent and who sent it.
func (g *Gateway) accessLine(r *http.Request, status int, bytes int64, took time.Duration, person string) {
	route := r.Pattern
	if route == "" {
		route = metrics.Unrouted
	}
	var e *zerolog.Event
	switch {
	case status >= 500:
		e = g.log.Warn()
	case quietRoutes[route]:
		e = g.log.Debug()
	default:
		e = g.log.Info()
	}
	if e == nil {
		return
	}
	e = e.Str("method", r.Method).Str("route", route).Int("status", status).
		Float64("duration_ms", float64(took.Microseconds())/1000).Int64("bytes", bytes)
	if person != "" {
		e = e.Str("person", person)
	}
	e.Msg("request")
}

// responseRecorder notes the status and the bytes of an answer.
type responseRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *responseRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer (flushes, deadlines).
func (w *responseRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusCode is the status sent; a handler that wrote nothing sent 200.
func (w *responseRecorder) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// metricsHandler registers the gateway's request metrics and returns them with the handler of
// /metrics, which serves them with the process's (the Temporal SDK's, the Go runtime's).
func metricsHandler() (*metrics.Requests, http.Handler) {
	reg := metrics.New()
	return metrics.NewRequests(reg), reg.Handler()
}
