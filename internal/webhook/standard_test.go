package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// deliver sends event() with a real Sender whose clock says at, and returns what the endpoint
// received.
func deliver(t *testing.T, key []byte, at time.Time) (http.Header, []byte) {
	t.Helper()
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s := &Sender{Client: srv.Client(), Backoff: fast, Now: func() time.Time { return at }}
	if _, err := s.Send(context.Background(), srv.URL, key, event()); err != nil {
		t.Fatal(err)
	}
	return rc.headers[0], rc.bodies[0]
}

// The scheme's own Go library, an implementation independent of this package, accepts a
// delivered webhook, and refuses it once it is older than its tolerance: a replay.
func TestDeliveredWebhookVerifiesWithTheSchemeLibrary(t *testing.T) {
	for name, secret := range map[string]string{
		"plain secret":  "it-hook-secret-0123456789",
		"whsec_ secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	} {
		var wh *standardwebhooks.Webhook
		var err error
		if strings.HasPrefix(secret, "whsec_") {
			wh, err = standardwebhooks.NewWebhook(secret)
		} else {
			wh, err = standardwebhooks.NewWebhookRaw([]byte(secret))
		}
		if err != nil {
			t.Fatal(err)
		}
		h, body := deliver(t, []byte(secret), time.Now())
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("%s: the scheme's library refuses a delivered webhook: %v", name, err)
		}
		if err := wh.Verify([]byte(strings.Replace(string(body), `"items":250`, `"items":25`, 1)), h); err == nil {
			t.Errorf("%s: the scheme's library accepts a tampered body", name)
		}

		// Captured six minutes ago and replayed now: the signature is genuine, the call is refused.
		old, oldBody := deliver(t, []byte(secret), time.Now().Add(-6*time.Minute))
		if err := wh.Verify(oldBody, old); !errors.Is(err, standardwebhooks.ErrMessageTooOld) {
			t.Errorf("%s: a replay six minutes late: %v", name, err)
		}
		if err := wh.VerifyIgnoringTimestamp(oldBody, old); err != nil {
			t.Errorf("%s: the replayed call's signature: %v", name, err)
		}
		if err := (Receiver{Secret: []byte(secret)}).Verify(old, oldBody); !errors.Is(err, ErrTimestamp) {
			t.Errorf("%s: Receiver accepts a replay: %v", name, err)
		}
	}
}

// readmeSnippet is the Python verification snippet of the README.
func readmeSnippet(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "```python\n")
	if !ok {
		t.Fatal("README.md has no Python webhook snippet")
	}
	code, _, ok := strings.Cut(rest, "```")
	if !ok || !strings.Contains(code, "def verify_labelflow_webhook(") {
		t.Fatalf("README.md's Python snippet is not the webhook verifier:\n%s", code)
	}
	return code
}

// The snippet the README gives clients verifies a delivered webhook, and refuses a replay and a
// tampered body.
func TestReadmeSnippetVerifiesWebhooks(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 to run the README's snippet")
	}
	const harness = `
import json, sys
case = json.load(sys.stdin)
headers = {k.lower(): v for k, v in case["headers"].items()}
try:
    verify_labelflow_webhook(case["secret"].encode(), headers, case["body"].encode())
    print("accepted")
except ValueError as e:
    print("refused:", e)
`
	script := readmeSnippet(t) + harness
	run := func(secret string, h http.Header, body []byte) string {
		flat := map[string]string{}
		for k := range h {
			flat[k] = h.Get(k)
		}
		in, _ := json.Marshal(map[string]any{"secret": secret, "headers": flat, "body": string(body)})
		cmd := exec.Command(python, "-c", script)
		cmd.Stdin = strings.NewReader(string(in))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("python: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, secret := range []string{"it-hook-secret-0123456789", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		h, body := deliver(t, []byte(secret), time.Now())
		if got := run(secret, h, body); got != "accepted" {
			t.Errorf("%s: a delivered webhook: %s", secret, got)
		}
		if got := run(secret, h, append(body[:len(body):len(body)], ' ')); !strings.HasPrefix(got, "refused: webhook signature") {
			t.Errorf("%s: a tampered body: %s", secret, got)
		}
		if got := run("another-secret-0123456789", h, body); !strings.HasPrefix(got, "refused: webhook signature") {
			t.Errorf("%s: another secret: %s", secret, got)
		}
		old, oldBody := deliver(t, []byte(secret), time.Now().Add(-6*time.Minute))
		if got := run(secret, old, oldBody); !strings.HasPrefix(got, "refused: webhook timestamp") {
			t.Errorf("%s: a replay six minutes late: %s", secret, got)
		}
	}
}
