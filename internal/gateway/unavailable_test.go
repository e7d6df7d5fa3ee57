package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"go.temporal.io/api/serviceerror"
)

func TestOutageNamesTheDownPartAndNothingElse(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("s3://b/k: %w", minio.ErrorResponse{StatusCode: 503, Code: "SlowDown"}), partStore},
		{fmt.Errorf("s3://b/k: %w", minio.ErrorResponse{StatusCode: 500, Code: "InternalError"}), partStore},
		{fmt.Errorf("s3://b/k: %w", refused), partStore},
		{fmt.Errorf("%w: %w", errStoreSlow, context.DeadlineExceeded), partStore},
		{serviceerror.NewUnavailable("connection refused"), partTemporal},
		{serviceerror.NewDeadlineExceeded("deadline"), partTemporal},
		{serviceerror.NewFailedPrecondition("no poller seen for task queue recently, worker may be down"), partWorker},
		{fmt.Errorf("s3://b/k: %w", minio.ErrorResponse{StatusCode: 403, Code: "AccessDenied"}), ""},
		{serviceerror.NewFailedPrecondition("something else"), ""},
		{serviceerror.NewInvalidArgument("bad"), ""},
		{errors.New("decode s3://b/k: unexpected end of JSON input"), ""},
	}
	for _, c := range cases {
		if got := outage(c.err); got != c.want {
			t.Errorf("outage(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestUnavailableAnswerAsksToComeBack(t *testing.T) {
	w := httptest.NewRecorder()
	(&Gateway{}).fail(w, serviceerror.NewUnavailable("connection refused"))
	if w.Code != 503 || w.Header().Get("Retry-After") != "5" {
		t.Fatalf("fail(Unavailable) = %d, Retry-After %q; want 503 with Retry-After 5", w.Code, w.Header().Get("Retry-After"))
	}
	if body := w.Body.String(); !strings.Contains(body, `"code":"unavailable"`) || !strings.Contains(body, "Temporal") {
		t.Errorf("body = %s, want code unavailable naming Temporal", body)
	}
}
