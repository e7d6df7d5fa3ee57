package codec

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/converter"
)

// The codec server speaks Temporal's remote codec protocol: POST /encode and /decode (or
// /{namespace}/encode and /{namespace}/decode, or the X-Namespace header) with a JSON Payloads
// body, answered with the same shape. The Temporal UI calls it from the browser (hence CORS for
// the UI's origin) and the Temporal CLI with --codec-endpoint and --codec-auth.

// Refusals of an Authorizer.
var (
	ErrUnauthenticated = errors.New("no credential, or one nobody holds")
	ErrForbidden       = errors.New("this credential may not decode payloads")
)

// Authorizer decides whether a bearer credential may use the codec server, and names who holds
// it for the log. It returns ErrUnauthenticated or ErrForbidden (wrapped) to refuse.
type Authorizer func(ctx context.Context, credential string) (who string, err error)

// ServerOptions configure Handler.
type ServerOptions struct {
	Codec *Codec
	// Namespace is the only namespace served: the keys are this deployment's.
	Namespace string
	// Origins may call from a browser (the Temporal UI's origin, such as https://temporal.example).
	Origins []string
	// Authorize checks each request's bearer credential.
	Authorize Authorizer
	Log       zerolog.Logger
}

// maxBody bounds a request: a page of history's payloads, with room to spare.
const maxBody = 16 << 20

// Handler serves the codec protocol for authorised callers.
func Handler(o ServerOptions) http.Handler {
	codecs := converter.NewPayloadCodecHTTPHandler(o.Codec)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && r.Method == http.MethodGet {
			// Liveness and readiness alike: the keys are in memory, and a caller whose roster
			// check fails is refused with its own status.
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("ok\n"))
			return
		}
		if allowOrigin(w, r, o.Origins) && r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		op, ok := operation(r, o.Namespace)
		if !ok {
			http.Error(w, "no such endpoint: POST /encode or /decode, for namespace "+o.Namespace, http.StatusNotFound)
			return
		}
		who, err := authorize(r, o.Authorize)
		if err != nil {
			refuse(w, err)
			o.Log.Warn().Err(err).Str("op", op).Str("remote", r.RemoteAddr).Msg("codec request refused")
			return
		}
		o.Log.Info().Str("person", who).Str("op", op).Msg("codec request")
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		codecs.ServeHTTP(w, r)
	})
}

// allowOrigin writes the CORS headers for an allowed browser origin and reports whether it did.
func allowOrigin(w http.ResponseWriter, r *http.Request, origins []string) bool {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !slices.Contains(origins, origin) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Max-Age", "600")
	return true
}

// operation is "encode" or "decode" for a path of the protocol naming the served namespace
// (or none).
func operation(r *http.Request, namespace string) (string, bool) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	ns := r.Header.Get("X-Namespace")
	if len(parts) == 2 {
		ns, parts = parts[0], parts[1:]
	}
	if len(parts) != 1 || (parts[0] != "encode" && parts[0] != "decode") || (ns != "" && ns != namespace) {
		return "", false
	}
	return parts[0], true
}

func authorize(r *http.Request, auth Authorizer) (string, error) {
	credential, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || credential == "" {
		return "", ErrUnauthenticated
	}
	if auth == nil {
		return "", ErrForbidden
	}
	return auth(r.Context(), strings.TrimSpace(credential))
}

func refuse(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="labelflow-codec"`)
		http.Error(w, "unauthenticated: send Authorization: Bearer with an ops person's token", http.StatusUnauthorized)
	case errors.Is(err, ErrForbidden):
		http.Error(w, "forbidden: only ops may decode payloads", http.StatusForbidden)
	default:
		http.Error(w, "the credential could not be checked; try again", http.StatusServiceUnavailable)
	}
}

// SharedSecret accepts one configured secret (for a proxy that authenticates people itself).
func SharedSecret(secret string) Authorizer {
	return func(_ context.Context, credential string) (string, error) {
		if secret == "" || subtle.ConstantTimeCompare([]byte(credential), []byte(secret)) != 1 {
			return "", ErrUnauthenticated
		}
		return "shared-secret", nil
	}
}

// Either accepts what any of auths accepts, trying them in order. Refused by all, it reports the
// first refusal that knew the credential (forbidden, or could not check), else unauthenticated.
func Either(auths ...Authorizer) Authorizer {
	return func(ctx context.Context, credential string) (string, error) {
		refusal := ErrUnauthenticated
		for _, a := range auths {
			who, err := a(ctx, credential)
			if err == nil {
				return who, nil
			}
			if errors.Is(refusal, ErrUnauthenticated) && !errors.Is(err, ErrUnauthenticated) {
				refusal = err
			}
		}
		return "", refusal
	}
}

// Remembered caches auth's acceptances, by the credential's hash (never the credential), for
// ttl: the UI sends a decode request per page of history, and each check reads the roster. A
// revoked credential stops within ttl.
func Remembered(auth Authorizer, ttl time.Duration) Authorizer {
	type entry struct {
		who     string
		expires time.Time
	}
	var mu sync.Mutex
	seen := map[[32]byte]entry{}
	return func(ctx context.Context, credential string) (string, error) {
		h := sha256.Sum256([]byte(credential))
		now := time.Now()
		mu.Lock()
		e, ok := seen[h]
		mu.Unlock()
		if ok && now.Before(e.expires) {
			return e.who, nil
		}
		who, err := auth(ctx, credential)
		if err != nil {
			return "", err
		}
		mu.Lock()
		defer mu.Unlock()
		if len(seen) > 1000 {
			clear(seen)
		}
		seen[h] = entry{who: who, expires: now.Add(ttl)}
		return who, nil
	}
}
