package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Presence: a person at work on a suite says so with heartbeats, and each extends their lease,
// so that leases can be short without cutting anyone off. A holder who has sent no sign of work
// (claim or heartbeat) for half a lease has gone silent. When a chunk has nothing else to offer
// a claimant, the items of silent holders are offered to them before those leases run out, so
// that one person who walked away does not hold a chunk's last items for a whole lease:
//
//   - an annotation is then answered by whichever of the two holders submits first; the other
//     answer, if it comes while the chunk is open and within its lease, is kept as a late answer:
//     paid like any other, never deciding the label;
//   - an arbitration decides an item alone, so the silent reviewer's suite ends when another
//     reviewer takes its disputes, as if it had expired.
//
// A chunk whose items are all final closes without waiting for silent holders; it waits only for
// holders still at work, who may yet send a late answer, until they submit or fall silent.

// LeaseLimit bounds how long heartbeats can keep a suite: at most LeaseLimit leases after its
// claim, so that nobody holds items for ever. With the default lease of 3 minutes that is the
// 15 minutes the lease used to be.
const LeaseLimit = 5

// silentAfter is how long a holder may send no sign of work before they count as gone silent.
// The workbench sends a heartbeat at most once a minute while its person is active, well
// within half of the default lease.
func (c *chunk) silentAfter() time.Duration { return c.in.Settings.Lease / 2 }

// heartbeatGap is how soon after the last sign of work a heartbeat adds nothing worth a place in
// history: it is answered with the lease as it stands.
func (c *chunk) heartbeatGap() time.Duration { return c.in.Settings.Lease / 6 }

// seenAt is the last sign of work of a suite's holder.
func seenAt(s *Suite) time.Time {
	if s.SeenAt.IsZero() {
		return s.ClaimedAt
	}
	return s.SeenAt
}

// leaseLimit is the latest suite s's lease can run to.
func (c *chunk) leaseLimit(s *Suite) time.Time {
	return s.ClaimedAt.Add(LeaseLimit * c.in.Settings.Lease)
}

// silent reports a holder whose lease runs but who has not been heard from for silentAfter.
func (c *chunk) silent(s *Suite, now time.Time) bool {
	return now.Before(s.ExpiresAt) && now.Sub(seenAt(s)) >= c.silentAfter()
}

// --- the heartbeat Update ---

// validateHeartbeat refuses, before it enters history, a heartbeat by anyone but the holder of a
// lease still running in an open chunk; one that comes soon after the last sign of work is
// answered with the lease as it stands, by rejection, so that it leaves no event in history.
func (c *chunk) validateHeartbeat(ctx workflow.Context, req HeartbeatRequest) error {
	if err := verifySeal(ctx, UpdateHeartbeat, req); err != nil {
		return err
	}
	s := c.suite(req.SuiteID)
	now := workflow.Now(ctx)
	switch {
	case s == nil:
		return appErr(ErrUnknownSuite, "suite %s is not leased in chunk %d (it may have been submitted, released, or its lease expired)", req.SuiteID, c.in.Chunk)
	case s.Worker != req.Worker.ID:
		return appErr(ErrWrongPerson, "suite %s was leased to someone else", req.SuiteID)
	case c.finished:
		return appErr(ErrLeaseExpired, "chunk %d is complete: the items of suite %s were answered by others", c.in.Chunk, req.SuiteID)
	case !now.Before(s.ExpiresAt):
		return appErr(ErrLeaseExpired, "the lease on suite %s expired at %s", req.SuiteID, s.ExpiresAt.UTC().Format(time.RFC3339))
	case now.Sub(seenAt(s)) < c.heartbeatGap():
		return temporal.NewApplicationError(fmt.Sprintf("suite %s was extended moments ago", req.SuiteID), ErrLeaseCurrent, c.leaseOf(s))
	}
	return nil
}

// heartbeat notes that the holder is at work and extends their lease to a lease from now, up to
// its limit.
func (c *chunk) heartbeat(ctx workflow.Context, req HeartbeatRequest) (HeartbeatResult, error) {
	c.updates++
	s := c.suite(req.SuiteID)
	if s == nil { // the validator saw it; nothing in between drops a suite
		return HeartbeatResult{}, appErr(ErrUnknownSuite, "suite %s is not leased in chunk %d", req.SuiteID, c.in.Chunk)
	}
	now := workflow.Now(ctx)
	s.SeenAt = now
	until := now.Add(c.in.Settings.Lease)
	if limit := c.leaseLimit(s); until.After(limit) {
		until = limit
	}
	if until.After(s.ExpiresAt) {
		s.ExpiresAt = until
	}
	return c.leaseOf(s), nil
}

// leaseOf is suite s's lease as a heartbeat answers it.
func (c *chunk) leaseOf(s *Suite) HeartbeatResult {
	r := HeartbeatResult{SuiteID: s.ID, ExpiresAt: s.ExpiresAt, Limit: c.leaseLimit(s)}
	for _, t := range s.Tasks {
		r.Items = append(r.Items, t.Item)
	}
	return r
}

// --- offering the items of silent holders ---

// pick chooses the work for w now: first among items no live lease holds; when that leaves w
// nothing (and no more accurate reviewer is waiting for it), among the items of holders gone
// silent too. reoffered reports the second case.
func (c *chunk) pick(w Worker, now time.Time) (kind string, items []int, outranked, reoffered bool) {
	kind, items, outranked = c.pickKind(w, now, c.expiredAt(now))
	if len(items) > 0 || outranked || !c.reofferSilent {
		return kind, items, outranked, false
	}
	k, more, _ := c.pickKind(w, now, c.goneAt(now))
	if len(more) == 0 {
		return kind, items, outranked, false
	}
	return k, more, false, true
}

// goneAt lists, by person, the items of leases that ran out and of holders gone silent.
func (c *chunk) goneAt(now time.Time) expiredLeases {
	gone := c.expiredAt(now)
	for _, s := range c.st.Suites {
		if !c.silent(s, now) {
			continue
		}
		for _, t := range s.Tasks {
			gone.add(s.Worker, t.Item)
		}
	}
	return gone
}

// endSilentArbitrations ends, as if they had expired, the suites of silent reviewers that hold
// any of items: the disputes go to the reviewer who claimed them, and an arbitration that came
// second would have nowhere to go. A silent reviewer is no longer counted at work either, so that
// they do not keep the next disputes from others by their rank.
func (c *chunk) endSilentArbitrations(items []int, now time.Time) {
	for _, s := range slices.Clone(c.st.Suites) {
		if s.Kind != KindArbitrate || !c.silent(s, now) || !holdsAny(s, items) {
			continue
		}
		c.release(s)
		c.dropSuite(s.ID)
		c.st.LeasesExpired++
		c.st.Reviewers = slices.DeleteFunc(c.st.Reviewers, func(r ReviewerSeen) bool { return r.ID == s.Worker })
	}
}

func holdsAny(s *Suite, items []int) bool {
	return slices.ContainsFunc(s.Tasks, func(t SuiteTask) bool { return slices.Contains(items, t.Item) })
}

// arbiters narrows the live holders of item i to those arbitrating it: anyone else holding an
// item that waits for a reviewer is an annotator whose answer would come late, and must not keep
// the dispute from reviewers.
func (c *chunk) arbiters(i int, live []string) []string {
	return slices.DeleteFunc(slices.Clone(live), func(h string) bool {
		return !slices.ContainsFunc(c.st.Suites, func(s *Suite) bool {
			return s.Worker == h && s.Kind == KindArbitrate && holdsAny(s, []int{i})
		})
	})
}

// --- late answers and closing ---

// late reports an annotation of item i that comes after the item got every answer it waited for:
// its holder went silent and someone else answered first.
func (c *chunk) late(i int) bool {
	return c.reofferSilent && len(c.st.Items[i].Annotations) >= c.wanted(i)
}

// done reports a chunk that can close: every item is final, and no holder still at work may yet
// send a late answer.
func (c *chunk) done(now time.Time) bool {
	if !c.allFinal() {
		return false
	}
	return !c.reofferSilent || !slices.ContainsFunc(c.st.Suites, func(s *Suite) bool {
		return now.Before(s.ExpiresAt) && !c.silent(s, now)
	})
}

// silenceAhead is when the earliest holder still at work falls silent, or zero: a chunk whose
// items are all final wakes then to close.
func (c *chunk) silenceAhead() time.Time {
	var next time.Time
	if !c.reofferSilent || !c.allFinal() {
		return next
	}
	for _, s := range c.st.Suites {
		at := seenAt(s).Add(c.silentAfter())
		if at.Before(s.ExpiresAt) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}
