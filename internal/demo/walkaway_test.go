package demo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workers"
	"github.com/labelflow/labelflow/workflows"
)

// walkAwayLease is the walk-away projects' lease: short, as heartbeats allow, so that the
// measurement takes seconds; a holder falls silent after half of it.
const walkAwayLease = 20 * time.Second

// A crowd where 30% of people walk away from a suite without releasing it, and never come back,
// delivers the same project within twice the time of a crowd where nobody does: the others send
// heartbeats while they think and now and then give a suite back, and the walk-aways' items are
// offered again once nothing else is left, long before their leases would run out.
func TestAThirdOfTheCrowdWalkingAwayCostsLessThanTwiceTheTime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	base, _ := walkAwayRun(ctx, t, "it-walk-none", 0)
	walked, st := walkAwayRun(ctx, t, "it-walk-away", 0.3)
	ratio := float64(walked) / float64(base)
	t.Logf("project time without walk-aways %s, with 30%% walking away %s: ratio %.2f (%d people walked away, %d heartbeats, %d suites released)",
		base.Round(100*time.Millisecond), walked.Round(100*time.Millisecond), ratio, st.Abandoned, st.Heartbeats, st.Released)
	if st.Abandoned == 0 || st.Heartbeats == 0 {
		t.Fatalf("crowd = %+v: want walk-aways and heartbeats", st)
	}
	if ratio >= 2 {
		t.Fatalf("with walk-aways the project took %.2f times as long, want less than 2", ratio)
	}
	replayProject(ctx, t, "it-walk-away")
}

// walkAwayRun launches a project of 120 items in chunks of 40 and lets a crowd of ten annotators
// and three reviewers, a share of whom walk away, deliver it. It returns the time from launch to
// delivery.
func walkAwayRun(ctx context.Context, t *testing.T, id string, walkAway float64) (time.Duration, simulate.Stats) {
	t.Helper()
	a := env.App
	o := simulate.Options{GatewayURL: env.GatewayURL, Project: id, Annotators: 10, Reviewers: 3, Accuracy: 0.85, ReviewerAccuracy: 0.95,
		WalkAway: walkAway, Release: 0.1, Think: 6 * time.Second, Seed: 11, Languages: []string{"en"}, Idle: 200 * time.Millisecond}
	crowd := registerCrowd(ctx, t, a, o)
	_, launched, err := LaunchProject(ctx, env, RunOptions{ProjectID: id, Items: 120, ChunkSize: 40, Seed: 11, Lease: walkAwayLease})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan simulate.Stats, 1)
	go func() {
		st, err := simulate.Run(runCtx, o, a.Store, crowd)
		if err != nil && runCtx.Err() == nil {
			t.Errorf("%s: simulator: %v", id, err)
		}
		done <- st
	}()
	status, err := a.WaitProject(ctx, id, nil)
	took := time.Since(launched)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	st := <-done
	if status.Done.Delivered != 120 {
		t.Fatalf("%s delivered %d of 120 items", id, status.Done.Delivered)
	}
	return took, st
}

// The heartbeat route extends the holder's lease to a lease from now; one soon after is answered
// with the lease as it stands; nobody else may send one, and a suite no chunk leases has none.
func TestAHeartbeatExtendsTheLeaseThroughTheGateway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := env.App
	data, _ := Dataset(4, 5)
	if err := a.Store.PutIn(ctx, IntakeBucket, "acme/reviews.manifest", data); err != nil {
		t.Fatal(err)
	}
	p, err := spec.Parse("heartbeat.yaml", []byte(SpecYAML("it-heartbeat", env.Cfg.StoreEndpoint, 10, 12*time.Second, "", "")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Launch(ctx, signIn(ctx, t, a, OpsDemo), p); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Roster.Import(ctx, roster(t)); err != nil {
		t.Fatal(err)
	}
	base := env.GatewayURL + "/v1/projects/it-heartbeat"
	var claim struct {
		Suite *struct {
			ID        string    `json:"id"`
			ExpiresAt time.Time `json:"expires_at"`
		} `json:"suite"`
	}
	for deadline := time.Now().Add(time.Minute); claim.Suite == nil; time.Sleep(200 * time.Millisecond) {
		mustJSON(t, call(t, tokAmina, "POST", base+"/claim", nil, 200, ""), &claim)
		if time.Now().After(deadline) {
			t.Fatal("no suite offered within a minute")
		}
	}
	time.Sleep(3 * time.Second) // past a sixth of the lease
	beat := base + "/suites/" + claim.Suite.ID + "/heartbeat"
	var first, again struct {
		SuiteID      string    `json:"suite_id"`
		ExpiresAt    time.Time `json:"expires_at"`
		ExtendsUntil time.Time `json:"extends_until"`
		LeaseSeconds int       `json:"lease_seconds"`
	}
	mustJSON(t, call(t, tokAmina, "POST", beat, nil, 200, ""), &first)
	if !first.ExpiresAt.After(claim.Suite.ExpiresAt.Add(2*time.Second)) || first.LeaseSeconds != 12 || first.SuiteID != claim.Suite.ID ||
		!first.ExtendsUntil.Equal(claim.Suite.ExpiresAt.Add(4*12*time.Second)) {
		t.Fatalf("heartbeat = %+v, want the lease (until %s) extended by about 3 s, up to 5 leases after the claim", first, claim.Suite.ExpiresAt)
	}
	mustJSON(t, call(t, tokAmina, "POST", beat, nil, 200, ""), &again)
	if !again.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatalf("heartbeat right after the last moved the lease to %s, want it kept at %s", again.ExpiresAt, first.ExpiresAt)
	}
	call(t, tokGrace, "POST", beat, nil, 403, "wrong_annotator")
	call(t, tokAmina, "POST", base+"/suites/c000000-s00099/heartbeat", nil, 404, "unknown_suite")
	call(t, tokAmina, "POST", base+"/suites/nonsense/heartbeat", nil, 400, "invalid_request")
	var rel struct{ Released bool }
	mustJSON(t, call(t, tokAmina, "POST", base+"/suites/"+claim.Suite.ID+"/release", nil, 200, ""), &rel)
	call(t, tokAmina, "POST", beat, nil, 404, "unknown_suite")
}

// replayProject replays the histories of a project's chunks against the current code; with
// LABELFLOW_WRITE_REPLAY_FIXTURES=1 it keeps one, which holds heartbeats and items offered again,
// for the unit replay tests.
func replayProject(ctx context.Context, t *testing.T, project string) {
	t.Helper()
	c := env.App.Temporal
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	replayer := worker.NewWorkflowReplayer()
	workers.RegisterWorkflows(replayer)
	kept := os.Getenv("LABELFLOW_WRITE_REPLAY_FIXTURES") != "1"
	replayed := 0
	for _, e := range resp.GetExecutions() {
		ex := e.GetExecution()
		if !strings.HasPrefix(ex.GetWorkflowId(), workflows.ProjectWorkflowID(project)+"-chunk-") {
			continue
		}
		replayed++
		hist, err := historyIter{c.GetWorkflowHistory(ctx, ex.GetWorkflowId(), ex.GetRunId(), false, 0)}.collect()
		if err != nil {
			t.Fatal(err)
		}
		if err := replayer.ReplayWorkflowHistory(nil, hist); err != nil {
			t.Fatalf("replay %s/%s: %v", ex.GetWorkflowId(), ex.GetRunId(), err)
		}
		if kept || e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED || !strings.Contains(protojson.Format(hist), `"heartbeat"`) {
			continue
		}
		data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("../../workflows/testdata", "ChunkWorkflow-heartbeats.history.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		kept = true
	}
	if replayed == 0 {
		t.Fatalf("no chunk of %s to replay", project)
	}
}
