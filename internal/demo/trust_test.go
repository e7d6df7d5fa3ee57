package demo

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/internal/audit"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workflows"
)

// forgeUpdate sends an Update straight to Temporal, as anyone who can reach the frontend could
// (`temporal workflow update execute`), bypassing the gateway.
func forgeUpdate(ctx context.Context, workflowID, name string, arg any) error {
	h, err := env.App.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, nil)
}

func TestForgedApprovalStraightToTemporalIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const month = "2019-03"
	if err := SeedFinanceTables(ctx, env.App.Store, month); err != nil {
		t.Fatal(err)
	}
	if err := env.App.RunPayroll(ctx, month, false); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.AwaitPayrollStage(ctx, month, workflows.PayrollAwaitingApproval); err != nil {
		t.Fatal(err)
	}
	// The request of the review: a made-up approver with the finance role, and a real finance
	// person's name without LabelFlow's seal.
	for _, req := range []workflows.ApproveRequest{
		{Approver: "mallory (not in roster)", Role: workflows.RoleFinance},
		{Approver: FinanceDemo.ID, Role: workflows.RoleFinance},
	} {
		err := forgeUpdate(ctx, workflows.PayrollWorkflowID(month), workflows.UpdateApprove, req)
		if workflows.ErrorKind(err) != workflows.ErrUnauthenticated {
			t.Fatalf("forged approval by %q: %v, want %s", req.Approver, err, workflows.ErrUnauthenticated)
		}
	}
	hold := workflows.HoldRequest{By: workflows.FinanceActor{ID: FinanceDemo.ID, Role: workflows.RoleFinance}, Person: "amina", Reason: "x"}
	if err := forgeUpdate(ctx, workflows.PayrollWorkflowID(month), workflows.UpdateHold, hold); workflows.ErrorKind(err) != workflows.ErrUnauthenticated {
		t.Fatalf("forged hold: %v", err)
	}
	st, err := env.App.PayrollStatus(ctx, month)
	if err != nil {
		t.Fatal(err)
	}
	if st.Stage != workflows.PayrollAwaitingApproval || st.Approver != "" || len(st.Holds) != 0 {
		t.Fatalf("after forged Updates the payroll is %s, approved by %q, holds %v", st.Stage, st.Approver, st.Holds)
	}
	assertNoUpdateEvents(ctx, t, workflows.PayrollWorkflowID(month))

	// Finance through the gateway: an annotator's token is refused, no token is refused, the
	// finance person's own token approves. Each attempt with a token leaves an audit record.
	annotatorToken := crowdToken(ctx, t)
	_, err = gateway.NewClient(env.GatewayURL, annotatorToken).Approve(ctx, month, "")
	var apiErr *gateway.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Fatalf("an annotator approving: %v, want 403", err)
	}
	if _, err := gateway.NewClient(env.GatewayURL, "lf_not-a-real-token-not-a-real-token-xxxxxxxx").Approve(ctx, month, ""); !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("an unknown token approving: %v, want 401", err)
	}
	financeToken, err := StaffToken(ctx, env.App, FinanceDemo)
	if err != nil {
		t.Fatal(err)
	}
	done, err := gateway.NewClient(env.GatewayURL, financeToken).Approve(ctx, month, "checked")
	if err != nil {
		t.Fatal(err)
	}
	if done.Approver != FinanceDemo.ID {
		t.Fatalf("approved by %q", done.Approver)
	}
	records := auditRecords(ctx, t, "approve", month)
	if len(records) != 2 || records[0].Outcome != audit.Refused || records[1].Outcome != audit.Done ||
		records[1].Person != FinanceDemo.ID || !strings.HasPrefix(records[1].Credential, "tok-") || strings.Contains(records[1].Credential, financeToken) {
		t.Fatalf("audit records of approve %s: %+v", month, records)
	}
}

func TestForgedClaimStraightToTemporalIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, _, err := LaunchProject(ctx, env, RunOptions{ProjectID: "it-forged-claim", Items: 20, Seed: 11, ChunkSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	running := awaitRunning(ctx, t, p.ID)
	chunk := workflows.ChunkWorkflowID(p.ID, running[0])
	ghost := workflows.Worker{ID: "ghost-not-in-roster", Role: workflows.RoleAnnotator, Languages: []string{"en"}}
	var err2 error
	// The chunk may still be preparing its items; a forged claim must be refused either way, and
	// for the forgery, not for the lack of work.
	for range 50 {
		err2 = forgeUpdate(ctx, chunk, workflows.UpdateClaim, workflows.ClaimRequest{Worker: ghost})
		if workflows.ErrorKind(err2) == workflows.ErrUnauthenticated {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if workflows.ErrorKind(err2) != workflows.ErrUnauthenticated {
		t.Fatalf("forged claim: %v, want %s", err2, workflows.ErrUnauthenticated)
	}
	submit := workflows.SubmitRequest{Worker: ghost, SuiteID: workflows.SuiteID(running[0], 0)}
	if err := forgeUpdate(ctx, chunk, workflows.UpdateSubmit, submit); workflows.ErrorKind(err) != workflows.ErrUnauthenticated {
		t.Fatalf("forged submit: %v", err)
	}
	v, err := env.App.ProjectStatus(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Leases != 0 {
		t.Fatalf("forged claims leased %d suites", v.Leases)
	}
	assertNoUpdateEvents(ctx, t, chunk)
}

func TestCancelOnlyByOpsThroughTheGateway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, _, err := LaunchProject(ctx, env, RunOptions{ProjectID: "it-cancel", Items: 30, Seed: 12, ChunkSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	forged := workflows.CancelRequest{By: "mallory", Role: workflows.RoleOps, Reason: "forged"}
	if err := forgeUpdate(ctx, workflows.ProjectWorkflowID(p.ID), workflows.UpdateCancel, forged); workflows.ErrorKind(err) != workflows.ErrUnauthenticated {
		t.Fatalf("forged cancel: %v", err)
	}
	var apiErr *gateway.APIError
	if _, err := gateway.NewClient(env.GatewayURL, crowdToken(ctx, t)).Cancel(ctx, p.ID, "annotator"); !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Fatalf("an annotator cancelling: %v, want 403", err)
	}
	opsToken, err := StaffToken(ctx, env.App, OpsDemo)
	if err != nil {
		t.Fatal(err)
	}
	out, err := gateway.NewClient(env.GatewayURL, opsToken).Cancel(ctx, p.ID, "client withdrew the dataset")
	if err != nil {
		t.Fatal(err)
	}
	v, err := env.App.ProjectStatus(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Cancelled == nil || v.Cancelled.By != OpsDemo.ID || out.ChunksStarted > env.Cfg.ChunkWindow {
		t.Fatalf("after cancel: %+v, answer %+v", v.Cancelled, out)
	}
	if recs := auditRecords(ctx, t, "cancel", p.ID); len(recs) != 2 || recs[0].Outcome != audit.Refused || recs[1].Outcome != audit.Done {
		t.Fatalf("audit of cancel: %+v", recs)
	}
}

func TestForgedLaunchStraightToTemporalStartsNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sp, err := spec.Parse("forged.yaml", []byte(SpecYAML("it-forged-launch", env.Cfg.StoreEndpoint, 10, time.Minute, "", "")))
	if err != nil {
		t.Fatal(err)
	}
	sp.Pay.PerAnnotation = "1000" // what a forger would want paid
	run, err := env.App.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.ProjectWorkflowID(sp.ID), TaskQueue: env.Cfg.WorkflowTaskQueue,
	}, workflows.ProjectWorkflow, workflows.ProjectInput{Spec: sp, Window: 2, WorkflowTaskQueue: env.Cfg.WorkflowTaskQueue,
		ActivityTaskQueue: env.Cfg.ActivityTaskQueue, LaunchedBy: OpsDemo.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); workflows.ErrorKind(err) != workflows.ErrUnauthenticated {
		t.Fatalf("forged launch ended with %v, want %s", err, workflows.ErrUnauthenticated)
	}
	if ok, err := env.App.Store.Exists(ctx, layout.SpecKey(sp.ID)); err != nil || ok {
		t.Fatalf("a forged launch stored its spec (%v, %v)", ok, err)
	}

	// Through the gateway, only ops launch.
	data := []byte(SpecYAML("it-launch-by-annotator", env.Cfg.StoreEndpoint, 10, time.Minute, "", ""))
	_, err = gateway.NewClient(env.GatewayURL, crowdToken(ctx, t)).Launch(ctx, "p.yaml", data)
	var apiErr *gateway.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Fatalf("an annotator launching: %v, want 403", err)
	}
	if _, err := env.App.ProjectStatus(ctx, "it-launch-by-annotator"); err == nil {
		t.Fatal("a refused launch started a workflow")
	}
	opsToken, err := StaffToken(ctx, env.App, OpsDemo)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(SpecYAML("it-launch-by-ops", env.Cfg.StoreEndpoint, 10, time.Minute, "", ""))
	if out, err := gateway.NewClient(env.GatewayURL, opsToken).Launch(ctx, "p.yaml", data); err != nil || out.Project != "it-launch-by-ops" {
		t.Fatalf("ops launching: %+v %v", out, err)
	}
	if recs := auditRecords(ctx, t, "launch", "it-launch-by-ops"); len(recs) != 1 || recs[0].Outcome != audit.Done || recs[0].Person != OpsDemo.ID {
		t.Fatalf("audit of the launch: %+v", recs)
	}
}

// assertNoUpdateEvents checks that refused Updates left nothing in the workflow's history.
func assertNoUpdateEvents(ctx context.Context, t *testing.T, workflowID string) {
	t.Helper()
	it := env.App.Temporal.GetWorkflowHistory(ctx, workflowID, "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(e.GetEventType().String(), "UpdateAccepted") {
			if strings.Contains(e.String(), "ghost") || strings.Contains(e.String(), "mallory") {
				t.Fatalf("a forged Update entered history: %v", e)
			}
		}
	}
}

// crowdToken gives an annotator of the roster a fresh token.
func crowdToken(ctx context.Context, t *testing.T) string {
	t.Helper()
	if _, err := env.App.Roster.Import(ctx, roster(t)); err != nil {
		t.Fatal(err)
	}
	return tokAmina
}

// auditRecords are today's audit records of one action on one target, oldest first.
func auditRecords(ctx context.Context, t *testing.T, action, target string) []audit.Record {
	t.Helper()
	all, err := audit.List(ctx, env.App.Store, time.Now().UTC().Format("2006-01-02"))
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Record
	for _, r := range all {
		if r.Action == action && r.Target == target {
			out = append(out, r)
		}
	}
	return out
}

func TestRejectAndReverseThroughTheGateway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, _, err := LaunchProject(ctx, env, RunOptions{ProjectID: "it-reject", Items: 10, Seed: 13, ChunkSize: 10}); err != nil {
		t.Fatal(err)
	}
	awaitRunning(ctx, t, "it-reject") // its spec is stored by then
	annotator := crowdToken(ctx, t)
	var apiErr *gateway.APIError
	body := gateway.RejectBody{Project: "it-reject", Person: "grace", Reason: "answers copied"}
	if _, err := gateway.NewClient(env.GatewayURL, annotator).Reject(ctx, body); !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Fatalf("an annotator rejecting work: %v, want 403", err)
	}
	finance, err := StaffToken(ctx, env.App, FinanceDemo)
	if err != nil {
		t.Fatal(err)
	}
	fin := gateway.NewClient(env.GatewayURL, finance)
	rej, err := fin.Reject(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fin.Reverse(ctx, "../closures/2026-11", "path"); !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest {
		t.Fatalf("a path as rejection id: %v, want a refusal", err)
	}
	out, err := fin.Reverse(ctx, rej.ID, "checked: honest work")
	if err != nil || !out.Reversed {
		t.Fatalf("reverse %s: %+v %v", rej.ID, out, err)
	}
	if recs := auditRecords(ctx, t, "reverse", rej.ID); len(recs) != 1 || recs[0].Person != FinanceDemo.ID {
		t.Fatalf("audit of the reversal: %+v", recs)
	}
}

// awaitRunning waits until a project has chunks at work.
func awaitRunning(ctx context.Context, t *testing.T, project string) []int {
	t.Helper()
	for {
		running, _, err := env.App.RunningChunks(ctx, project)
		if err != nil {
			t.Fatal(err)
		}
		if len(running) > 0 {
			return running
		}
		select {
		case <-ctx.Done():
			t.Fatalf("project %s never had a chunk at work", project)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
