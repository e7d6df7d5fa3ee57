package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	historypb "go.temporal.io/api/history/v1"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/devstack"
	"github.com/labelflow/labelflow/internal/faultproxy"
	"github.com/labelflow/labelflow/internal/logging"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workflows"
)

// The fault tests run a stack of their own whose worker, Temporal and S3 server are separate
// processes, kill one of them at a chosen moment and measure how long the work takes to recover.
// Each recovery is logged on a line starting "recovery:".

// startKillStack starts a stack of the test's own, with the worker in a process of its own.
func startKillStack(ctx context.Context, t *testing.T, bin string, tune ...func(*config.Config)) *KillStack {
	t.Helper()
	cfg := env.Cfg
	for _, f := range tune {
		f(&cfg)
	}
	cfg.LogLevel = "warn"
	dir := t.TempDir()
	// The shared stack's clients and profiles files are removed when its run ends; this stack
	// uses the embedded stack's own dev client and profile.
	cfg.Clients, cfg.DeliveryProfiles = "", ""
	ks, err := StartKillStack(ctx, cfg, StackOptions{DataDir: dir, Headless: true}, bin, logging.New("warn", nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Stop)
	return ks
}

// heavyDataset is n reviews, each carrying a note of noteBytes that the client's formats keep:
// enough items make each format file several multipart parts long.
func heavyDataset(n, noteBytes int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 3))
	const letters = "abcdefghijklmnopqrstuvwxyz     "
	note := make([]byte, noteBytes)
	var b strings.Builder
	for i := range n {
		for k := range note {
			note[k] = letters[rng.IntN(len(letters))]
		}
		class := Taxonomy[i%len(Taxonomy)]
		line, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("review-%05d", i+1), "source": "The kettle was " + adjectives[class][0] + ".",
			"truth": class, "lang": "en", "notes": string(note)})
		b.Write(line)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// launchThrough launches project id on data, delivering to the client bucket through endpoint.
func launchThrough(ctx context.Context, t *testing.T, e *Env, id string, data []byte, endpoint string, chunkSize int) spec.Project {
	t.Helper()
	if err := e.App.Store.PutIn(ctx, IntakeBucket, "acme/reviews.manifest", data); err != nil {
		t.Fatal(err)
	}
	p, err := spec.Parse(id+".yaml", []byte(SpecYAML(id, endpoint, chunkSize, time.Minute, "", "")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Launch(ctx, signIn(ctx, t, e.App, OpsDemo), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// workProject lets a crowd of the given size work project id on e until it is delivered.
func workProject(ctx context.Context, t *testing.T, e *Env, id string, annotators, reviewers int) app.ProjectView {
	t.Helper()
	o := simulate.Options{GatewayURL: e.GatewayURL, Project: id, Annotators: annotators, Reviewers: reviewers, Accuracy: 0.9,
		ReviewerAccuracy: 0.95, Seed: 5, Languages: []string{"en"}, Idle: 50 * time.Millisecond}
	crowd := registerCrowd(ctx, t, e.App, o)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		_, err := simulate.Run(runCtx, o, e.App.Store, crowd)
		done <- err
	}()
	v, err := e.App.WaitProject(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil && runCtx.Err() == nil {
		t.Fatalf("simulator: %v", err)
	}
	return v
}

// s3Client reaches the S3 server of e directly, not through any proxy.
func s3Client(t *testing.T, e *Env) *minio.Client {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(e.Cfg.StoreEndpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(e.Cfg.StoreAccessKey, e.Cfg.StoreSecretKey, ""), Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// incompleteUploads lists the multipart uploads in flight under prefix of the client bucket.
func incompleteUploads(ctx context.Context, c *minio.Client, prefix string) ([]minio.ObjectMultipartInfo, error) {
	var ups []minio.ObjectMultipartInfo
	for u := range c.ListIncompleteUploads(ctx, ClientBucket, prefix, true) {
		if u.Err != nil {
			return nil, u.Err
		}
		ups = append(ups, u)
	}
	return ups, nil
}

// partsInPlace counts the parts an upload holds.
func partsInPlace(ctx context.Context, c *minio.Client, u minio.ObjectMultipartInfo) int {
	res, err := (&minio.Core{Client: c}).ListObjectParts(ctx, ClientBucket, u.Key, u.UploadID, 0, 1000)
	if err != nil {
		return 0
	}
	return len(res.ObjectParts)
}

// activitySpan is one activity of a workflow's history: from its scheduling to its completion,
// with the attempt that completed it.
type activitySpan struct {
	scheduled, completed time.Time
	attempts             int32 // the attempt that completed it
}

func (s activitySpan) took() time.Duration { return s.completed.Sub(s.scheduled) }

// findActivity finds the first run of activity in workflow id's history.
func findActivity(ctx context.Context, t *testing.T, a *app.App, id, activity string) activitySpan {
	t.Helper()
	hist, err := historyIter{a.Temporal.GetWorkflowHistory(ctx, id, "", false, 0)}.collect()
	if err != nil {
		t.Fatal(err)
	}
	return spanOf(t, hist, activity)
}

func spanOf(t *testing.T, hist *historypb.History, activity string) activitySpan {
	t.Helper()
	var s activitySpan
	scheduled := int64(0)
	for _, e := range hist.GetEvents() {
		switch {
		case e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == activity && scheduled == 0:
			scheduled = e.GetEventId()
			s.scheduled = e.GetEventTime().AsTime()
		case scheduled != 0 && e.GetActivityTaskStartedEventAttributes().GetScheduledEventId() == scheduled:
			s.attempts = e.GetActivityTaskStartedEventAttributes().GetAttempt()
		case scheduled != 0 && e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId() == scheduled:
			s.completed = e.GetEventTime().AsTime()
			return s
		}
	}
	t.Fatalf("no completed %s in the history", activity)
	return s
}

// A worker killed with SIGKILL in the middle of a project's final delivery, with parts of a
// multipart upload in place: a new worker finishes the delivery, resuming the upload, and no
// incomplete upload is left in the client's bucket. The time the crash costs is the delivery's
// time less the same delivery's time undisturbed (a re-delivery of the project over the same
// link).
func TestWorkerKilledMidDeliveryRecoversAndLeavesNoUpload(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ks := startKillStack(ctx, t, buildLabelflow(ctx, t))
	// A link of 4 MB/s makes the final delivery (four formats of about 10 MB) last seconds.
	link, err := faultproxy.Start(ks.Cfg.StoreEndpoint, faultproxy.Faults{BytesPerSecond: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { link.Close() })
	const id = "it-kill-delivery"
	p := launchThrough(ctx, t, ks.Env, id, heavyDataset(240, 40<<10), link.URL, 80)
	s3 := s3Client(t, ks.Env)
	prefix := p.Delivery.Prefix

	// Kill the worker once the final delivery has parts of an upload in place.
	killed := make(chan time.Time, 1)
	go func() {
		for ctx.Err() == nil {
			ups, err := incompleteUploads(ctx, s3, prefix)
			if err == nil && len(ups) > 0 && partsInPlace(ctx, s3, ups[0]) > 0 {
				if err := ks.KillWorker(); err != nil {
					t.Error(err)
				}
				killed <- time.Now()
				t.Logf("worker killed with an upload of %s in flight, parts in place", ups[0].Key)
				if err := ks.StartWorker(); err != nil {
					t.Error(err)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	workProject(ctx, t, ks.Env, id, 8, 2)
	deliveredAt := time.Now()
	var killAt time.Time
	select {
	case killAt = <-killed:
	default:
		m, _, _ := VerifyDelivery(ctx, ks.App, p)
		for _, o := range m.Objects {
			t.Logf("%s %d", o.Key, o.Size)
		}
		t.Fatal("the project was delivered before any multipart upload was seen: nothing was killed")
	}
	if ups, err := incompleteUploads(ctx, s3, prefix); err != nil || len(ups) != 0 {
		t.Fatalf("incomplete uploads under %s after the delivery: %v (%v)", prefix, ups, err)
	}
	if _, n, err := VerifyDelivery(ctx, ks.App, p); err != nil || n == 0 {
		t.Fatalf("delivery: %d objects, %v", n, err)
	}
	disturbed := findActivity(ctx, t, ks.App, workflows.ProjectWorkflowID(id), "WriteDeliveryManifest")

	// The same delivery undisturbed: a re-delivery of the project over the same link.
	again := p.Delivery
	again.Prefix = "again/"
	wid, err := ks.App.Redeliver(ctx, id, &again, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.App.WaitRedelivery(ctx, wid); err != nil {
		t.Fatal(err)
	}
	calm := findActivity(ctx, t, ks.App, wid, "WriteDeliveryManifest")
	lost := disturbed.took() - calm.took()
	t.Logf("recovery: worker SIGKILL mid-delivery: kill → delivered %s; final delivery %s (completed in attempt %d) against %s undisturbed: the crash cost %s",
		deliveredAt.Sub(killAt).Round(100*time.Millisecond), disturbed.took().Round(100*time.Millisecond), disturbed.attempts,
		calm.took().Round(100*time.Millisecond), lost.Round(100*time.Millisecond))
	if disturbed.attempts < 2 {
		t.Fatalf("the final delivery completed in attempt %d: the kill did not interrupt it", disturbed.attempts)
	}
	if lost >= 30*time.Second {
		t.Fatalf("the crash cost %s, want under 30 s", lost)
	}
}

// A delivery over a link so slow that its final step lasts longer than the step's heartbeat
// timeout (30 s: a timeout of its own, not a setting) completes in its first attempt: the
// delivery heartbeats while each object crawls over the link.
func TestDeliveryOverASlowLinkCompletesInOneAttempt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// About 40 KB of final formats for 30 items at 1.2 KB/s: over half a minute.
	link, err := faultproxy.Start(env.Cfg.StoreEndpoint, faultproxy.Faults{BytesPerSecond: 1200})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { link.Close() })
	const id = "it-slow-link"
	data, _ := Dataset(30, 9)
	p := launchThrough(ctx, t, env, id, data, link.URL, 30)
	workProject(ctx, t, env, id, 4, 1)
	if _, n, err := VerifyDelivery(ctx, env.App, p); err != nil || n == 0 {
		t.Fatalf("delivery: %d objects, %v", n, err)
	}
	final := findActivity(ctx, t, env.App, workflows.ProjectWorkflowID(id), "WriteDeliveryManifest")
	t.Logf("slow link: the final delivery took %s in %d attempt(s)", final.took().Round(100*time.Millisecond), final.attempts)
	if final.attempts != 1 {
		t.Fatalf("the final delivery took %d attempts, want 1", final.attempts)
	}
	if final.took() <= 30*time.Second {
		t.Fatalf("the final delivery took %s: the link must keep it past the 30 s heartbeat timeout", final.took())
	}
}

// The S3 server down for 30 s while a crowd works: the gateway answers 503 with Retry-After to
// what needs the store, a person whose token it has checked keeps being recognised, the
// simulated crowd keeps trying, and the project completes once the store is back.
func TestStoreDownForHalfAMinuteWhileTheCrowdWorks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ks := startKillStack(ctx, t, buildLabelflow(ctx, t), func(c *config.Config) { c.GatewayTokenCacheTTL = time.Minute })
	const id = "it-store-down"
	data, _ := Dataset(120, 13)
	launchThrough(ctx, t, ks.Env, id, data, ks.Cfg.StoreEndpoint, 40)
	o := simulate.Options{GatewayURL: ks.GatewayURL, Project: id, Annotators: 8, Reviewers: 2, Accuracy: 0.9,
		ReviewerAccuracy: 0.95, Seed: 13, Languages: []string{"en"}, Idle: 50 * time.Millisecond, Think: 300 * time.Millisecond}
	crowd := registerCrowd(ctx, t, ks.App, o)
	known := crowd[0].Token
	me := ks.GatewayURL + "/v1/me"
	if st, _ := get(t, me, known); st != http.StatusOK {
		t.Fatalf("GET /v1/me = %d before the outage", st)
	}
	simDone := make(chan error, 1)
	go func() {
		_, err := simulate.Run(ctx, o, ks.App.Store, crowd)
		simDone <- err
	}()

	// The outage starts once items get final labels in running chunks (v.Final), so that most of
	// the work is still to do, whatever the machine's speed. Answers may go on during it (people
	// with cached tokens keep working); what waits for the store is recording and delivering a
	// chunk, so work resumes when finished chunks' items (v.Done.Items) grow again.
	var mu sync.Mutex
	var final, recorded int
	var downAt, backAt, resumedAt time.Time
	progress := func(v app.ProjectView) {
		mu.Lock()
		defer mu.Unlock()
		if !backAt.IsZero() && resumedAt.IsZero() && v.Done.Items > recorded {
			resumedAt = time.Now()
		}
		final, recorded = v.Final, v.Done.Items
	}
	outage := make(chan error, 1)
	go func() {
		for {
			mu.Lock()
			n := final
			mu.Unlock()
			if n > 0 || ctx.Err() != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		outage <- storeOutage(ctx, t, ks, me, known, func(down, back time.Time) {
			mu.Lock()
			downAt, backAt = down, back
			mu.Unlock()
		})
	}()
	v, err := ks.App.WaitProject(ctx, id, progress)
	if err != nil {
		t.Fatal(err)
	}
	completed := time.Now()
	if err := <-outage; err != nil {
		t.Fatal(err)
	}
	if err := <-simDone; err != nil {
		t.Fatalf("the simulated crowd gave up: %v", err)
	}
	if v.Done.Delivered != 120 {
		t.Fatalf("delivered %d of 120 items", v.Done.Delivered)
	}
	mu.Lock()
	defer mu.Unlock()
	if resumedAt.IsZero() && completed.After(backAt) {
		resumedAt = completed // the chunks were recorded and delivered between two looks
	}
	t.Logf("recovery: S3 down %s: back → work resumed %s, back → project completed %s",
		backAt.Sub(downAt).Round(100*time.Millisecond), resumedAt.Sub(backAt).Round(100*time.Millisecond), completed.Sub(backAt).Round(100*time.Millisecond))
	if resumedAt.IsZero() || completed.Before(backAt) {
		t.Fatalf("the project did not wait for the store: back at %s, resumed at %s, completed at %s", backAt, resumedAt, completed)
	}
}

// storeOutage kills the S3 server for 30 s. Meanwhile a token nobody has shown gets 503 with
// Retry-After, and the known token, checked before the outage, is still recognised.
func storeOutage(ctx context.Context, t *testing.T, ks *KillStack, me, known string, times func(down, back time.Time)) error {
	if err := ks.Kill(devstack.S3); err != nil {
		return err
	}
	down := time.Now()
	time.Sleep(2 * time.Second)
	st, h := get(t, me, fixedToken("never-seen-during-the-outage"))
	if st != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		return fmt.Errorf("during the outage an unknown token got %d (Retry-After %q), want 503 with Retry-After", st, h.Get("Retry-After"))
	}
	if st, _ := get(t, me, known); st != http.StatusOK {
		return fmt.Errorf("during the outage a token checked before it got %d, want 200", st)
	}
	time.Sleep(time.Until(down.Add(30 * time.Second)))
	if err := ks.Restart(ctx, devstack.S3); err != nil {
		return err
	}
	times(down, time.Now())
	return nil
}

// get sends a GET with token and returns the status and headers.
func get(t *testing.T, url, token string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// Temporal killed the moment an approval reached it and its answer was lost on the way back to
// `labelflow payroll approve`: once Temporal is back, what the command finally says matches what
// happened to the payroll.
func TestTemporalKilledAsAnApprovalIsAnsweredTheCommandTellsTheTruth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := buildLabelflow(ctx, t)
	ks := startKillStack(ctx, t, bin)
	a := ks.App
	const month = "2026-01"
	crowd := registerCrowd(ctx, t, a, simulate.Options{Project: "it-approve-kill", Annotators: 4, Reviewers: 1})
	if err := writeCrowdLedger(ctx, a.Store, "it-approve-kill", month, crowd); err != nil {
		t.Fatal(err)
	}
	if err := SeedFinanceTables(ctx, a.Store, month); err != nil {
		t.Fatal(err)
	}
	if err := a.RunPayroll(ctx, month, false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AwaitPayrollStage(ctx, month, workflows.PayrollAwaitingApproval); err != nil {
		t.Fatal(err)
	}
	token, err := StaffToken(ctx, a, FinanceDemo)
	if err != nil {
		t.Fatal(err)
	}

	var killedAt, readyAt time.Time
	restarted := make(chan error, 1)
	lose, err := faultproxy.Start(ks.GatewayURL, faultproxy.Faults{LoseFirst: 1, Methods: []string{"POST"}, OnLost: func(*http.Request) {
		if err := ks.Kill(devstack.Temporal); err != nil {
			restarted <- err
			return
		}
		killedAt = time.Now()
		go func() {
			err := ks.Restart(context.WithoutCancel(ctx), devstack.Temporal)
			readyAt = time.Now()
			restarted <- err
		}()
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lose.Close() })

	cmd := exec.CommandContext(ctx, bin, "payroll", "approve", "--month", month)
	cmd.Env = append(Environ(ks.Cfg), "LABELFLOW_GATEWAY_URL="+lose.URL, "LABELFLOW_TOKEN="+token, "PATH="+os.Getenv("PATH"))
	out, runErr := cmd.CombinedOutput()
	finalWord := time.Now()
	if err := <-restarted; err != nil {
		t.Fatalf("restart Temporal: %v", err)
	}
	if lose.Lost() != 1 {
		t.Fatalf("%d approvals lost their answer, want 1", lose.Lost())
	}
	st, err := a.PayrollStatus(ctx, month)
	for deadline := time.Now().Add(30 * time.Second); err != nil && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		st, err = a.PayrollStatus(ctx, month)
	}
	if err != nil {
		t.Fatal(err)
	}
	approved := st.Approver == FinanceDemo.ID
	t.Logf("recovery: Temporal SIGKILL as an approval was answered: back in %s, the command's final word %s after the kill (exit %v): %s",
		readyAt.Sub(killedAt).Round(100*time.Millisecond), finalWord.Sub(killedAt).Round(100*time.Millisecond), runErr, strings.TrimSpace(string(out)))
	said := runErr == nil && strings.Contains(string(out), "took effect")
	if said != approved {
		t.Fatalf("the command said %q (exit %v); the payroll is %s with approver %q", out, runErr, st.Stage, st.Approver)
	}
	if !approved {
		t.Fatalf("the approval reached the gateway and Temporal answered it, yet the payroll is %s", st.Stage)
	}
}
