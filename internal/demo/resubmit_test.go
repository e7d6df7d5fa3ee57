package demo

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workflows"
)

// A submission repeated after its chunk closed (the answer to the first was lost) gets the
// original answer from the chunk's record, not "unknown suite". A suite given back with release
// is offered again at once.
func TestSubmitRepeatedAfterTheChunkClosed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := env.App
	data, _ := Dataset(4, 5)
	if err := a.Store.PutIn(ctx, IntakeBucket, "acme/reviews.manifest", data); err != nil {
		t.Fatal(err)
	}
	p, err := spec.Parse("resubmit.yaml", []byte(SpecYAML("it-resubmit", env.Cfg.StoreEndpoint, 10, time.Minute, "", "")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Launch(ctx, signIn(ctx, t, a, OpsDemo), p); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Roster.Import(ctx, roster(t)); err != nil {
		t.Fatal(err)
	}
	base := env.GatewayURL + "/v1/projects/it-resubmit"

	released := claimSuite(t, tokAmina, base)
	var rel struct {
		SuiteID  string `json:"suite_id"`
		Released bool   `json:"released"`
	}
	mustJSON(t, call(t, tokAmina, "POST", base+"/suites/"+released.ID+"/release", nil, 200, ""), &rel)
	if rel.SuiteID != released.ID || !rel.Released {
		t.Fatalf("release = %+v", rel)
	}
	call(t, tokAmina, "POST", base+"/suites/"+released.ID+"/release", nil, 404, "unknown_suite")

	first, submits, bodies := map[string][]byte{}, map[string]string{}, map[string]any{}
	for _, tok := range []string{tokAmina, tokGrace} {
		s := claimSuite(t, tok, base)
		submits[tok], bodies[tok] = base+"/suites/"+s.ID+"/submit", s.answers("positive")
		first[tok] = call(t, tok, "POST", submits[tok], bodies[tok], 200, "")
	}
	// The chunk closes once both have answered every item alike.
	run := a.Temporal.GetWorkflow(ctx, workflows.ChunkWorkflowID("it-resubmit", 0), "")
	if err := run.Get(ctx, nil); err != nil {
		t.Fatalf("chunk workflow: %v", err)
	}
	for _, tok := range []string{tokAmina, tokGrace} {
		again := call(t, tok, "POST", submits[tok], bodies[tok], 200, "")
		if !bytes.Equal(again, first[tok]) {
			t.Fatalf("submit repeated after the chunk closed answered %s, want %s", again, first[tok])
		}
	}
	call(t, tokFrench, "POST", submits[tokAmina], bodies[tokAmina], 403, "wrong_annotator")
	call(t, tokAmina, "POST", base+"/suites/"+released.ID+"/submit", bodies[tokAmina], 404, "unknown_suite")
}

// claimedSuite is a suite as a test claims it over HTTP.
type claimedSuite struct {
	ID    string `json:"id"`
	Tasks []struct {
		Item int `json:"item"`
	} `json:"tasks"`
}

// answers answers every task of s with label.
func (s claimedSuite) answers(label string) map[string]any {
	var as []map[string]any
	for _, task := range s.Tasks {
		as = append(as, map[string]any{"item": task.Item, "answer": label})
	}
	return map[string]any{"answers": as}
}

// claimSuite claims until a suite is offered (the project may still be chunking).
func claimSuite(t *testing.T, token, base string) claimedSuite {
	t.Helper()
	var claim struct {
		Suite *claimedSuite `json:"suite"`
	}
	for deadline := time.Now().Add(time.Minute); claim.Suite == nil; {
		mustJSON(t, call(t, token, "POST", base+"/claim", nil, 200, ""), &claim)
		if claim.Suite == nil {
			if time.Now().After(deadline) {
				t.Fatal("no suite offered within a minute")
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return *claim.Suite
}
