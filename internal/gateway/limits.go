package gateway

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/labelflow/labelflow/config"
)

// limiterCap is how many clients (addresses or people) each limiter remembers. Past it the least
// recently seen is forgotten, so memory stays bounded whatever keys clients send; the price is a
// fresh allowance for a client that returns after that many others.
const limiterCap = 16384

// limits are the gateway's request allowances: per client address for every request, per
// address for failed sign-ins, and per person once signed in.
type limits struct {
	perIP, signIn, perPerson *limiterSet
}

func newLimits(c config.Config) (limits, error) {
	r, err := c.ParseGatewayRates()
	if err != nil {
		return limits{}, err
	}
	return limits{
		perIP:     newLimiterSet(r.PerIP, limiterCap),
		signIn:    newLimiterSet(r.SignInPerIP, limiterCap),
		perPerson: newLimiterSet(r.PerToken, limiterCap),
	}, nil
}

// limiterSet keeps one token bucket per key.
type limiterSet struct {
	limit rate.Limit
	burst int

	mu    sync.Mutex
	byKey *lru[string, *rate.Limiter]
}

func newLimiterSet(r config.Rate, max int) *limiterSet {
	return &limiterSet{limit: rate.Limit(r.PerSecond), burst: r.Burst, byKey: newLRU[string, *rate.Limiter](max)}
}

// take spends one request of key's allowance. When the allowance is spent it takes nothing and
// returns how long until it is not.
func (s *limiterSet) take(key string) time.Duration {
	now := time.Now()
	r := s.limiter(key, true).ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return wait
	}
	return 0
}

// wait returns how long until key has a request left, taking nothing; a key never charged has.
func (s *limiterSet) wait(key string) time.Duration {
	lim := s.limiter(key, false)
	if lim == nil {
		return 0
	}
	tokens := lim.TokensAt(time.Now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(s.limit) * float64(time.Second))
}

// charge spends one request of key's allowance even past its end, so that requests made at once
// are each paid for afterwards.
func (s *limiterSet) charge(key string) {
	s.limiter(key, true).Reserve()
}

func (s *limiterSet) limiter(key string, create bool) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	lim, ok := s.byKey.get(key)
	if !ok && create {
		lim = rate.NewLimiter(s.limit, s.burst)
		s.byKey.put(key, lim)
	}
	return lim
}

// len is how many keys the set remembers.
func (s *limiterSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byKey.len()
}

// guard is what every request goes through before routing: the per-address allowance and the
// body cap. Wrapping the whole mux gives routes added later the same protection.
func (g *Gateway) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wait := g.limits.perIP.take(clientKey(r)); wait > 0 {
			tooMany(w, wait, "this address")
			return
		}
		if r.ContentLength > maxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body: larger than %d bytes", maxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// signInAllowed answers 429 when the request's address has used up its failed sign-ins; only
// failures are charged (failedSignIn), so people who sign in well are never held back by it.
// Guesses sent at once may all be looked up, but each is charged, and the address then waits
// for all of them.
func (g *Gateway) signInAllowed(w http.ResponseWriter, r *http.Request) bool {
	if wait := g.limits.signIn.wait(clientKey(r)); wait > 0 {
		tooMany(w, wait, "this address after failed sign-ins")
		return false
	}
	return true
}

// failedSignIn charges a missing or unknown token to the request's address.
func (g *Gateway) failedSignIn(r *http.Request) {
	g.limits.signIn.charge(clientKey(r))
}

// allowPerson spends one request of a signed-in person's allowance, or answers 429. It is kept
// by person id: a token is never kept in memory past its lookup.
func (g *Gateway) allowPerson(w http.ResponseWriter, personID string) bool {
	if wait := g.limits.perPerson.take(personID); wait > 0 {
		tooMany(w, wait, "you")
		return false
	}
	return true
}

// clientKey is the address a request's allowances are kept under: the peer's IP, as proxies'
// headers can be forged; for IPv6 its /64, which one subscriber usually holds whole.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// tooMany answers 429 with the whole seconds to wait, rounded up.
func tooMany(w http.ResponseWriter, wait time.Duration, who string) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("too many requests from %s; retry in %d s", who, secs))
}
