// Package webhook sends signed notifications of delivery progress to a client's endpoint.
//
// Each notification is a JSON POST signed as Standard Webhooks (standardwebhooks.com) specifies,
// so that clients can check it with that scheme's libraries or a few lines of their own:
//
//   - webhook-id: "msg_" and 32 hex digits (MessageID), the same for every attempt and re-send of
//     one event (the body's delivery_id says which event in words), so receivers drop duplicates;
//   - webhook-timestamp: when the attempt was made, in Unix seconds, new for every attempt;
//   - webhook-signature: "v1," and the base64 HMAC-SHA256, under the project's webhook secret, of
//     the id, the timestamp and the raw body joined by '.' (Sign).
//
// A receiver refuses a timestamp more than five minutes from its clock (Receiver.Verify), so a
// captured call cannot be replayed later. A secret written "whsec_<base64>" is used as the scheme
// serializes secrets (the decoded bytes are the key); any other secret's bytes are the key.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labelflow/labelflow/internal/egress"
)

// Event types.
const (
	EventChunkDelivered   = "chunk.delivered"
	EventProjectCompleted = "project.completed"
)

// HeaderEvent names the event type beside the Standard Webhooks headers, so a receiver can route
// a call before reading its body.
const HeaderEvent = "X-LabelFlow-Event"

// Event is one notification.
type Event struct {
	Type        string    `json:"type"` // EventChunkDelivered | EventProjectCompleted
	Project     string    `json:"project"`
	Chunk       *int      `json:"chunk,omitempty"` // set for chunk events
	Items       int       `json:"items"`
	ManifestKey string    `json:"manifest_key,omitempty"`
	At          time.Time `json:"at"`
	DeliveryID  string    `json:"delivery_id"` // deterministic; DeliveryID(...) when left empty
}

// DeliveryID is the deterministic id of an event: "<project>/<chunk>/<type>" for chunk events
// (chunk zero-padded to 6 digits, as in storage keys) and "<project>/<type>" otherwise.
func DeliveryID(project string, chunk *int, typ string) string {
	if chunk != nil {
		return fmt.Sprintf("%s/%06d/%s", project, *chunk, typ)
	}
	return project + "/" + typ
}

// Outcome tells how a Send went.
type Outcome struct {
	Attempts int    // requests made
	Status   int    // the last HTTP status received, 0 when none was
	Err      string // the last failure, "" on success
}

// Defaults for a zero Sender.
const (
	DefaultMaxAttempts = 5
	DefaultTimeout     = 10 * time.Second
	baseBackoff        = 500 * time.Millisecond
	maxBackoff         = 30 * time.Second
	// maxRetryAfter bounds how long a Retry-After header can make a Send wait.
	maxRetryAfter = 5 * time.Minute
	// maxResponseDrain bounds how much of a response body is read before closing it.
	maxResponseDrain = 64 << 10
)

// Sender posts events. The zero value is usable: it uses a client with a 10 s timeout, makes 5
// attempts and backs off exponentially from 0.5 s (capped at 30 s) with full jitter.
type Sender struct {
	// Now stamps each attempt (webhook-timestamp); nil means time.Now.
	Now func() time.Time
	// Client makes the calls; to a client's endpoint, it is an egress.Guard's HTTPClient, which
	// refuses private addresses and redirects to another host.
	Client      *http.Client
	MaxAttempts int
	// Backoff is the wait before attempt+1, after attempt (1-based) failed. A Retry-After header
	// on a 429 or 5xx response takes precedence.
	Backoff func(attempt int) time.Duration
}

// DefaultBackoff is exponential backoff with full jitter: a random wait in
// [0, min(30 s, 0.5 s × 2^(attempt-1))].
func DefaultBackoff(attempt int) time.Duration {
	d := maxBackoff
	if attempt < 16 {
		d = min(maxBackoff, baseBackoff<<(attempt-1))
	}
	return rand.N(d + 1)
}

// Send posts e as JSON to url with the Standard Webhooks headers, signed with secret (see the
// package comment), and X-LabelFlow-Event; each attempt is stamped and signed anew. Network
// errors, 5xx and 429 responses are retried up to MaxAttempts requests in all; other responses
// outside 2xx are not. The error is nil exactly when a 2xx response was received. Cancelling ctx
// stops retrying at once.
func (s *Sender) Send(ctx context.Context, url string, secret []byte, e Event) (Outcome, error) {
	if e.DeliveryID == "" {
		e.DeliveryID = DeliveryID(e.Project, e.Chunk, e.Type)
	}
	body, err := json.Marshal(e)
	if err != nil {
		return Outcome{Err: err.Error()}, err
	}
	key, err := Key(secret)
	if err != nil {
		return Outcome{Err: err.Error()}, err
	}
	msg := message{id: MessageID(e.DeliveryID), event: e.Type, body: body, key: key}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	attempts := s.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	backoff := s.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}

	var out Outcome
	for {
		out.Attempts++
		status, retryAfter, retry, err := post(ctx, client, url, msg, s.now())
		if status != 0 {
			out.Status = status
		}
		if err == nil {
			out.Err = ""
			return out, nil
		}
		out.Err = err.Error()
		if !retry || out.Attempts >= attempts {
			return out, fmt.Errorf("webhook %s: %w (after %d attempts)", e.DeliveryID, err, out.Attempts)
		}
		wait := backoff(out.Attempts)
		if retryAfter >= 0 {
			wait = retryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			out.Err = ctx.Err().Error()
			return out, fmt.Errorf("webhook %s: %w (after %d attempts)", e.DeliveryID, ctx.Err(), out.Attempts)
		case <-t.C:
		}
	}
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// message is what every attempt of one Send posts, and the key it is signed with.
type message struct {
	id, event string
	body, key []byte
}

// post makes one attempt, stamped at. retryAfter is -1 when the response gave no usable
// Retry-After.
func post(ctx context.Context, client *http.Client, url string, m message, at time.Time) (status int, retryAfter time.Duration, retry bool, err error) {
	retryAfter = -1
	if err := ctx.Err(); err != nil {
		return 0, retryAfter, false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(m.body))
	if err != nil {
		return 0, retryAfter, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "LabelFlow-Webhook/1")
	req.Header.Set(HeaderID, m.id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(m.key, m.id, at, m.body))
	req.Header.Set(HeaderEvent, m.event)
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, retryAfter, false, ctx.Err()
		}
		// An endpoint the egress guard refuses stays refused: no retry.
		return 0, retryAfter, !errors.Is(err, egress.ErrRefused), err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseDrain))
	_ = resp.Body.Close()
	status = resp.StatusCode
	switch {
	case status >= 200 && status < 300:
		return status, retryAfter, false, nil
	case status == http.StatusTooManyRequests || status >= 500:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			retryAfter = d
		}
		return status, retryAfter, true, fmt.Errorf("endpoint answered %s", resp.Status)
	default:
		return status, retryAfter, false, fmt.Errorf("endpoint answered %s", resp.Status)
	}
}

// parseRetryAfter reads a Retry-After value: delay seconds, or an HTTP date. The wait is capped.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		if time.Duration(n) > maxRetryAfter/time.Second {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := max(t.Sub(now), 0)
		return min(d, maxRetryAfter), true
	}
	return 0, false
}
