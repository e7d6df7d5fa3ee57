package workflows

import (
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/spec"
)

func rated(w Worker, accuracy float64) Worker { w.Accuracy = accuracy; return w }

// dispute has two annotators claim the next items and answer them differently, in two steps.
func (ce *chunkEnv) dispute(a, b Worker) []func() {
	var ca, cb outcome[Suite]
	var sa, sb outcome[SubmitResult]
	return []func(){
		func() { ce.claim(a, &ca); ce.claim(b, &cb) },
		func() {
			ce.submit(a, must(ce.t, "claim "+a.ID, &ca), always("cat"), &sa)
			ce.submit(b, must(ce.t, "claim "+b.ID, &cb), always("dog"), &sb)
		},
	}
}

// arbitrate has a reviewer claim and answer "dog" to everything, in two steps.
func (ce *chunkEnv) arbitrate(r Worker, c *outcome[Suite], s *outcome[SubmitResult]) []func() {
	return []func(){
		func() { ce.claim(r, c) },
		func() { ce.submit(r, must(ce.t, "claim by "+r.ID, c), always("dog"), s) },
	}
}

func steps(parts ...[]func()) []func() {
	var out []func()
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func arbitrators(ce *chunkEnv) map[string]int {
	by := map[string]int{}
	for _, r := range ce.recorded.Results {
		if r.Arbitration != nil {
			by[r.Arbitration.Worker]++
		}
	}
	return by
}

func outrankedRefusal(t *testing.T, what string, o *outcome[Suite]) {
	t.Helper()
	rejected(t, what, o, ErrNoWork)
	if NoWorkReason(o.err) != NoWorkOutranked || !strings.Contains(o.err.Error(), "more accurate reviewers") {
		t.Fatalf("%s: refused without saying more accurate reviewers take the disputes: %v", what, o.err)
	}
}

func TestDisputesGoToTheMostAccurateReviewer(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	best, other := rated(reviewer("rev-z-best"), 0.95), rated(reviewer("rev-a-other"), 0.85)
	var cb1, cb2, co outcome[Suite]
	var sb1, sb2 outcome[SubmitResult]
	ce.script(steps(
		ce.dispute(a, b),
		ce.arbitrate(best, &cb1, &sb1), // best is now a reviewer at work
		ce.dispute(a, b),               // two disputes: one suite's worth
		[]func(){
			func() { ce.claim(other, &co); ce.claim(best, &cb2) },
			func() { ce.submit(best, must(t, "second claim by best", &cb2), always("dog"), &sb2) },
		},
	)...)
	ce.run(ChunkInput{Settings: settings(), Items: 4})
	outrankedRefusal(t, "less accurate reviewer while the disputes fit one suite", &co)
	if got := arbitrators(ce); got["rev-z-best"] != 4 || len(got) != 1 {
		t.Fatalf("arbitrations by reviewer = %v, want all 4 by rev-z-best", got)
	}
}

func TestEquallyAccurateReviewersRankByID(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	revA, revB := rated(reviewer("rev-a"), 0.8), rated(reviewer("rev-b"), 0.8)
	var cb1, ca1, cb2, ca2 outcome[Suite]
	var sb1, sa1, sa2 outcome[SubmitResult]
	ce.script(steps(
		ce.dispute(a, b),
		ce.arbitrate(revB, &cb1, &sb1),
		ce.dispute(a, b),
		ce.arbitrate(revA, &ca1, &sa1), // rev-b, seen and idle, ranks below rev-a
		ce.dispute(a, b),
		[]func(){
			func() { ce.claim(revB, &cb2); ce.claim(revA, &ca2) },
			func() { ce.submit(revA, must(t, "second claim by rev-a", &ca2), always("dog"), &sa2) },
		},
	)...)
	ce.run(ChunkInput{Settings: settings(), Items: 6})
	outrankedRefusal(t, "rev-b's claim while rev-a is at work", &cb2)
	if got := arbitrators(ce); got["rev-a"] != 4 || got["rev-b"] != 2 {
		t.Fatalf("arbitrations by reviewer = %v, want 4 by rev-a and 2 by rev-b", got)
	}
}

// claimInTurn has first and then second claim, each in a step of its own, then both answer "dog".
func (ce *chunkEnv) claimInTurn(first, second Worker, cf, cs *outcome[Suite], sf, ss *outcome[SubmitResult]) []func() {
	return []func(){
		func() { ce.claim(first, cf) },
		func() { ce.claim(second, cs) },
		func() {
			ce.submit(first, must(ce.t, "claim by "+first.ID, cf), always("dog"), sf)
			ce.submit(second, must(ce.t, "claim by "+second.ID, cs), always("dog"), ss)
		},
	}
}

// backlog has rev-best (0.95) arbitrate the first dispute, lets four more open (two suites'
// worth), then runs last; it returns how many items each reviewer arbitrated.
func backlog(t *testing.T, last func(ce *chunkEnv, best, other Worker) []func()) map[string]int {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	best, other := rated(reviewer("rev-best"), 0.95), rated(reviewer("rev-other"), 0.85)
	var c outcome[Suite]
	var s outcome[SubmitResult]
	ce.script(steps(ce.dispute(a, b), ce.arbitrate(best, &c, &s), ce.dispute(a, b), ce.dispute(a, b), last(ce, best, other))...)
	ce.run(ChunkInput{Settings: settings(), Items: 6})
	return arbitrators(ce)
}

// Two reviewers meet four open disputes (two suites' worth) after best's first arbitration. Either
// way round, other gets a suite: when other claims first, the backlog is more than best alone can
// take; when best claims first, best then holds a suite and the two disputes left are not theirs
// to hold back.
func TestABacklogOrABusyTopReviewerLetsOthersIn(t *testing.T) {
	for _, bestFirst := range []bool{false, true} {
		var cb, co outcome[Suite]
		var sb, so outcome[SubmitResult]
		got := backlog(t, func(ce *chunkEnv, best, other Worker) []func() {
			if bestFirst {
				return ce.claimInTurn(best, other, &cb, &co, &sb, &so)
			}
			return ce.claimInTurn(other, best, &co, &cb, &so, &sb)
		})
		if got["rev-best"] != 4 || got["rev-other"] != 2 {
			t.Fatalf("best first %v: arbitrations by reviewer = %v, want 4 by rev-best and 2 by rev-other", bestFirst, got)
		}
	}
}

func TestAStaleTopReviewerStopsBlocking(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings() // lease 10 minutes
	a, b := annotator("ann-a"), annotator("ann-b")
	best, other := rated(reviewer("rev-best"), 0.95), rated(reviewer("rev-other"), 0.85)
	var cb, early, later, late outcome[Suite]
	var sb, sl outcome[SubmitResult]
	// best claims the first disputes at 3s and takes until 5m to answer them; two more disputes
	// open meanwhile.
	ce.script(steps(ce.dispute(a, b), []func(){func() { ce.claim(best, &cb) }}, ce.dispute(a, b))...)
	ce.step(5*time.Minute, func() { ce.submit(best, must(t, "claim by best", &cb), always("dog"), &sb) })
	ce.step(5*time.Minute+time.Second, func() { ce.claim(other, &early) })
	// Their submission, not only their claim, shows best at work: still ahead of other at 10m30s.
	ce.step(10*time.Minute+30*time.Second, func() { ce.claim(other, &later) })
	// Not seen for a lease since 5m: best no longer holds the disputes back.
	ce.step(5*time.Minute+set.Lease+time.Second, func() { ce.claim(other, &late) })
	ce.step(5*time.Minute+set.Lease+2*time.Second, func() {
		ce.submit(other, must(t, "claim once best is stale", &late), always("dog"), &sl)
	})
	ce.run(ChunkInput{Settings: set, Items: 4})
	outrankedRefusal(t, "claim right after best submitted", &early)
	outrankedRefusal(t, "claim within a lease of best's submission", &later)
	if got := arbitrators(ce); got["rev-best"] != 2 || got["rev-other"] != 2 {
		t.Fatalf("arbitrations by reviewer = %v, want 2 each", got)
	}
}

func TestATopReviewerDoesNotBlockDisputesTheyAbandoned(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings()
	a, b := annotator("ann-a"), annotator("ann-b")
	best, other := rated(reviewer("rev-best"), 0.95), rated(reviewer("rev-other"), 0.85)
	var abandoned, cb, co outcome[Suite]
	var sb, so outcome[SubmitResult]
	// best claims the disputes on items 0 and 1 and lets the lease run out: they are never
	// offered to best again.
	ce.script(steps(ce.dispute(a, b), []func(){func() { ce.claim(best, &abandoned) }}, ce.dispute(a, b))...)
	at := 3*time.Second + set.Lease
	// Back at work, best answers the disputes on items 2 and 3 and is idle again.
	ce.step(at+time.Second, func() { ce.claim(best, &cb) })
	ce.step(at+2*time.Second, func() { ce.submit(best, must(t, "claim by best after the expiry", &cb), always("dog"), &sb) })
	ce.step(at+3*time.Second, func() { ce.claim(other, &co) })
	ce.step(at+4*time.Second, func() { ce.submit(other, must(t, "claim of what best abandoned", &co), always("dog"), &so) })
	ce.run(ChunkInput{Settings: set, Items: 4})
	for _, r := range ce.recorded.Results {
		want := "rev-best"
		if r.Item < 2 {
			want = "rev-other"
		}
		if r.Arbitration == nil || r.Arbitration.Worker != want {
			t.Fatalf("item %d arbitrated by %+v, want %s", r.Item, r.Arbitration, want)
		}
	}
}

func TestReviewersSeenSurviveContinueAsNew(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings()
	set.MaxUpdatesPerRun = 6
	a, b := annotator("ann-a"), annotator("ann-b")
	best, other := rated(reviewer("rev-best"), 0.95), rated(reviewer("rev-other"), 0.85)
	var cb outcome[Suite]
	var sb outcome[SubmitResult]
	ce.script(steps(ce.dispute(a, b), ce.arbitrate(best, &cb, &sb))...)
	ce.env.ExecuteWorkflow(ChunkWorkflow, sealed(testWorkflowID, ActionStart, ChunkInput{Settings: set, Items: 4}))
	var next ChunkInput
	continuedAsNew(t, ce.env, &next)
	seen := next.State.Reviewers
	if len(seen) != 1 || seen[0].ID != "rev-best" || seen[0].Accuracy != 0.95 || seen[0].LastSeen.IsZero() {
		t.Fatalf("reviewers carried over = %+v", seen)
	}

	// In the next run, a minute later, best still outranks the other reviewer.
	ce2 := newChunkEnv(t)
	ce2.env.SetStartTime(seen[0].LastSeen.Add(time.Minute))
	var co, cb2 outcome[Suite]
	var sb2 outcome[SubmitResult]
	ce2.script(steps(ce2.dispute(a, b), []func(){
		func() { ce2.claim(other, &co); ce2.claim(best, &cb2) },
		func() { ce2.submit(best, must(t, "claim by best in the next run", &cb2), always("dog"), &sb2) },
	})...)
	next.Settings.MaxUpdatesPerRun = 100
	ce2.run(next)
	outrankedRefusal(t, "less accurate reviewer in the next run", &co)
}

func TestGoldDisputeIsArbitratedAndNotCountedAsDelivered(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings()
	set.SuiteSize = 3
	a, b, r := annotator("ann-a"), annotator("ann-b"), reviewer("rev-r")
	var ca, cb, cr outcome[Suite]
	var sa, sb, sr outcome[SubmitResult]
	var waiting ChunkStatus
	ce.script(
		func() { ce.claim(a, &ca); ce.claim(b, &cb) },
		func() {
			ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
			// b agrees on the two ordinary items and not on the gold one (item 2).
			ce.submit(b, must(t, "claim b", &cb), func(i int) label.Answer {
				if i == 2 {
					return ans("dog")
				}
				return ans("cat")
			}, &sb)
		},
		func() {
			v, err := ce.env.QueryWorkflow(QueryStatus)
			if err != nil {
				t.Fatal(err)
			}
			_ = v.Get(&waiting)
			ce.claim(r, &cr)
		},
		func() {
			s := must(t, "reviewer claim", &cr)
			// The reviewer sees a dispute like any other: the gold item with both answers.
			if s.Kind != KindArbitrate || len(s.Tasks) != 1 || s.Tasks[0].Item != 2 || len(s.Tasks[0].Answers) != 2 {
				t.Fatalf("reviewer suite = %+v", s)
			}
			ce.submit(r, s, always("dog"), &sr)
		},
	)
	sum := ce.run(ChunkInput{Settings: set, Items: 3, Gold: 1})
	must(t, "reviewer submit", &sr)
	if waiting.AwaitingArbitration != 1 || waiting.Final != 2 {
		t.Fatalf("status while the gold dispute waits = %+v", waiting)
	}
	// Gold items are not delivered: the chunk's counts are of its two ordinary items.
	if sum.Items != 2 || sum.Agreed != 2 || sum.Arbitrated != 0 {
		t.Fatalf("summary = %+v", sum)
	}
	g := ce.recorded.Results[2]
	if g.Method != MethodArbitrated || g.Arbitration == nil || g.Arbitration.Worker != "rev-r" || string(g.Final) != `"dog"` || len(g.Annotations) != 2 {
		t.Fatalf("gold result = %+v", g)
	}
}

func TestAgreeingGoldIsFinalWithoutAReviewer(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings()
	set.SuiteSize = 3
	a, b := annotator("ann-a"), annotator("ann-b")
	var ca, cb outcome[Suite]
	var sa, sb outcome[SubmitResult]
	ce.script(
		func() { ce.claim(a, &ca); ce.claim(b, &cb) },
		func() {
			ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
			ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb)
		},
	)
	ce.run(ChunkInput{Settings: set, Items: 3, Gold: 1})
	if g := ce.recorded.Results[2]; g.Method != MethodGold || g.Arbitration != nil {
		t.Fatalf("gold result = %+v", g)
	}
}

// overlapRun has two annotators of the given accuracy agree on one item under dynamic overlap,
// then a third, very accurate annotator claim (if the chunk is still open) and agree. It returns
// the third claim's outcome and the status before it.
func overlapRun(t *testing.T, accuracy float64) (*chunkEnv, ChunkSummary, *outcome[Suite], ChunkStatus) {
	ce := newChunkEnv(t)
	set := settings()
	set.Overlap = spec.Overlap{Mode: "dynamic", ConfidenceTarget: 0.9, MaxAnnotations: 4}
	a, b := rated(annotator("ann-a"), accuracy), rated(annotator("ann-b"), accuracy)
	c := rated(annotator("ann-c"), 0.95)
	var ca, cb, cc outcome[Suite]
	var sa, sb, sc outcome[SubmitResult]
	var status ChunkStatus
	ce.script(
		func() { ce.claim(a, &ca); ce.claim(b, &cb) },
		func() {
			ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
			ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb)
		},
		func() {
			if v, err := ce.env.QueryWorkflow(QueryStatus); err == nil {
				_ = v.Get(&status)
			}
			ce.claim(c, &cc)
		},
		func() {
			if cc.ok && cc.err == nil {
				ce.submit(c, cc.val, always("cat"), &sc)
			}
		},
	)
	sum := ce.run(ChunkInput{Settings: set, Items: 1})
	return ce, sum, &cc, status
}

func TestOverlapWeighsAgreementByAccuracy(t *testing.T) {
	// Two cats at 0.6: 0.36 / (0.36 + 0.16) = 0.69 < 0.9, so a third annotator is asked; with a
	// third cat at 0.95: 0.342 / (0.342 + 0.008) = 0.977, settled by overlap.
	ce, sum, third, status := overlapRun(t, 0.6)
	if status.Final != 0 {
		t.Fatalf("two agreeing answers at 0.6 settled the item: %+v", status)
	}
	must(t, "third annotator's claim after a weak agreement", third)
	r := ce.recorded.Results[0]
	if sum.Overlap != 1 || sum.Agreed != 0 || r.Method != MethodOverlap || len(r.Annotations) != 3 || string(r.Final) != `"cat"` {
		t.Fatalf("summary = %+v, result = %+v", sum, r)
	}
	if r.Annotations[0].Accuracy != 0.6 || r.Annotations[2].Accuracy != 0.95 {
		t.Fatalf("annotations do not carry the claimers' accuracies: %+v", r.Annotations)
	}

	// Two cats at 0.9: 0.81 / (0.81 + 0.01) = 0.988, agreed at once; nobody else is asked.
	ce, sum, third, _ = overlapRun(t, 0.9)
	if third.ok && third.err == nil {
		t.Fatalf("a third annotator was asked after a strong agreement: %+v", third.val)
	}
	if r := ce.recorded.Results[0]; sum.Agreed != 1 || sum.Overlap != 0 || r.Method != MethodAgreed || len(r.Annotations) != 2 {
		t.Fatalf("summary = %+v, result = %+v", sum, r)
	}
}

// Runs started before accuracy-aware assignment keep their behaviour: gold is never arbitrated,
// reviewers are not ranked and every annotator weighs the default accuracy.
func TestBeforeAccuracyAwareAssignment(t *testing.T) {
	t.Run("gold is scored, not arbitrated", func(t *testing.T) {
		ce := newChunkEnv(t)
		ce.startedBefore(versionAccuracyAware)
		set := settings()
		set.SuiteSize = 3
		a, b := annotator("ann-a"), annotator("ann-b")
		var ca, cb outcome[Suite]
		var sa, sb outcome[SubmitResult]
		ce.script(
			func() { ce.claim(a, &ca); ce.claim(b, &cb) },
			func() {
				ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
				ce.submit(b, must(t, "claim b", &cb), func(i int) label.Answer {
					if i == 2 {
						return ans("dog")
					}
					return ans("cat")
				}, &sb)
			},
		)
		// The chunk finishes without any reviewer.
		sum := ce.run(ChunkInput{Settings: set, Items: 3, Gold: 1})
		if r := ce.recorded.Results[2]; sum.Agreed != 2 || r.Method != MethodGold || r.Arbitration != nil {
			t.Fatalf("summary = %+v, gold result = %+v", sum, r)
		}
	})
	t.Run("reviewers are not ranked", func(t *testing.T) {
		ce := newChunkEnv(t)
		ce.startedBefore(versionAccuracyAware)
		a, b := annotator("ann-a"), annotator("ann-b")
		best, other := rated(reviewer("rev-best"), 0.95), rated(reviewer("rev-other"), 0.85)
		var cb1, co outcome[Suite]
		var sb1, so outcome[SubmitResult]
		ce.script(steps(ce.dispute(a, b), ce.arbitrate(best, &cb1, &sb1), ce.dispute(a, b), ce.arbitrate(other, &co, &so))...)
		ce.run(ChunkInput{Settings: settings(), Items: 4})
		if got := arbitrators(ce); got["rev-best"] != 2 || got["rev-other"] != 2 {
			t.Fatalf("arbitrations by reviewer = %v", got)
		}
	})
	t.Run("agreement at low accuracy still settles", func(t *testing.T) {
		ce := newChunkEnv(t)
		ce.startedBefore(versionAccuracyAware)
		set := settings()
		set.Overlap = spec.Overlap{Mode: "dynamic", ConfidenceTarget: 0.9, MaxAnnotations: 4}
		a, b := rated(annotator("ann-a"), 0.6), rated(annotator("ann-b"), 0.6)
		var ca, cb outcome[Suite]
		var sa, sb outcome[SubmitResult]
		ce.script(
			func() { ce.claim(a, &ca); ce.claim(b, &cb) },
			func() {
				ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
				ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb)
			},
		)
		if sum := ce.run(ChunkInput{Settings: set, Items: 1}); sum.Agreed != 1 {
			t.Fatalf("summary = %+v", sum)
		}
	})
}

// The reason a reviewer is refused must survive the trip through the server to the gateway.
func TestNoWorkReasonSurvivesTheFailureConverter(t *testing.T) {
	err := temporal.NewApplicationError("more accurate reviewers are taking the open disputes", ErrNoWork, NoWorkDetail{Reason: NoWorkOutranked})
	fc := temporal.GetDefaultFailureConverter()
	back := fc.FailureToError(fc.ErrorToFailure(err))
	if ErrorKind(back) != ErrNoWork || NoWorkReason(back) != NoWorkOutranked {
		t.Fatalf("after conversion: kind %q reason %q (%v)", ErrorKind(back), NoWorkReason(back), back)
	}
	if NoWorkReason(temporal.NewApplicationError("no work", ErrNoWork)) != "" {
		t.Fatal("a plain refusal carries a reason")
	}
}

// A reviewer below the project's minimum accuracy arbitrates disputed gold items only: they are
// scored on them, and that is how they earn their way back; real disputes wait for others.
func TestReviewerBelowThresholdArbitratesGoldOnly(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings()
	set.SuiteSize = 4
	set.MinAccuracy = 0.7
	a, b := rated(annotator("ann-a"), 0.8), rated(annotator("ann-b"), 0.8)
	weak, strong := rated(reviewer("rev-weak"), 0.5), rated(reviewer("rev-strong"), 0.9)
	var ca, cb, cw, cs outcome[Suite]
	var sa, sb, sw, ss outcome[SubmitResult]
	// b disagrees with a on item 0 (ordinary) and item 3 (gold).
	disagree := func(i int) label.Answer {
		if i == 0 || i == 3 {
			return ans("dog")
		}
		return ans("cat")
	}
	ce.script(
		func() { ce.claim(a, &ca); ce.claim(b, &cb) },
		func() {
			ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa)
			ce.submit(b, must(t, "claim b", &cb), disagree, &sb)
		},
		func() { ce.claim(weak, &cw) },
		func() {
			s := must(t, "weak reviewer claim", &cw)
			if s.Kind != KindArbitrate || len(s.Tasks) != 1 || s.Tasks[0].Item != 3 {
				t.Fatalf("weak reviewer suite = %+v, want the gold dispute only", s)
			}
			ce.submit(weak, s, always("cat"), &sw)
			ce.claim(strong, &cs)
		},
		func() {
			s := must(t, "strong reviewer claim", &cs)
			if len(s.Tasks) != 1 || s.Tasks[0].Item != 0 {
				t.Fatalf("strong reviewer suite = %+v, want the ordinary dispute", s)
			}
			ce.submit(strong, s, always("cat"), &ss)
		},
	)
	ce.run(ChunkInput{Settings: set, Items: 4, Gold: 1})
	must(t, "weak submit", &sw)
	must(t, "strong submit", &ss)
	if g := ce.recorded.Results[3]; g.Arbitration == nil || g.Arbitration.Worker != "rev-weak" {
		t.Fatalf("gold result = %+v", g)
	}
	if r := ce.recorded.Results[0]; r.Arbitration == nil || r.Arbitration.Worker != "rev-strong" {
		t.Fatalf("ordinary result = %+v", r)
	}
}

// Someone who let a lease run out is not offered those items again for two leases; after that
// they are, so that a small crowd who all walked away from an item can still finish it.
func TestAnExclusionLapsesAfterTwoLeases(t *testing.T) {
	ce := newChunkEnv(t)
	set := settings() // lease 10 minutes
	a, b, r := annotator("ann-a"), annotator("ann-b"), reviewer("rev-r")
	var first, soon, later outcome[Suite]
	var sr outcome[SubmitResult]
	ce.script(steps(ce.dispute(a, b), []func(){func() { ce.claim(r, &first) }})...) // and walks away
	ce.step(set.Lease+time.Minute, func() { ce.claim(r, &soon) })
	ce.step(3*set.Lease+time.Minute, func() { ce.claim(r, &later) })
	ce.step(3*set.Lease+2*time.Minute, func() { ce.submit(r, must(t, "claim after the exclusion lapsed", &later), always("cat"), &sr) })
	ce.run(ChunkInput{Settings: set, Items: 1})
	must(t, "first claim", &first)
	if soon.err == nil {
		t.Fatalf("offered again within two leases of walking away: %+v", soon.val)
	}
	must(t, "arbitration", &sr)
	if res := ce.recorded.Results[0]; res.Arbitration == nil || res.Arbitration.Worker != "rev-r" {
		t.Fatalf("result = %+v", res)
	}
}

// startedBefore makes the chunk run as one started before change id (and before the bundle that
// carries it).
func (ce *chunkEnv) startedBefore(id changeID) {
	ce.env.OnGetVersion(string(changesBundle), workflow.DefaultVersion, bundleVersion).Return(workflow.DefaultVersion)
	ce.env.OnGetVersion(string(id), workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
}
