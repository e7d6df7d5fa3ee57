package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/logging"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/webhook"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workers"
	"github.com/labelflow/labelflow/workflows"
)

// env is one embedded stack shared by the package's integration tests.
var env *Env

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	binDir := os.Getenv("LABELFLOW_BIN_DIR")
	if binDir == "" {
		binDir, _ = filepath.Abs("../../bin")
	}
	_, errT := os.Stat(filepath.Join(binDir, "temporal"))
	_, errS := os.Stat(filepath.Join(binDir, "versitygw"))
	if errT != nil || errS != nil {
		if os.Getenv("LABELFLOW_INTEGRATION") == "1" {
			fmt.Fprintf(os.Stderr, "integration tests need temporal and versitygw in %s: run `make tools`\n", binDir)
			return 1
		}
		fmt.Fprintln(os.Stderr, "skipping integration tests: no servers in", binDir, "(make test builds them)")
		return 0
	}
	cfg, err := config.Load()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "labelflow-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cfg.BinDir = binDir
	cfg.ChunkWindow = 3
	// Small enough that every chunk stores its settled answers in parts as it goes.
	cfg.ChunkSpillBytes = 256
	profiles := filepath.Join(dir, "delivery-profiles.yaml")
	os.Setenv("LABELFLOW_IT_HOOK_SECRET", hookSecret)
	if err := os.WriteFile(profiles, []byte("webhook_secrets:\n  it-hook:\n    env: LABELFLOW_IT_HOOK_SECRET\n"), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg.DeliveryProfiles = profiles
	clientsFile := filepath.Join(dir, "clients.yaml")
	if err := os.WriteFile(clientsFile, []byte(itClients), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg.Clients = clientsFile
	cfg = LiftLimitsForSimulatedCrowd(cfg)
	// Tests check that removed and revoked tokens stop working: a short cache keeps them quick.
	cfg.GatewayTokenCacheTTL = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env, err = Start(ctx, cfg, StackOptions{DataDir: dir, Headless: true}, logging.New("warn", nil))
	if err != nil {
		fmt.Fprintln(os.Stderr, "start embedded stack:", err)
		return 1
	}
	defer env.Stop()
	return m.Run()
}

// deliveredLine is what a client reads in a delivered labels file.
type deliveredLine struct {
	ID       string `json:"id"`
	Source   string `json:"source"`
	Truth    string `json:"truth"`
	Label    string `json:"label"`
	Metadata struct {
		Method     string   `json:"method"`
		Annotators []string `json:"annotators"`
		Reviewer   string   `json:"reviewer"`
		Confidence float64  `json:"confidence"`
	} `json:"label-metadata"`
}

func TestWholeProjectThroughTheRealStack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const items = 250
	hooks := newHookReceiver(t)
	sum, err := Run(ctx, env, RunOptions{
		ProjectID: "it-whole", Items: items, Annotators: 8, Reviewers: 3, Accuracy: 0.8,
		Abandon: 0.15, Seed: 7, ChunkSize: 40, Lease: 10 * time.Second,
		WebhookURL: hooks.url, WebhookSecret: "it-hook",
	})
	if err != nil {
		t.Fatal(err)
	}
	// One signed notification per chunk and one for completion, each verified by signature.
	if got := hooks.count(); got != 7+1 {
		t.Fatalf("webhook received %d events, want 8: %v", got, hooks.types())
	}
	if w := sum.Status.Done.Webhooks; w.Sent != 7+1 || w.Failed != 0 {
		t.Fatalf("status webhooks = %+v", w)
	}
	_, bad := Dataset(items, 7)
	if sum.ValidItems != items || sum.Delivered != items || sum.Rejected != bad || sum.LinesIn != items+bad {
		t.Fatalf("summary = %+v", sum)
	}
	if sum.Crowd.Abandoned == 0 || sum.LeasesExpired == 0 {
		t.Errorf("no lease expired (abandoned %d, expired %d): the re-offer path was not exercised", sum.Crowd.Abandoned, sum.LeasesExpired)
	}

	// Read the delivery with an independent client, as the client would.
	s3c := clientReader(t)
	var m delivery.Manifest
	mustJSON(t, readObject(t, s3c, layout.ManifestKey("labelflow/", "it-whole")), &m)
	// 7 label files, the rejects, 3 whole-project formats, and 2 Ground Truth annotation files per chunk.
	if m.Items != items || m.Rejects != bad || len(m.Objects) != 7+1+1+3+7*2 {
		t.Fatalf("manifest: items %d rejects %d objects %d", m.Items, m.Rejects, len(m.Objects))
	}
	var done struct{ Manifest, SHA256 string }
	mustJSON(t, readObject(t, s3c, layout.CompletionKey("labelflow/", "it-whole")), &done)
	if done.SHA256 != sha256Hex(readObject(t, s3c, done.Manifest)) {
		t.Fatalf("completion marker %+v does not match the manifest", done)
	}
	seen := map[string]bool{}
	var lines []deliveredLine
	for _, o := range m.Objects {
		data := readObject(t, s3c, o.Key)
		if got := sha256Hex(data); got != o.SHA256 || int64(len(data)) != o.Size {
			t.Fatalf("%s: sha256 %s size %d, manifest says %s %d", o.Key, got, len(data), o.SHA256, o.Size)
		}
		switch o.Kind {
		case "rejects":
			checkRejects(t, data, items)
			continue
		case "groundtruth", "csv", "labelstudio":
			checkFormat(t, o.Kind, data, items)
			continue
		case "quality-report":
			var r quality.Report
			mustJSON(t, data, &r)
			annotators, arbitrations := 0, 0
			for _, p := range r.People {
				if p.Answers > 0 {
					annotators++
				}
				arbitrations += p.Arbitrated
			}
			if r.Items != items || r.Arbitrated != sum.Arbitrated || len(r.Chunks) != 7 || annotators != 8 || arbitrations != sum.Arbitrated || r.FirstPassRate <= 0 {
				t.Fatalf("quality report: %d items, %d arbitrated, %d chunks, %d annotators, %d arbitrations", r.Items, r.Arbitrated, len(r.Chunks), annotators, arbitrations)
			}
			continue
		case "groundtruth-worker-response", "groundtruth-consolidated":
			var entries []struct {
				DatasetObjectID string          `json:"datasetObjectId"`
				Answers         json.RawMessage `json:"answers"`
				Consolidated    json.RawMessage `json:"consolidatedAnnotation"`
			}
			mustJSON(t, data, &entries)
			if len(entries) != o.Items || entries[0].DatasetObjectID == "" || (entries[0].Answers == nil && entries[0].Consolidated == nil) {
				t.Fatalf("%s: %d entries, first %+v", o.Key, len(entries), entries[0])
			}
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			var l deliveredLine
			mustJSON(t, sc.Bytes(), &l)
			if seen[l.ID] {
				t.Fatalf("item %s delivered twice", l.ID)
			}
			seen[l.ID] = true
			lines = append(lines, l)
			n++
		}
		if n != o.Items {
			t.Fatalf("%s holds %d lines, manifest says %d", o.Key, n, o.Items)
		}
	}
	if len(seen) != items {
		t.Fatalf("%d distinct items delivered, want %d", len(seen), items)
	}
	annotations, arbitrations, correct := 0, 0, 0
	for _, l := range lines {
		a := l.Metadata.Annotators
		if len(a) != 2 || a[0] == a[1] {
			t.Fatalf("item %s annotators %v: want two distinct people", l.ID, a)
		}
		annotations += 2
		switch l.Metadata.Method {
		case workflows.MethodAgreed:
			if l.Metadata.Reviewer != "" {
				t.Fatalf("agreed item %s has a reviewer", l.ID)
			}
		case workflows.MethodArbitrated:
			arbitrations++
			if r := l.Metadata.Reviewer; r == "" || r == a[0] || r == a[1] {
				t.Fatalf("item %s arbitrated by %q, annotators %v", l.ID, r, a)
			}
		default:
			t.Fatalf("item %s method %q", l.ID, l.Metadata.Method)
		}
		if l.Metadata.Confidence <= 0 || l.Metadata.Confidence > 1 {
			t.Fatalf("item %s confidence %v", l.ID, l.Metadata.Confidence)
		}
		if l.Label == l.Truth {
			correct++
		}
	}
	if arbitrations != sum.Arbitrated || annotations != sum.Annotations {
		t.Fatalf("delivered %d annotations / %d arbitrations, status says %d / %d", annotations, arbitrations, sum.Annotations, sum.Arbitrated)
	}
	if float64(correct)/items < 0.85 {
		t.Errorf("only %d of %d final labels match the truth", correct, items)
	}

	// Exactly one ledger entry per annotation and per arbitration, and payroll adds them up.
	entries := ledgerEntries(t, sum.Month, "it-whole")
	ids := map[string]bool{}
	var total int64
	for _, e := range entries {
		if ids[e.ID] {
			t.Fatalf("ledger entry %s twice", e.ID)
		}
		ids[e.ID] = true
		total += e.Amount
	}
	if len(entries) != annotations+arbitrations {
		t.Fatalf("%d ledger entries, want %d annotations + %d arbitrations", len(entries), annotations, arbitrations)
	}
	if want := int64(annotations*4 + arbitrations*10); total != want || sum.PayrollTotal["USD"] < want {
		t.Fatalf("ledger total %d, payroll total %d, want %d", total, sum.PayrollTotal["USD"], want)
	}

	// Each person reads their statement through the gateway, and only their own.
	crowd := sum.Simulated
	var list struct {
		Statements []struct {
			Month  string
			Totals map[string]int64
		}
	}
	mustJSON(t, call(t, crowd[0].Token, "GET", env.GatewayURL+"/v1/me/statements", nil, 200, ""), &list)
	if len(list.Statements) != 1 || list.Statements[0].Month != sum.Month || list.Statements[0].Totals["USD"] == 0 {
		t.Fatalf("statements = %+v", list)
	}
	var st payroll.Statement
	mustJSON(t, call(t, crowd[0].Token, "GET", env.GatewayURL+"/v1/me/statements/"+sum.Month, nil, 200, ""), &st)
	var owed int64
	for _, l := range st.Lines {
		owed += l.Amount
		if l.Project != "it-whole" || l.Count == 0 {
			t.Fatalf("statement line %+v", l)
		}
	}
	if st.Worker != crowd[0].ID || owed != st.Totals["USD"] {
		t.Fatalf("statement = %+v", st)
	}
	call(t, crowd[0].Token, "GET", env.GatewayURL+"/v1/me/statements/1999-01", nil, 404, "not_found")
	// Every line traces to the items it pays for.
	var traced struct{ Items []ledger.Entry }
	mustJSON(t, call(t, crowd[0].Token, "GET", env.GatewayURL+"/v1/me/statements/"+sum.Month+"/items", nil, 200, ""), &traced)
	var tracedTotal int64
	for _, e := range traced.Items {
		if e.Worker != crowd[0].ID || e.Item == "" {
			t.Fatalf("traced entry %+v", e)
		}
		tracedTotal += e.Amount
	}
	if tracedTotal != st.Totals["USD"] || len(traced.Items) != st.Entries {
		t.Fatalf("traced %d entries, %d, statement %d entries, %d", len(traced.Items), tracedTotal, st.Entries, st.Totals["USD"])
	}

	// A second payroll run of the month pays nothing new.
	again, err := RunAndApprovePayroll(ctx, env.App, sum.Month, signIn(ctx, t, env.App, FinanceDemo))
	if err != nil {
		t.Fatal(err)
	}
	if again.Payout.Payouts != 0 || len(again.Payout.Paid) != 0 || again.Payout.AlreadyPaid != again.Summary.People {
		t.Fatalf("second run of %s paid %+v", sum.Month, again.Payout)
	}

	// Re-delivery to another prefix copies the stored results without re-annotating anything.
	target := spec.Delivery{Bucket: ClientBucket, Prefix: "again/", Region: "us-east-1", Endpoint: env.Cfg.StoreEndpoint, Credentials: "dev"}
	wid, err := env.App.Redeliver(ctx, "it-whole", &target, nil)
	if err != nil {
		t.Fatal(err)
	}
	re, err := env.App.WaitRedelivery(ctx, wid)
	if err != nil {
		t.Fatal(err)
	}
	var m2 delivery.Manifest
	mustJSON(t, readObject(t, s3c, re.ManifestKey), &m2)
	if re.Items != items || len(m2.Objects) != len(m.Objects) {
		t.Fatalf("re-delivery: %+v, %d objects", re, len(m2.Objects))
	}
	for i, o := range m2.Objects {
		if o.SHA256 != m.Objects[i].SHA256 || !strings.HasPrefix(o.Key, "again/it-whole/") {
			t.Fatalf("re-delivered %s (%s) differs from %s (%s)", o.Key, o.SHA256, m.Objects[i].Key, m.Objects[i].SHA256)
		}
		if got := sha256Hex(readObject(t, s3c, o.Key)); got != o.SHA256 {
			t.Fatalf("re-delivered %s: checksum %s, manifest %s", o.Key, got, o.SHA256)
		}
	}

	// The monthly schedule's workflow starts the previous month's payroll. A month without work
	// needs no exchange rates: the payroll reaches approval, paying nobody.
	var started string
	run, err := env.App.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "it-scheduled-payroll", TaskQueue: env.App.Cfg.WorkflowTaskQueue},
		workflows.ScheduledPayrollWorkflow, workflows.ScheduledPayrollInput{TimeZone: env.App.Cfg.MonthTimeZone, ActivityTaskQueue: env.App.Cfg.ActivityTaskQueue})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, &started); err != nil {
		t.Fatal(err)
	}
	if ok, _ := env.App.Store.Exists(ctx, layout.RatesKey(started)); ok {
		t.Fatalf("%s has rates: the check below needs a month without them", started)
	}
	if st, err := env.App.AwaitPayrollStage(ctx, started, workflows.PayrollAwaitingApproval); err != nil || st.Summary.People != 0 {
		t.Fatalf("scheduled payroll of %s, a month without work or rates: %+v, %v", started, st.Summary, err)
	}

}

// replayAll replays every workflow history on the server against the current code, and with
// LABELFLOW_WRITE_REPLAY_FIXTURES=1 keeps one history per workflow type for the unit replay tests.
func replayAll(t *testing.T, ctx context.Context) {
	replayer := worker.NewWorkflowReplayer()
	workers.RegisterWorkflows(replayer)
	c := env.App.Temporal
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	write := os.Getenv("LABELFLOW_WRITE_REPLAY_FIXTURES") == "1"
	kept := map[string]bool{}
	types := map[string]int{}
	spilling := 0
	for _, e := range resp.GetExecutions() {
		ex := e.GetExecution()
		hist, err := historyIter{c.GetWorkflowHistory(ctx, ex.GetWorkflowId(), ex.GetRunId(), false, 0)}.collect()
		if err != nil {
			t.Fatal(err)
		}
		if err := replayer.ReplayWorkflowHistory(nil, hist); err != nil {
			t.Fatalf("replay %s/%s: %v", ex.GetWorkflowId(), ex.GetRunId(), err)
		}
		typ := e.GetType().GetName()
		types[typ]++
		name := typ
		if typ == "ChunkWorkflow" && schedules(hist, "StoreSettled") {
			spilling++
		}
		if typ == "ChunkWorkflow" && kept[typ] && schedules(hist, "StoreSettled") {
			name = "ChunkWorkflow-spilling" // also keep a chunk that stored settled answers as it went
		}
		if write && !kept[name] && e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			kept[name] = true
			data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("../../workflows/testdata", name+".history.json"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if spilling == 0 {
		t.Error("no chunk stored its settled answers as it went (LABELFLOW_CHUNK_SPILL_BYTES is set low for these tests)")
	}
	for _, typ := range workers.WorkflowTypes() {
		if types[typ] == 0 {
			t.Errorf("no %s history replayed", typ)
		}
	}
}

// checkFormat parses a whole-project format the way a client's tool would.
func checkFormat(t *testing.T, kind string, data []byte, items int) {
	t.Helper()
	switch kind {
	case "groundtruth":
		n := 0
		for _, l := range bytes.Split(bytes.TrimSpace(data), []byte{'\n'}) {
			var line map[string]any
			mustJSON(t, l, &line)
			meta, ok := line["sentiment-metadata"].(map[string]any)
			if _, has := line["sentiment"]; !has || !ok || line["source"] == nil || meta["class-name"] == nil ||
				meta["type"] != "groundtruth/text-classification" || meta["human-annotated"] != "yes" || line["label"] != nil {
				t.Fatalf("ground truth line = %s", l)
			}
			n++
		}
		if n != items {
			t.Fatalf("ground truth manifest has %d lines, want %d", n, items)
		}
	case "csv":
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != items+1 || rows[0][0] != "id" || rows[0][2] != "label" {
			t.Fatalf("csv: %d rows, header %v", len(rows), rows[0])
		}
	case "labelstudio":
		var tasks []struct {
			ID          int            `json:"id"`
			Data        map[string]any `json:"data"`
			Annotations []struct {
				Result []struct {
					Type  string `json:"type"`
					Value struct {
						Choices []string `json:"choices"`
					} `json:"value"`
				} `json:"result"`
			} `json:"annotations"`
		}
		mustJSON(t, data, &tasks)
		if len(tasks) != items || tasks[items-1].ID != items || tasks[0].Data["text"] == nil {
			t.Fatalf("label studio: %d tasks, last id %d", len(tasks), tasks[len(tasks)-1].ID)
		}
		r := tasks[0].Annotations[0].Result[0]
		if r.Type != "choices" || len(r.Value.Choices) != 1 {
			t.Fatalf("label studio result = %+v", r)
		}
	}
}

func checkRejects(t *testing.T, data []byte, items int) {
	t.Helper()
	type reject struct {
		Line   int    `json:"line"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	}
	var rs []reject
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte{'\n'}) {
		var r reject
		mustJSON(t, l, &r)
		rs = append(rs, r)
	}
	want := []struct {
		field, reason string
	}{
		{"", "invalid JSON"}, {"", "neither source nor source-ref"}, {"id", "duplicate id"},
		{"source-ref", "s3://"}, {"", "object"}, {"", "limit"},
	}
	if len(rs) != len(want) {
		t.Fatalf("rejects = %+v", rs)
	}
	for i, w := range want {
		if rs[i].Line != items+1+i || rs[i].Field != w.field || !strings.Contains(rs[i].Reason, w.reason) {
			t.Errorf("reject %d = %+v, want line %d field %q reason containing %q", i, rs[i], items+1+i, w.field, w.reason)
		}
	}
}

func TestGatewayRefusesBadRequestsWithClearErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := env.App
	data, _ := Dataset(4, 3)
	if err := a.Store.PutIn(ctx, IntakeBucket, "acme/reviews.manifest", data); err != nil {
		t.Fatal(err)
	}
	p, err := spec.Parse("gw.yaml", []byte(SpecYAML("it-gateway", env.Cfg.StoreEndpoint, 10, time.Minute, "", "")))
	if err != nil {
		t.Fatal(err)
	}
	ops := signIn(ctx, t, a, OpsDemo)
	if _, err := a.Launch(ctx, ops, p); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Launch(ctx, ops, p); !errors.Is(err, app.ErrProjectExists) {
		t.Fatalf("second launch of the same id: %v, want refusal", err)
	}
	if _, err := a.Roster.Import(ctx, roster(t)); err != nil {
		t.Fatal(err)
	}
	var me map[string]any
	mustJSON(t, call(t, tokAmina, "GET", env.GatewayURL+"/v1/me", nil, 200, ""), &me)
	if me["id"] != "amina" || me["country"] != "KE" || me["token_hash"] != nil || me["token_sha256"] != nil {
		t.Fatalf("/v1/me = %v", me)
	}
	base := env.GatewayURL + "/v1/projects/it-gateway"
	call(t, "", "POST", base+"/claim", nil, 401, "unauthorized")
	call(t, "nobody-has-this-token-123", "POST", base+"/claim", nil, 401, "unauthorized")
	call(t, fixedToken("nobody"), "POST", base+"/claim", nil, 401, "unauthorized")
	call(t, tokAmina, "POST", env.GatewayURL+"/v1/projects/no-such-project/claim", nil, 404, "not_found")

	var claim struct {
		Suite *struct {
			ID    string `json:"id"`
			Tasks []struct {
				Item   int    `json:"item"`
				ItemID string `json:"item_id"`
				Source string `json:"source"`
			} `json:"tasks"`
		} `json:"suite"`
	}
	for deadline := time.Now().Add(time.Minute); claim.Suite == nil; {
		mustJSON(t, call(t, tokAmina, "POST", base+"/claim", nil, 200, ""), &claim)
		if claim.Suite == nil {
			if time.Now().After(deadline) {
				t.Fatal("no suite offered within a minute of launch")
			}
			time.Sleep(200 * time.Millisecond) // the project is still chunking
		}
	}
	s := claim.Suite
	call(t, tokFrench, "POST", base+"/claim", nil, 403, "not_qualified")
	// Annotators see the content, never the client's item id (gold items must look like the others).
	if len(s.Tasks) != 4 || s.Tasks[0].Source == "" || s.Tasks[0].ItemID != "" {
		t.Fatalf("suite = %+v", s)
	}
	answers := func(label string) map[string]any {
		var as []map[string]any
		for _, task := range s.Tasks {
			as = append(as, map[string]any{"item": task.Item, "answer": label})
		}
		return map[string]any{"answers": as}
	}
	submit := base + "/suites/" + s.ID + "/submit"
	call(t, tokAmina, "POST", submit, answers("ecstatic"), 422, "invalid_answer")
	call(t, tokAmina, "POST", submit, map[string]any{"answers": []any{}, "extra": 1}, 400, "invalid_request")
	call(t, tokGrace, "POST", submit, answers("positive"), 403, "wrong_annotator")
	call(t, tokAmina, "POST", base+"/suites/c000000-s00042/submit", answers("positive"), 404, "unknown_suite")
	first := call(t, tokAmina, "POST", submit, answers("positive"), 200, "")
	// A repeated submission by its author gets the original answer again.
	if again := call(t, tokAmina, "POST", submit, answers("positive"), 200, ""); !bytes.Equal(again, first) {
		t.Fatalf("repeated submit answered %s, want %s", again, first)
	}
	// The same person never gets the same item twice.
	mustJSON(t, call(t, tokAmina, "POST", base+"/claim", nil, 200, ""), &claim)
	if claim.Suite != nil {
		t.Fatalf("amina was offered items she already answered: %+v", claim.Suite)
	}
}

const hookSecret = "it-hook-secret-0123456789"

// hookReceiver is a client's webhook endpoint: it verifies each signature.
type hookReceiver struct {
	url    string
	mu     sync.Mutex
	events []webhook.Event
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := (webhook.Receiver{Secret: []byte(hookSecret)}).Verify(r.Header, body); err != nil {
			t.Errorf("webhook does not verify: %v: %s", err, body)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e webhook.Event
		if err := json.Unmarshal(body, &e); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		h.mu.Lock()
		h.events = append(h.events, e)
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/labelflow"
	return h
}

func (h *hookReceiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

func (h *hookReceiver) types() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		out = append(out, e.DeliveryID)
	}
	return out
}

var (
	tokAmina  = fixedToken("amina")
	tokGrace  = fixedToken("grace")
	tokFrench = fixedToken("claire")
)

func roster(t *testing.T) []workforce.Entry {
	t.Helper()
	csv := "id,name,country,role,token,languages\n" +
		"amina,Amina W.,KE,annotator," + tokAmina + ",en\n" +
		"grace,Grace O.,NG,annotator," + tokGrace + ",en\n" +
		"claire,Claire M.,RW,annotator," + tokFrench + ",fr\n"
	people, err := parseRoster(csv)
	if err != nil {
		t.Fatal(err)
	}
	return people
}

func call(t *testing.T, token, method, url string, body any, wantStatus int, wantCode string) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: HTTP %d %s, want %d", method, url, resp.StatusCode, data, wantStatus)
	}
	if wantCode != "" {
		var e struct {
			Error struct{ Code, Message string }
		}
		mustJSON(t, data, &e)
		if e.Error.Code != wantCode || e.Error.Message == "" {
			t.Fatalf("%s %s: error %+v, want code %s with a message", method, url, e.Error, wantCode)
		}
	}
	return data
}

func clientReader(t *testing.T) *minio.Client {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(env.Cfg.StoreEndpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(env.Cfg.StoreAccessKey, env.Cfg.StoreSecretKey, ""), BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readObject(t *testing.T, c *minio.Client, key string) []byte {
	t.Helper()
	obj, err := c.GetObject(context.Background(), ClientBucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return data
}

func ledgerEntries(t *testing.T, month, project string) []ledger.Entry {
	t.Helper()
	out, err := LedgerEntries(context.Background(), env.App.Store, month, project)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %.200s: %v", data, err)
	}
}

func TestBoxAndTranscriptionProjects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cases := []struct {
		id, typ string
		tax     []string
		data    []byte
		formats []string
	}{
		{"it-boxes", label.BoundingBoxName, BoxTaxonomy, BoxDataset(60, 5), []string{"jsonl", "coco", "groundtruth", "labelstudio"}},
		{"it-receipts", label.TranscriptionName, TranscriptionTaxonomy, TranscriptionDataset(60, 6), []string{"jsonl", "csv"}},
		{"it-overlap", label.SingleLabelName, Taxonomy, singleLabelLines(60), []string{"jsonl"}},
		{"it-gold", label.SingleLabelName, Taxonomy, singleLabelLines(60), []string{"jsonl"}},
		{"it-topics", label.MultiLabelName, TopicTaxonomy, MultiLabelDataset(60, 21), []string{"jsonl", "csv", "labelstudio"}},
		{"it-entities", label.SpansName, EntityTaxonomy, EntityDataset(60, 22), []string{"jsonl", "labelstudio"}},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			a := env.App
			key := "acme/" + c.id + ".manifest"
			if err := a.Store.PutIn(ctx, IntakeBucket, key, c.data); err != nil {
				t.Fatal(err)
			}
			yaml := TypedSpecYAML(c.id, c.typ, c.tax, key, env.Cfg.StoreEndpoint, 25, c.formats)
			if c.id == "it-overlap" {
				yaml += "quality:\n  overlap: {mode: dynamic, confidence_target: 0.9, max_annotations: 4}\n"
			}
			if c.id == "it-gold" {
				gold, _ := Dataset(10, 99)
				gold = bytes.Join(bytes.SplitAfter(gold, []byte{'\n'})[:10], nil)
				if err := a.Store.PutIn(ctx, IntakeBucket, "acme/gold.manifest", gold); err != nil {
					t.Fatal(err)
				}
				yaml += "quality:\n  gold: {source: s3://" + IntakeBucket + "/acme/gold.manifest, per_chunk: 3}\n"
				yaml = strings.Replace(yaml, `  per_arbitration: "12"`, `  per_arbitration: "12"`+"\n  quality_bonus: {amount: \"50\", min_gold_accuracy: 0.5}", 1)
			}
			p, err := spec.Parse(c.id+".yaml", []byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Launch(ctx, signIn(ctx, t, a, OpsDemo), p); err != nil {
				t.Fatal(err)
			}
			o := simulate.Options{GatewayURL: env.GatewayURL, Project: c.id, Annotators: 6, Reviewers: 2, Accuracy: 0.8,
				ReviewerAccuracy: 0.95, Seed: 9, Idle: 50 * time.Millisecond}
			crowd := registerCrowd(ctx, t, a, o)
			if _, err := simulate.Run(ctx, o, a.Store, crowd); err != nil {
				t.Fatal(err)
			}
			v, err := a.WaitProject(ctx, c.id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.Done.Delivered != 60 || v.Done.Agreed == 0 || (v.Done.Arbitrated == 0 && c.id != "it-overlap") {
				t.Fatalf("status = %+v", v.Done)
			}
			if c.id == "it-overlap" && (v.Done.Overlap == 0 || v.Done.Annotations <= 120) {
				t.Fatalf("dynamic overlap asked no extra annotator: %+v", v.Done)
			}
			if c.id == "it-gold" {
				var r quality.Report
				if err := a.Store.GetJSON(ctx, layout.QualityReportKey(c.id), &r); err != nil {
					t.Fatal(err)
				}
				golds := 0
				for _, p := range r.People {
					golds += p.GoldAnswers
				}
				// 3 chunks × 3 gold items × 2 answers, scored and never delivered.
				binned := 0
				for _, b := range r.Calibration {
					binned += b.Items
				}
				if golds != 18 || r.GoldAccuracy < 0.5 || r.Items != 60 || binned != 9 {
					t.Fatalf("gold: %d answers, accuracy %v, %d items, %d calibrated", golds, r.GoldAccuracy, r.Items, binned)
				}
				// Disputed gold items went to reviewers, who were scored on them and keep the record.
				goldDisputes := 0
				for id, p := range r.People {
					if p.GoldArbitrations == 0 {
						continue
					}
					goldDisputes += p.GoldArbitrations
					var rec quality.ScoreRecord
					if err := a.Store.GetJSON(ctx, layout.ScoreKey(label.SingleLabelName, id, c.id), &rec); err != nil || rec.Answers < p.GoldArbitrations || p.GoldAnswers != 0 {
						t.Fatalf("%s arbitrated %d gold disputes: record %+v, %v, gold answers %d", id, p.GoldArbitrations, rec, err, p.GoldAnswers)
					}
				}
				if goldDisputes > 9 {
					t.Fatalf("%d gold arbitrations for 9 gold items", goldDisputes)
				}
				t.Logf("gold: %d answers, %d disputes arbitrated", golds, goldDisputes)
				// Quality bonus: one ledger entry of 50 KES per person at or above half right on gold.
				data, err := a.Store.Get(ctx, layout.BonusKey(time.Now().UTC().Format("2006-01"), c.id))
				if err != nil {
					t.Fatal(err)
				}
				want := 0
				for _, p := range r.People {
					if p.GoldAnswers > 0 && 2*p.GoldCorrect >= p.GoldAnswers {
						want++
					}
				}
				bonuses := bytes.Split(bytes.TrimSpace(data), []byte{'\n'})
				for _, l := range bonuses {
					var e ledger.Entry
					mustJSON(t, l, &e)
					if e.Role != "bonus" || e.Amount != 5000 || e.Currency != "KES" {
						t.Fatalf("bonus entry %+v", e)
					}
				}
				if len(bonuses) != want || want == 0 {
					t.Fatalf("%d bonus entries, want %d", len(bonuses), want)
				}
			}
			m, verified, err := VerifyDelivery(ctx, a, p)
			if err != nil {
				t.Fatal(err)
			}
			gtFiles := 0
			if slices.Contains(c.formats, "groundtruth") {
				gtFiles = 3 * 2
			}
			if verified != 3+1+1+len(c.formats)-1+gtFiles {
				t.Fatalf("%d objects verified, manifest %+v", verified, m.Objects)
			}
			s3c := clientReader(t)
			truth := map[string]json.RawMessage{}
			for _, l := range bytes.Split(bytes.TrimSpace(c.data), []byte{'\n'}) {
				var line struct {
					ID    string          `json:"id"`
					Truth json.RawMessage `json:"truth"`
				}
				mustJSON(t, l, &line)
				truth[line.ID] = line.Truth
			}
			typ, _ := label.Lookup(c.typ)
			right := 0
			for _, o := range m.Objects {
				data := readObject(t, s3c, o.Key)
				switch o.Kind {
				case "labels":
					for _, l := range bytes.Split(bytes.TrimSpace(data), []byte{'\n'}) {
						var line struct {
							ID    string          `json:"id"`
							Label json.RawMessage `json:"label"`
						}
						mustJSON(t, l, &line)
						if err := typ.Validate(line.Label, label.Item{Taxonomy: c.tax, Width: 640, Height: 480, TextLen: 1000}); err != nil {
							t.Fatalf("%s: delivered label %s is invalid: %v", line.ID, line.Label, err)
						}
						if label.Agree(typ, line.Label, truth[line.ID], 0) {
							right++
						}
					}
				case "coco":
					var coco struct {
						Images      []struct{ ID, Width, Height int }
						Categories  []struct{ ID int }
						Annotations []struct {
							ID      int
							ImageID int `json:"image_id"`
							BBox    []float64
							Area    float64
						}
					}
					mustJSON(t, data, &coco)
					if len(coco.Images) != 60 || len(coco.Categories) != 3 || len(coco.Annotations) < 60 || coco.Images[59].ID != 60 || coco.Images[0].Width != 640 {
						t.Fatalf("coco: %d images, %d categories, %d annotations", len(coco.Images), len(coco.Categories), len(coco.Annotations))
					}
					for _, an := range coco.Annotations {
						if len(an.BBox) != 4 || math.Abs(an.Area-an.BBox[2]*an.BBox[3]) > 0.01 || an.ImageID < 1 || an.ImageID > 60 {
							t.Fatalf("coco annotation %+v", an)
						}
					}
				}
			}
			if right < 50 {
				t.Errorf("only %d of 60 delivered labels agree with the truth", right)
			}
		})
	}
}

// singleLabelLines is the demo dataset without its bad lines.
func singleLabelLines(n int) []byte {
	data, _ := Dataset(n, 8)
	lines := bytes.SplitAfter(data, []byte{'\n'})
	return bytes.Join(lines[:n], nil)
}
