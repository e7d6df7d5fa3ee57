package simulate

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labelflow/labelflow/internal/gateway"
)

// Presence, as people show it: while they work on a suite they send heartbeats, which keep their
// lease; some give a suite back (release) rather than answer it; and with WalkAway a share of the
// crowd walks away from a suite without a word, and does not come back.

// walkers chooses the people who walk away: the last WalkAway share of each role, so that a crowd
// keeps annotators and reviewers in the same proportions.
func walkers(o Options, crowd []Person) map[string]bool {
	out := map[string]bool{}
	if o.WalkAway <= 0 {
		return out
	}
	byRole := map[string][]string{}
	for _, p := range crowd {
		byRole[p.Role] = append(byRole[p.Role], p.ID)
	}
	for _, ids := range byRole {
		n := int(math.Round(o.WalkAway * float64(len(ids))))
		for _, id := range ids[len(ids)-min(n, len(ids)):] {
			out[id] = true
		}
	}
	return out
}

// departures counts, for each person who walks away, the suites they still answer first.
type departures struct {
	mu   sync.Mutex
	left map[string]int
}

// walksAway reports whether p walks away from the suite they have just claimed: a walker answers
// between none and two suites first, drawn once.
func (s *sim) walksAway(p Person, rng *rand.Rand) bool {
	if !s.walkers[p.ID] {
		return false
	}
	s.gone.mu.Lock()
	defer s.gone.mu.Unlock()
	if s.gone.left == nil {
		s.gone.left = map[string]int{}
	}
	n, ok := s.gone.left[p.ID]
	if !ok {
		n = rng.IntN(3)
	}
	s.gone.left[p.ID] = n - 1
	if n > 0 {
		return false
	}
	atomic.AddInt64(&s.stats.Abandoned, 1)
	return true
}

// releases gives the suite back, with probability Release, instead of answering it.
func (s *sim) releases(ctx context.Context, p Person, rng *rand.Rand, suite *gateway.SuiteView) bool {
	if s.o.Release <= 0 || rng.Float64() >= s.o.Release {
		return false
	}
	s.release(ctx, p, suite)
	return true
}

// release gives a suite back; a suite already gone needs nothing.
func (s *sim) release(ctx context.Context, p Person, suite *gateway.SuiteView) {
	var out gateway.ReleaseAnswer
	if status, err := s.call(ctx, p, http.MethodPost, s.suitePath(suite, "release"), nil, &out); err == nil && status == http.StatusOK {
		atomic.AddInt64(&s.stats.Released, 1)
	}
}

// think spends d on the suite, sending a heartbeat each quarter of the lease left, as the
// workbench does while its person is active. A person stopped (ctx ends) gives the suite back.
func (s *sim) think(ctx context.Context, p Person, suite *gateway.SuiteView, d time.Duration) {
	until := time.Now().Add(d)
	for {
		left := time.Until(until)
		beat := time.Until(suite.ExpiresAt) / 4
		if left <= 0 || ctx.Err() != nil {
			break
		}
		if beat <= 0 || left <= beat {
			Sleep(ctx, left)
			break
		}
		Sleep(ctx, beat)
		if ctx.Err() == nil {
			s.heartbeat(ctx, p, suite)
		}
	}
	if ctx.Err() != nil {
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		s.release(stop, p, suite)
	}
}

// heartbeat tells the suite's chunk that p is at work, and keeps the lease it answers with.
func (s *sim) heartbeat(ctx context.Context, p Person, suite *gateway.SuiteView) {
	var out gateway.HeartbeatAnswer
	status, err := s.call(ctx, p, http.MethodPost, s.suitePath(suite, "heartbeat"), nil, &out)
	if err == nil && status == http.StatusOK {
		suite.ExpiresAt = out.ExpiresAt
		atomic.AddInt64(&s.stats.Heartbeats, 1)
	}
}

func (s *sim) suitePath(suite *gateway.SuiteView, action string) string {
	return "/v1/projects/" + s.o.Project + "/suites/" + suite.ID + "/" + action
}
