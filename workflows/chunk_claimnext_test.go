package workflows

import (
	"slices"
	"testing"
)

// A submission that asks for the next suite gets it in the same Update; a repeated claim then
// gets that suite, and a submission with nothing left for its author gets none.
func TestSubmitLeasesTheNextSuiteWhenAsked(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	var ca, again, cb, cb2 outcome[Suite]
	var sa, sa2, sb, sb2 outcome[SubmitResult]
	var first Suite
	ce.script(
		func() { ce.claim(a, &ca) },
		func() {
			first = must(t, "claim a", &ca)
			ce.submitNext(a, first, &sa)
		},
		func() {
			next := must(t, "submit a", &sa).Next
			if next == nil || next.Worker != a.ID || len(next.Tasks) != 2 || next.ID == first.ID {
				t.Fatalf("next suite = %+v, want a new suite of 2 items for %s", next, a.ID)
			}
			if items := []int{next.Tasks[0].Item, next.Tasks[1].Item}; slices.Contains(items, first.Tasks[0].Item) {
				t.Fatalf("next suite offers items %v that %s already answered", items, a.ID)
			}
			ce.claim(a, &again)
		},
		func() {
			held, ok := HeldSuite(again.err)
			if !ok || held.ID != must(t, "submit a", &sa).Next.ID {
				t.Fatalf("repeated claim = %v, want the suite leased with the submission", again.err)
			}
			ce.submitNext(a, held, &sa2)
		},
		func() {
			if next := must(t, "second submit a", &sa2).Next; next != nil {
				t.Fatalf("next suite = %+v, want none: %s answered every item", next, a.ID)
			}
			ce.claim(b, &cb)
		},
		func() { ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb) },
		func() { must(t, "submit b", &sb); ce.claim(b, &cb2) },
		func() { ce.submit(b, must(t, "second claim b", &cb2), always("cat"), &sb2) },
	)
	sum := ce.run(ChunkInput{Settings: settings(), Chunk: 0, Items: 4})
	must(t, "second submit b", &sb2)
	if sum.Agreed != 4 || sum.Annotations != 8 {
		t.Fatalf("summary = %+v", sum)
	}
}

// A claim refused for want of work says what the chunk still has for others, so that the
// gateway can tell a chunk with nothing left from one with nothing for this person.
func TestNoWorkCarriesTheChunksOpenings(t *testing.T) {
	ce := newChunkEnv(t)
	a, b, c := annotator("ann-a"), annotator("ann-b"), annotator("ann-c")
	var ca, cb, ca2, cc outcome[Suite]
	var sa, sb outcome[SubmitResult]
	ce.script(
		func() { ce.claim(a, &ca) },
		func() { ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa) },
		func() { must(t, "submit a", &sa); ce.claim(a, &ca2) },
		func() {
			rejected(t, "claim a again", &ca2, ErrNoWork)
			if open, ok := NoWorkOpenings(ca2.err); !ok || open.Annotate != 2 {
				t.Fatalf("openings = %+v, %v; want 2 items open to others", open, ok)
			}
			ce.claim(b, &cb)
		},
		func() { must(t, "claim b", &cb); ce.claim(c, &cc) },
		func() {
			rejected(t, "claim c", &cc, ErrNoWork)
			if open, ok := NoWorkOpenings(cc.err); !ok || open.Annotate != 0 {
				t.Fatalf("openings = %+v, %v; want none left", open, ok)
			}
			ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb)
		},
	)
	ce.run(ChunkInput{Settings: settings(), Chunk: 0, Items: 2})
	must(t, "submit b", &sb)
}

func (ce *chunkEnv) submitNext(w Worker, s Suite, out *outcome[SubmitResult]) {
	req := SubmitRequest{Worker: w, SuiteID: s.ID, ClaimNext: true}
	for _, t := range s.Tasks {
		req.Answers = append(req.Answers, TaskAnswer{Item: t.Item, Answer: ans("cat")})
	}
	ce.submitReq(req, out)
}

// Once every item is answered or leased, the chunk tells its project, once.
func TestChunkReportsDrainedOnce(t *testing.T) {
	ce := newChunkEnv(t)
	a, b := annotator("ann-a"), annotator("ann-b")
	var ca, cb outcome[Suite]
	var sa, sb outcome[SubmitResult]
	ce.script(
		func() { ce.claim(a, &ca) },
		func() {
			if len(ce.drained) != 0 {
				t.Fatalf("drained reported %v with items still open", ce.drained)
			}
			ce.claim(b, &cb)
		},
		func() { ce.submit(a, must(t, "claim a", &ca), always("cat"), &sa) },
		func() { ce.submit(b, must(t, "claim b", &cb), always("cat"), &sb) },
	)
	ce.run(ChunkInput{Settings: settings(), Chunk: 3, Items: 2, ProjectWorkflowID: "project-p1"})
	if len(ce.drained) != 1 || ce.drained[0] != 3 {
		t.Fatalf("drained reports = %v, want chunk 3 once", ce.drained)
	}
}

// A reviewer's submission leases their next disputes in the same Update; a run started before
// that change leases nothing with it, and the reviewer claims as before.
func TestReviewerSubmissionLeasesTheNextDisputes(t *testing.T) {
	for _, before := range []bool{false, true} {
		ce := newChunkEnv(t)
		if before {
			ce.startedBefore(versionNextForEveryone)
		}
		a, b, r := annotator("ann-a"), annotator("ann-b"), rated(reviewer("rev-r"), 0.9)
		var cr, cr2 outcome[Suite]
		var sr, sr2 outcome[SubmitResult]
		ce.script(steps(ce.dispute(a, b), ce.dispute(a, b), []func(){
			func() { ce.claim(r, &cr) },
			func() { ce.submitNext(r, must(t, "claim r", &cr), &sr) },
			func() {
				next := must(t, "submit r", &sr).Next
				switch {
				case before && next != nil:
					t.Fatalf("next suite = %+v, want none in a run started before the change", next)
				case before:
					ce.claim(r, &cr2)
				case next == nil || next.Kind != KindArbitrate || len(next.Tasks) != 2:
					t.Fatalf("next suite = %+v, want the other two disputes", next)
				default:
					cr2 = outcome[Suite]{val: *next, ok: true}
				}
			},
			func() { ce.submit(r, must(t, "second suite of r", &cr2), always("dog"), &sr2) },
		})...)
		ce.run(ChunkInput{Settings: settings(), Items: 4})
		if got := arbitrators(ce); got["rev-r"] != 4 {
			t.Fatalf("before=%v: arbitrations by reviewer = %v, want 4 by rev-r", before, got)
		}
	}
}
