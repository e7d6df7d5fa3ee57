package gateway

import (
	"slices"
	"testing"
	"time"

	"github.com/labelflow/labelflow/workflows"
)

func TestHeldSuiteAnswersRepeatedClaimsUntilDone(t *testing.T) {
	b, now := newClaimBook(), time.Now()
	s := workflows.Suite{ID: "c000001-s000004", Chunk: 1, Worker: "ann", ExpiresAt: now.Add(3 * time.Minute)}
	b.hold("p", s, now)
	if got, ok := b.heldBy("p", "ann", now.Add(time.Second)); !ok || got.ID != s.ID {
		t.Fatalf("repeated claim got %+v, %v; want the suite held", got, ok)
	}
	if _, ok := b.heldBy("p", "other", now); ok {
		t.Fatal("someone else's claim got the suite")
	}
	if _, ok := b.heldBy("p", "ann", now.Add(heldFresh)); ok {
		t.Fatal("a suite not confirmed for heldFresh answered a claim: another gateway may have taken its submission")
	}
	b.hold("p", s, now)
	b.done("p", "ann", s.ID, 1, false)
	if _, ok := b.heldBy("p", "ann", now); ok {
		t.Fatal("a submitted suite answered a claim")
	}
	s.ExpiresAt = now.Add(500 * time.Millisecond)
	b.hold("p", s, now)
	if _, ok := b.heldBy("p", "ann", now); ok {
		t.Fatal("a suite about to expire answered a claim")
	}
}

func TestRouteSkipsChunksWithNothingForTheClaimant(t *testing.T) {
	b, now, lease := newClaimBook(), time.Now(), 3*time.Minute
	running := []int{0, 1, 2}
	all, wait := b.route("p", running, "ann", workflows.KindAnnotate, now)
	if len(all) != 3 || wait != 0 {
		t.Fatalf("route = %v (wait %s), want every chunk", all, wait)
	}
	b.refused("p", 1, "ann", workflows.KindAnnotate, workflows.ChunkOpenings{Annotate: 0, Arbitrate: 2}, true, now, lease)
	b.refused("p", 2, "ann", workflows.KindAnnotate, workflows.ChunkOpenings{Annotate: 7}, true, now, lease)
	if got, wait := b.route("p", running, "ann", workflows.KindAnnotate, now); !slices.Equal(got, []int{0}) || wait != emptyFor(lease) {
		t.Fatalf("route for ann = %v (wait %s); want chunk 0 only, again in %s", got, wait, emptyFor(lease))
	}
	if got, _ := b.route("p", running, "other", workflows.KindAnnotate, now); len(got) != 2 || slices.Contains(got, 1) {
		t.Fatalf("route for another annotator = %v; want chunks 0 and 2: chunk 1 has nothing left to annotate", got)
	}
	if got, _ := b.route("p", running, "rev", workflows.KindArbitrate, now); len(got) != 3 {
		t.Fatalf("route for a reviewer = %v; want every chunk: chunk 1 has disputes", got)
	}
	if got, _ := b.route("p", running, "ann", workflows.KindAnnotate, now.Add(passFor(lease))); len(got) != 3 {
		t.Fatalf("route after the marks lapsed = %v; want every chunk", got)
	}
	b.done("p", "ann", "c000001-s000009", 1, true)
	if got, _ := b.route("p", running, "other", workflows.KindAnnotate, now); len(got) != 3 {
		t.Fatalf("route after a release in chunk 1 = %v; want every chunk", got)
	}
}

func TestClaimsInFlightPerChunkAreBounded(t *testing.T) {
	b := newClaimBook()
	for i := range claimsInFlight {
		if !b.ask("p", 0) {
			t.Fatalf("claim %d refused below the bound", i+1)
		}
	}
	if b.ask("p", 0) {
		t.Fatal("a claim past the bound was sent")
	}
	if !b.ask("p", 1) {
		t.Fatal("another chunk's claim was refused")
	}
	b.answered("p", 0)
	if !b.ask("p", 0) {
		t.Fatal("a slot given back was not taken again")
	}
}
