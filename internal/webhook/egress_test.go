package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/egress"
)

// On a production stack, a webhook pointing at loopback (here, a real local server) is refused at
// the first connection, is not retried, and the server receives nothing.
func TestProductionWebhookToLoopbackIsRefused(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := &Sender{Client: egress.Guard{}.HTTPClient(5 * time.Second), MaxAttempts: 5, Backoff: fast}
	out, err := s.Send(context.Background(), srv.URL, secret, event())
	if !errors.Is(err, egress.ErrRefused) || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("send to loopback: %v", err)
	}
	if out.Attempts != 1 || rc.count() != 0 {
		t.Fatalf("%d attempts, %d requests received", out.Attempts, rc.count())
	}
}

// A webhook endpoint that answers with a redirect to a loopback service does not get the event
// delivered there, even where private addresses are allowed.
func TestWebhookRedirectToLoopbackIsRefused(t *testing.T) {
	inside := &receiver{}
	internal := httptest.NewServer(inside)
	defer internal.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(internal.URL, "127.0.0.1", "localhost", 1)+"/admin", http.StatusFound)
	}))
	defer hook.Close()
	for _, g := range []egress.Guard{{}, {AllowPrivate: true}} {
		s := &Sender{Client: g.HTTPClient(5 * time.Second), MaxAttempts: 5, Backoff: fast}
		out, err := s.Send(context.Background(), hook.URL, secret, event())
		if !errors.Is(err, egress.ErrRefused) || out.Attempts != 1 {
			t.Fatalf("allow private %v: %v after %d attempts", g.AllowPrivate, err, out.Attempts)
		}
	}
	if inside.count() != 0 {
		t.Fatalf("the loopback service received %d requests", inside.count())
	}
}
