package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of the Standard Webhooks scheme.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a webhook's timestamp may be from the receiver's clock, either way,
// before it is refused as a replay: the five minutes of the scheme's own libraries.
const DefaultTolerance = 5 * time.Minute

// secretPrefix marks a secret written as the scheme serializes them: "whsec_" and base64.
const secretPrefix = "whsec_"

// signatureVersion names HMAC-SHA256 signatures in webhook-signature ("v1,<base64>").
const signatureVersion = "v1"

// Key is the HMAC key of a webhook secret: the bytes a secret written "whsec_<base64>" decodes
// to, as Standard Webhooks serializes secrets, and any other secret's bytes as they are.
func Key(secret []byte) ([]byte, error) {
	rest, ok := strings.CutPrefix(string(secret), secretPrefix)
	if !ok {
		if len(secret) == 0 {
			return nil, errors.New("the webhook secret is empty")
		}
		return secret, nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("a webhook secret that starts with %s must go on with base64", secretPrefix)
	}
	return key, nil
}

// MessageID is the webhook-id of the event whose delivery id is given: "msg_" and 32 hex digits
// of its SHA-256. It is the same for every attempt and re-send of the event, so receivers drop
// duplicates by it, and it never holds the '.' that separates the signed parts.
func MessageID(deliveryID string) string {
	sum := sha256.Sum256([]byte(deliveryID))
	return "msg_" + hex.EncodeToString(sum[:16])
}

// Sign is the webhook-signature of a message: "v1," and the base64 HMAC-SHA256, under key, of
// the message id, the timestamp in Unix seconds and the body, joined by '.'.
func Sign(key []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	mac.Write(body)
	return signatureVersion + "," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Errors Receiver.Verify reports.
var (
	ErrMissingHeaders = errors.New("webhook-id, webhook-timestamp and webhook-signature are required")
	ErrTimestamp      = errors.New("the webhook's timestamp is outside the tolerance: a replay, or a clock far off")
	ErrSignature      = errors.New("no signature in webhook-signature matches the body")
)

// Receiver checks delivered webhooks as a client's endpoint should.
type Receiver struct {
	Secret    []byte
	Tolerance time.Duration    // 0 means DefaultTolerance
	Now       func() time.Time // nil means time.Now
}

// Verify checks a delivered webhook: its three headers are there, its timestamp is within the
// tolerance of now, and one of the signatures in webhook-signature is that of its id, timestamp
// and raw body under the secret, compared in constant time. nil means the webhook is authentic
// and fresh; a receiver still drops a webhook-id it has already processed.
func (r Receiver) Verify(h http.Header, body []byte) error {
	id, stamp, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || stamp == "" || sigs == "" {
		return ErrMissingHeaders
	}
	secs, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not Unix seconds", stamp)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	tolerance := r.Tolerance
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts := time.Unix(secs, 0)
	if d := now().Sub(ts); d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	key, err := Key(r.Secret)
	if err != nil {
		return err
	}
	want := []byte(Sign(key, id, ts, body))
	for _, sig := range strings.Fields(sigs) {
		if hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return ErrSignature
}
