package workflows

import (
	"slices"
	"testing"
	"time"
)

// presence is the settings of these tests: a lease of a minute, so a holder falls silent after
// 30 s, and a heartbeat within 10 s of the last sign of work adds nothing.
func presence() ChunkSettings {
	set := settings()
	set.Lease = time.Minute
	return set
}

func (ce *chunkEnv) heartbeat(w Worker, suite string, out *validated[HeartbeatResult]) {
	sendValidated(ce.env, UpdateHeartbeat, HeartbeatRequest{Worker: w, SuiteID: suite}, out)
}

// A heartbeat extends its holder's lease to a lease from now, so that the holder can submit past
// the lease first given. One soon after the last sign of work is answered with the lease as it
// stands, refused by the validator so that it leaves no event; only the holder, with a seal, of
// a suite leased here can send one.
func TestAHeartbeatExtendsTheLease(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	var ca, cb outcome[Suite]
	var beat, soon, byOther, unknown validated[HeartbeatResult]
	var forged outcome[HeartbeatResult]
	var sa, sb outcome[SubmitResult]
	var start time.Time
	ce.step(time.Second, func() { start = ce.env.Now().Add(-time.Second); ce.claim(a, &ca); ce.claim(b, &cb) })
	ce.step(40*time.Second, func() {
		id := must(t, "claim a", &ca).ID
		ce.heartbeat(a, id, &beat)
		sendRaw(ce.env, UpdateHeartbeat, HeartbeatRequest{Worker: a, SuiteID: id}, &forged)
		ce.heartbeat(b, id, &byOther)
		ce.heartbeat(a, "c000000-s00099", &unknown)
	})
	ce.step(45*time.Second, func() { ce.heartbeat(a, must(t, "claim a", &ca).ID, &soon) })
	ce.step(50*time.Second, func() { ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb) })
	// Past the first lease (61 s), within the extended one (100 s).
	ce.step(90*time.Second, func() { ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa) })
	sum := ce.run(ChunkInput{Settings: presence(), Items: 2})

	got := must(t, "heartbeat", &beat.outcome)
	if want := start.Add(100 * time.Second); !got.ExpiresAt.Equal(want) || beat.refused {
		t.Fatalf("heartbeat at 40 s: lease until %s (refused %v), want %s", got.ExpiresAt, beat.refused, want)
	}
	if want := start.Add(time.Second + LeaseLimit*time.Minute); !got.Limit.Equal(want) || !slices.Equal(got.Items, []int{0, 1}) {
		t.Fatalf("heartbeat answer = %+v, want limit %s and items [0 1]", got, want)
	}
	rejected(t, "heartbeat 5 s after the last", &soon.outcome, ErrLeaseCurrent)
	if cur, ok := CurrentLease(soon.err); !ok || !soon.refused || !cur.ExpiresAt.Equal(got.ExpiresAt) {
		t.Fatalf("early heartbeat carries %+v (ok %v, refused %v), want the lease until %s", cur, ok, soon.refused, got.ExpiresAt)
	}
	rejected(t, "unsealed heartbeat", &forged, ErrUnauthenticated)
	rejected(t, "heartbeat by someone else", &byOther.outcome, ErrWrongPerson)
	rejected(t, "heartbeat for a suite never leased", &unknown.outcome, ErrUnknownSuite)
	must(t, "submit within the extended lease", &sa)
	if sum.Agreed != 2 || sum.LeasesExpired != 0 {
		t.Fatalf("summary = %+v, want both items agreed and no lease expired", sum)
	}
}

// However long its holder sends heartbeats, a lease ends LeaseLimit leases after its claim, and
// its items go to someone else.
func TestALeaseIsExtendedNoFurtherThanItsLimit(t *testing.T) {
	ce := newChunkEnv(t)
	a, b, c := annotator("ann-a"), annotator("ann-b"), annotator("ann-c")
	var ca, cb, cc outcome[Suite]
	var sb, sc outcome[SubmitResult]
	var last validated[HeartbeatResult]
	var after validated[HeartbeatResult]
	var start time.Time
	ce.step(time.Second, func() { start = ce.env.Now().Add(-time.Second); ce.claim(a, &ca); ce.claim(b, &cb) })
	ce.step(2*time.Second, func() { ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb) })
	for at := 20 * time.Second; at < LeaseLimit*time.Minute; at += 20 * time.Second {
		ce.step(at, func() { last = validated[HeartbeatResult]{}; ce.heartbeat(a, must(t, "claim a", &ca).ID, &last) })
	}
	limit := time.Second + LeaseLimit*time.Minute
	ce.step(limit+time.Second, func() {
		got := must(t, "last heartbeat", &last.outcome)
		if want := start.Add(limit); !got.ExpiresAt.Equal(want) {
			t.Errorf("last heartbeat: lease until %s, want its limit %s", got.ExpiresAt, want)
		}
		ce.heartbeat(a, must(t, "claim a", &ca).ID, &after)
		ce.claim(c, &cc)
	})
	ce.step(limit+2*time.Second, func() { ce.submit(c, must(t, "claim after the limit", &cc), always("cat"), &sc) })
	sum := ce.run(ChunkInput{Settings: presence(), Items: 2})
	rejected(t, "heartbeat past the limit", &after.outcome, ErrUnknownSuite)
	if sum.LeasesExpired != 1 || sum.Agreed != 2 {
		t.Fatalf("summary = %+v, want a's lease expired at its limit and c's answers agreed", sum)
	}
}

// The items of a holder gone silent (no claim or heartbeat for half a lease) are offered to
// someone else once nothing else is left, well before the lease runs out, and the chunk closes
// without waiting for the silent holder. A heartbeat keeps a holder from being silent.
func TestASilentHoldersItemsAreOfferedAgainNearTheEnd(t *testing.T) {
	ce := newChunkEnv(t)
	a, b, c := annotator("ann-a"), annotator("ann-b"), annotator("ann-c")
	var ca, cb, early, cc outcome[Suite]
	var sa, sc outcome[SubmitResult]
	var beat validated[HeartbeatResult]
	var start time.Time
	ce.step(time.Second, func() { start = ce.env.Now().Add(-time.Second); ce.claim(a, &ca); ce.claim(b, &cb) })
	ce.step(2*time.Second, func() { ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa) })
	ce.step(25*time.Second, func() { ce.heartbeat(b, must(t, "claim b", &cb).ID, &beat) })
	ce.step(35*time.Second, func() { ce.claim(c, &early) }) // b was heard from at 25 s
	ce.step(56*time.Second, func() { ce.claim(c, &cc) })    // silent since 55 s
	ce.step(57*time.Second, func() { ce.submit(c, must(t, "claim of the silent holder's items", &cc), always("cat"), &sc) })
	sum := ce.run(ChunkInput{Settings: presence(), Items: 2})
	must(t, "heartbeat", &beat.outcome)
	rejected(t, "claim while the holder is at work", &early, ErrNoWork)
	if got := must(t, "claim", &cc); len(got.Tasks) != 2 {
		t.Fatalf("claim after the holder fell silent = %+v, want both items", got)
	}
	if closed, leaseEnd := ce.env.Now(), start.Add(85*time.Second); !closed.Before(leaseEnd) {
		t.Fatalf("the chunk closed at %s, after the silent holder's lease ended at %s", closed, leaseEnd)
	}
	if sum.Agreed != 2 || sum.LeasesExpired != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	for _, r := range ce.recorded.Results {
		if len(r.Annotations) != 2 || r.Annotations[1].Worker != "ann-c" {
			t.Fatalf("item %d annotations = %+v, want ann-a's and ann-c's", r.Item, r.Annotations)
		}
	}
}

// Items a silent holder keeps are offered to others only when a claimant would otherwise get
// nothing: while other items are open, those go first.
func TestASilentHolderKeepsTheirItemsWhileOthersAreOpen(t *testing.T) {
	ce := newChunkEnv(t)
	a, b, c, d, e := annotator("ann-a"), annotator("ann-b"), annotator("ann-c"), annotator("ann-d"), annotator("ann-e")
	var ca, cb, cc, cd, cE outcome[Suite]
	ce.step(time.Second, func() { ce.claim(a, &ca); ce.claim(b, &cb) })
	ce.step(35*time.Second, func() { ce.claim(c, &cc) })
	ce.step(36*time.Second, func() { ce.claim(d, &cd) })
	ce.step(37*time.Second, func() { ce.claim(e, &cE) })
	ce.step(38*time.Second, func() {
		for _, p := range []struct {
			w Worker
			o *outcome[Suite]
		}{{a, &ca}, {b, &cb}, {c, &cc}, {d, &cd}, {e, &cE}} {
			var out outcome[SubmitResult]
			ce.submit(p.w, must(t, "claim "+p.w.ID, p.o), always("cat"), &out)
		}
	})
	ce.run(ChunkInput{Settings: presence(), Items: 4})
	items := func(s Suite) []int {
		var out []int
		for _, t := range s.Tasks {
			out = append(out, t.Item)
		}
		return out
	}
	if got := items(must(t, "claim a", &ca)); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("a holds %v", got)
	}
	for name, o := range map[string]*outcome[Suite]{"c": &cc, "d": &cd} {
		if got := items(must(t, "claim "+name, o)); !slices.Equal(got, []int{2, 3}) {
			t.Fatalf("%s got %v while items 2 and 3 were open, want them", name, got)
		}
	}
	if got := items(must(t, "claim e", &cE)); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("e got %v once nothing else was open, want the silent holders' items 0 and 1", got)
	}
}

// Whichever of two holders answers first counts; the other's answer, sent while the chunk is
// open and within its lease, is kept as a late answer: paid with the item, never deciding it. A
// chunk whose items are all final waits for a holder still at work, here the silent holder who
// came back.
func TestTheFirstAnswerCountsAndTheLateOneIsPaid(t *testing.T) {
	for _, silentFirst := range []bool{false, true} {
		name := map[bool]string{false: "the new holder first", true: "the silent holder first"}[silentFirst]
		t.Run(name, func(t *testing.T) {
			ce := newChunkEnv(t)
			a, b, c := annotator("ann-a"), annotator("ann-b"), annotator("ann-c")
			var ca, cb, cc outcome[Suite]
			var sa, sb, sc outcome[SubmitResult]
			var beat validated[HeartbeatResult]
			ce.step(time.Second, func() { ce.claim(a, &ca); ce.claim(b, &cb) })
			ce.step(2*time.Second, func() { ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa) })
			ce.step(35*time.Second, func() { ce.claim(c, &cc) }) // b silent since 31 s
			ce.step(40*time.Second, func() { ce.heartbeat(b, must(t, "claim b", &cb).ID, &beat) })
			// The first answer agrees with a's; the late one does not, and changes nothing.
			cAnswer, bAnswer := "cat", "dog"
			if silentFirst {
				cAnswer, bAnswer = "dog", "cat"
			}
			first, second := func() { ce.submit(c, must(t, "claim c", &cc), always(cAnswer), &sc) },
				func() { ce.submit(b, must(t, "claim b", &cb), always(bAnswer), &sb) }
			if silentFirst {
				first, second = second, first
			}
			ce.step(41*time.Second, first)
			ce.step(45*time.Second, second)
			sum := ce.run(ChunkInput{Settings: presence(), Items: 2})
			counted, late, lateOut := "ann-c", "ann-b", &sb
			if silentFirst {
				counted, late, lateOut = late, counted, &sc
			}
			if r := must(t, "late submit", lateOut); r.Accepted != 2 {
				t.Fatalf("late submit accepted %d answers, want 2", r.Accepted)
			}
			for _, r := range ce.recorded.Results {
				var who []string
				for _, an := range r.Annotations {
					who = append(who, an.Worker)
				}
				if !slices.Equal(who, []string{"ann-a", counted, late}) || r.Method != MethodAgreed || string(r.Final) != `"cat"` {
					t.Fatalf("item %d: %s %s answered by %v, want agreed on cat by ann-a and %s, and the late %s", r.Item, r.Method, r.Final, who, counted, late)
				}
			}
			if sum.Agreed != 2 || sum.Annotations != 4 {
				t.Fatalf("summary = %+v, want 2 agreed items of 2 annotations each", sum)
			}
		})
	}
}

// A chunk whose items are all final waits for a holder still at work, and closes once they fall
// silent, before their lease ends.
func TestAChunkClosesWhenTheLastHolderFallsSilent(t *testing.T) {
	ce := newChunkEnv(t)
	a, b, c := annotator("ann-a"), annotator("ann-b"), annotator("ann-c")
	var ca, cb, cc outcome[Suite]
	var sa, sc outcome[SubmitResult]
	var beat validated[HeartbeatResult]
	var start time.Time
	ce.step(time.Second, func() { start = ce.env.Now().Add(-time.Second); ce.claim(a, &ca); ce.claim(b, &cb) })
	ce.step(2*time.Second, func() { ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa) })
	ce.step(35*time.Second, func() { ce.claim(c, &cc) })
	ce.step(40*time.Second, func() { ce.heartbeat(b, must(t, "claim b", &cb).ID, &beat) })
	ce.step(41*time.Second, func() { ce.submit(c, must(t, "claim c", &cc), always("cat"), &sc) })
	sum := ce.run(ChunkInput{Settings: presence(), Items: 2})
	must(t, "heartbeat", &beat.outcome)
	closed := ce.env.Now().Sub(start)
	if closed < 70*time.Second || closed >= 100*time.Second {
		t.Fatalf("the chunk closed %s after its start, want when b fell silent (70 s), before b's lease ended (100 s)", closed)
	}
	if sum.Agreed != 2 {
		t.Fatalf("summary = %+v", sum)
	}
}

// A reviewer gone silent loses their disputes to a reviewer who has nothing else: their suite
// ends as if it had expired, since an arbitration decides an item alone.
func TestASilentReviewersDisputesGoToAnother(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	r1, r2 := reviewer("rev-1"), reviewer("rev-2")
	var ca, cb, c1, early, c2 outcome[Suite]
	var sa, sb, s1, s2 outcome[SubmitResult]
	var beat validated[HeartbeatResult]
	ce.step(time.Second, func() { ce.claim(a, &ca); ce.claim(b, &cb) })
	ce.step(2*time.Second, func() {
		ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
		ce.submit(b, must(t, "claim b", &cb), always("dog"), &sb)
	})
	ce.step(3*time.Second, func() { ce.claim(r1, &c1) })
	ce.step(10*time.Second, func() { ce.claim(r2, &early) })
	ce.step(34*time.Second, func() { ce.claim(r2, &c2) }) // r1 silent since 33 s
	ce.step(35*time.Second, func() {
		ce.submit(r1, must(t, "claim r1", &c1), always("cat"), &s1)
		ce.heartbeat(r1, must(t, "claim r1", &c1).ID, &beat)
		ce.submit(r2, must(t, "claim r2", &c2), always("dog"), &s2)
	})
	sum := ce.run(ChunkInput{Settings: presence(), Items: 2})
	rejected(t, "claim while r1 is at work", &early, ErrNoWork)
	if got := must(t, "claim r2", &c2); got.Kind != KindArbitrate || len(got.Tasks) != 2 {
		t.Fatalf("r2's claim = %+v, want both disputes", got)
	}
	rejected(t, "submit by the silent reviewer", &s1, ErrUnknownSuite)
	rejected(t, "heartbeat by the silent reviewer", &beat.outcome, ErrUnknownSuite)
	must(t, "submit r2", &s2)
	if sum.Arbitrated != 2 || sum.LeasesExpired != 1 {
		t.Fatalf("summary = %+v, want both arbitrated by r2 and r1's lease ended", sum)
	}
	for _, r := range ce.recorded.Results {
		if r.Arbitration == nil || r.Arbitration.Worker != "rev-2" {
			t.Fatalf("item %d arbitration = %+v", r.Item, r.Arbitration)
		}
	}
}

// A top reviewer whose silent suite was ended does not keep the next disputes from a less
// accurate reviewer by their rank: they are no longer counted at work.
func TestASilentTopReviewerDoesNotOutrankOthers(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	top, r2, r3 := reviewer("rev-top"), reviewer("rev-2"), reviewer("rev-3")
	top.Accuracy, r2.Accuracy, r3.Accuracy = 0.99, 0.9, 0.8
	var ca, cb, ca2, cb2, cTop, c2, c3 outcome[Suite]
	var sa, sb, sa2, sb2, s2, s3 outcome[SubmitResult]
	ce.step(time.Second, func() { ce.claim(a, &ca); ce.claim(b, &cb) })
	ce.step(2*time.Second, func() {
		ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
		ce.submit(b, must(t, "claim b", &cb), always("dog"), &sb)
	})
	ce.step(3*time.Second, func() { ce.claim(top, &cTop) })
	ce.step(34*time.Second, func() { ce.claim(r2, &c2) }) // top silent since 33 s: r2 takes the disputes
	ce.step(35*time.Second, func() { ce.claim(a, &ca2); ce.claim(b, &cb2) })
	ce.step(36*time.Second, func() {
		ce.submit(a, must(t, "second claim a", &ca2), always("cat"), &sa2)
		ce.submit(b, must(t, "second claim b", &cb2), always("dog"), &sb2)
	})
	ce.step(37*time.Second, func() { ce.claim(r3, &c3) }) // top was seen at 3 s, within a lease
	ce.step(38*time.Second, func() {
		ce.submit(r2, must(t, "claim r2", &c2), always("cat"), &s2)
		ce.submit(r3, must(t, "claim r3", &c3), always("cat"), &s3)
	})
	sum := ce.run(ChunkInput{Settings: presence(), Items: 4})
	if got := must(t, "claim r3", &c3); got.Kind != KindArbitrate || len(got.Tasks) != 2 {
		t.Fatalf("r3's claim = %+v, want the two new disputes", got)
	}
	if sum.Arbitrated != 4 {
		t.Fatalf("summary = %+v, want 4 items arbitrated", sum)
	}
}
