package gateway

import (
	"fmt"
	"testing"
	"time"
)

// A gateway reports a crowd that grew by a chunk's share at once (at most every few seconds),
// otherwise once a minute, and forgets people who stopped working.
func TestCrowdWatchReportsGrowthSoonAndTheRestSeldom(t *testing.T) {
	c := newCrowdWatch()
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	expect := func(what string, people int, due bool, wantPeople int, wantDue bool) {
		t.Helper()
		if due != wantDue || (due && people != wantPeople) {
			t.Fatalf("%s: report %v of %d; want %v of %d", what, due, people, wantDue, wantPeople)
		}
	}
	n, due := c.saw("p1", "ann-0", at(0))
	expect("first person", n, due, 1, true)
	for i := 1; i < crowdStep; i++ {
		n, due = c.saw("p1", fmt.Sprintf("ann-%d", i), at(time.Second))
		expect("within seconds of a report", n, due, 0, false)
	}
	n, due = c.saw("p1", "ann-late", at(6*time.Second))
	expect("crowd grew by a chunk's share", n, due, crowdStep+1, true)
	n, due = c.saw("p1", "ann-later", at(20*time.Second))
	expect("grew by one", n, due, 0, false)
	n, due = c.saw("p1", "ann-0", at(70*time.Second))
	expect("renewal after a minute", n, due, crowdStep+2, true)
	n, due = c.saw("p1", "ann-0", at(4*time.Minute))
	expect("the others stopped", n, due, 1, true)
	n, due = c.saw("p2", "ann-0", at(4*time.Minute))
	expect("another project counts apart", n, due, 1, true)
}
