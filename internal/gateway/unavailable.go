package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
)

// retryAfter is what the gateway asks a client to wait when something it depends on is down:
// long enough not to hammer a recovering service, short enough that work resumes soon after.
const retryAfter = 5 * time.Second

// Parts of the stack an outage can be in, as named to clients.
const (
	partStore    = "the object store"
	partTemporal = "Temporal"
	partWorker   = "the worker"
	partBackend  = "a service the gateway depends on"
)

// outage names the part of the stack err says is unreachable, or "" when err is no outage but a
// real failure (or a refusal). Network errors and 5xx answers of the store, Temporal's
// Unavailable and DeadlineExceeded, and a query no worker picked up are outages: the request was
// fine and will work once the part is back.
func outage(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, errStoreSlow) {
		return partStore
	}
	var s3 minio.ErrorResponse
	if errors.As(err, &s3) {
		if s3.StatusCode >= 500 {
			return partStore
		}
		return ""
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return partStore // Temporal's transport errors arrive as serviceerror.Unavailable
	}
	return temporalOutage(err)
}

func temporalOutage(err error) string {
	var unavail *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var precondition *serviceerror.FailedPrecondition
	switch {
	case errors.As(err, &unavail), errors.As(err, &deadline):
		return partTemporal
	case errors.As(err, &precondition) && strings.Contains(precondition.Message, "no poller"):
		return partWorker // a query that no worker picked up
	case errors.Is(err, context.DeadlineExceeded):
		return partBackend
	}
	return ""
}

// unavailable reports whether err is an outage rather than a failure of the request itself.
func unavailable(err error) bool { return outage(err) != "" }

// writeUnavailable answers 503 with Retry-After: the request may be sent again as it is.
func writeUnavailable(w http.ResponseWriter, part string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter/time.Second)))
	writeError(w, http.StatusServiceUnavailable, "unavailable", part+" is not answering; try again in a few seconds")
}

// recentPoll is how recently a worker must have polled to count as up. A live worker polls again
// at least every minute (the long poll's length), so a longer silence means it is gone.
const recentPoll = 90 * time.Second

// workerDown reports whether no worker polls the workflow task queue, so that Updates cannot
// complete. It answers false when it cannot tell, leaving the decision to the Update's own
// timeout.
func (g *Gateway) workerDown(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := g.app.Temporal.DescribeTaskQueue(ctx, g.app.Cfg.WorkflowTaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return false
	}
	for _, p := range resp.GetPollers() {
		if time.Since(p.GetLastAccessTime().AsTime()) < recentPoll {
			return false
		}
	}
	return true
}
