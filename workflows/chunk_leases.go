package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Leases: a claim leases a suite of items to one person until ExpiresAt. A lease that runs out
// releases its items to others and excludes the person from them for a while (see ItemState).

// expiredLeases are the items of leases that ran out but are still in the state, by person.
// Claim validators may not change state, so they cannot release such leases; they see through
// this set instead that those holders are gone.
type expiredLeases map[string]map[int]bool

// add records that worker's lease on item ran out.
func (e expiredLeases) add(worker string, item int) {
	if e[worker] == nil {
		e[worker] = map[int]bool{}
	}
	e[worker][item] = true
}

// has reports whether worker's lease on item ran out.
func (e expiredLeases) has(worker string, item int) bool { return e[worker][item] }

// suite returns the active suite called id, or nil.
func (c *chunk) suite(id string) *Suite {
	for _, s := range c.st.Suites {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func (c *chunk) dropSuite(id string) {
	c.st.Suites = slices.DeleteFunc(c.st.Suites, func(s *Suite) bool { return s.ID == id })
}

// expiredAt lists the leases that ran out by now and are not yet released.
func (c *chunk) expiredAt(now time.Time) expiredLeases {
	out := expiredLeases{}
	for _, s := range c.st.Suites {
		if now.Before(s.ExpiresAt) {
			continue
		}
		for _, t := range s.Tasks {
			out.add(s.Worker, t.Item)
		}
	}
	return out
}

// liveHolders are the holders of item i whose lease has not run out.
func (c *chunk) liveHolders(i int, expired expiredLeases) []string {
	var live []string
	for _, h := range c.st.Items[i].Holders {
		if !expired.has(h, i) {
			live = append(live, h)
		}
	}
	return live
}

// expireLeases releases suites whose lease ran out; their items are re-offered to someone else.
func (c *chunk) expireLeases(now time.Time) {
	for _, s := range slices.Clone(c.st.Suites) {
		if now.Before(s.ExpiresAt) {
			continue
		}
		c.release(s)
		c.dropSuite(s.ID)
		c.st.LeasesExpired++
	}
	if c.exclusionLapses {
		c.liftExclusions(now)
	}
}

// release takes the items of the expired suite s from its holder and excludes them from it.
func (c *chunk) release(s *Suite) {
	for _, t := range s.Tasks {
		it := &c.st.Items[t.Item]
		it.Holders = slices.DeleteFunc(it.Holders, func(h string) bool { return h == s.Worker })
		if !slices.Contains(it.Excluded, s.Worker) {
			it.Excluded = append(it.Excluded, s.Worker)
		}
		if c.exclusionLapses {
			until := s.ExpiresAt.Add(2 * c.in.Settings.Lease)
			it.ExcludedUntil = &until
		}
	}
}

// liftExclusions ends the exclusions that lapsed by now.
func (c *chunk) liftExclusions(now time.Time) {
	for i := range c.st.Items {
		it := &c.st.Items[i]
		if it.ExcludedUntil != nil && !now.Before(*it.ExcludedUntil) {
			it.Excluded, it.ExcludedUntil = nil, nil
		}
	}
}

// nextExpiry is when the earliest active lease or exclusion runs out, or, once every item is
// final, a holder still at work falls silent; zero without any of them.
func (c *chunk) nextExpiry() time.Time {
	next := c.silenceAhead()
	for _, s := range c.st.Suites {
		if next.IsZero() || s.ExpiresAt.Before(next) {
			next = s.ExpiresAt
		}
	}
	for i := range c.st.Items {
		// An exclusion that lapses wakes the chunk too, so that the next claim may take the item.
		if u := c.st.Items[i].ExcludedUntil; u != nil && !c.st.Items[i].Final && (next.IsZero() || u.Before(next)) {
			next = *u
		}
	}
	return next
}

// expiryTimer is the one timer that wakes the chunk when the earliest lease or exclusion runs
// out. Leases last the same time and heartbeats only move them later, so a new suite never
// expires before the one watched, and a timer is mostly started only after the last one fired;
// an expiry earlier than the one watched starts another, and the one it replaces is left to fire
// unheard (cancelling it would add a command to history). A timer that fires for a lease since
// extended wakes the chunk for nothing, and the next watch starts one for the new expiry.
type expiryTimer struct {
	timer workflow.Future
	at    time.Time
}

// watch starts a timer for next unless a timer already watches an expiry no later.
func (t *expiryTimer) watch(ctx workflow.Context, next time.Time) {
	if next.IsZero() || (t.timer != nil && !next.Before(t.at)) {
		return
	}
	t.at = next
	t.timer = workflow.NewTimer(ctx, max(next.Sub(workflow.Now(ctx)), time.Millisecond))
}

func (t *expiryTimer) fired() bool { return t.timer != nil && t.timer.IsReady() }

// clearIfFired lets the next watch start a timer after this one fired.
func (t *expiryTimer) clearIfFired() {
	if t.fired() {
		t.timer = nil
	}
}

// validateRelease refuses, before it enters history, a release by anyone but the holder of a
// lease still running.
func (c *chunk) validateRelease(ctx workflow.Context, req ReleaseRequest) error {
	if err := verifySeal(ctx, UpdateReleaseSuite, req); err != nil {
		return err
	}
	s := c.suite(req.SuiteID)
	if s == nil {
		return appErr(ErrUnknownSuite, "suite %s is not leased in chunk %d (it may have been submitted, released, or its lease expired)", req.SuiteID, c.in.Chunk)
	}
	if s.Worker != req.Worker.ID {
		return appErr(ErrWrongPerson, "suite %s was leased to someone else", req.SuiteID)
	}
	if c.finished {
		return appErr(ErrLeaseExpired, "chunk %d is complete: the items of suite %s were answered by others", c.in.Chunk, req.SuiteID)
	}
	if now := workflow.Now(ctx); !now.Before(s.ExpiresAt) {
		return appErr(ErrLeaseExpired, "the lease on suite %s expired at %s", req.SuiteID, s.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// releaseSuite gives a suite back at its holder's request: its items are offered again at once.
// Unlike an expired lease it does not exclude the holder from them: they said they stop rather
// than walking away silently, and a release must not let anyone skip the items they find hard
// (a claim after a release may offer the same items again).
func (c *chunk) releaseSuite(ctx workflow.Context, req ReleaseRequest) (ReleaseResult, error) {
	c.updates++
	s := c.suite(req.SuiteID)
	for _, t := range s.Tasks {
		it := &c.st.Items[t.Item]
		it.Holders = slices.DeleteFunc(it.Holders, func(h string) bool { return h == s.Worker })
	}
	c.dropSuite(s.ID)
	return ReleaseResult{SuiteID: s.ID, Released: true}, nil
}
