package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/workflows"
)

// payoutCrashQueue is the activity task queue of the crash test's payroll. Only the worker
// processes the test starts (and kills) poll it; the shared stack's in-process worker polls the
// default queue, so it can never finish the payouts for them and hide the crash.
const payoutCrashQueue = "labelflow-io-payout-crash"

// payoutCrashMonth is a month that is over and that no other test pays, so that its ledger and
// its payroll runs are this test's alone. The demo's minimum wages apply from its first day.
const payoutCrashMonth = "2026-01"

func TestPayoutCrashMidPayoutsNeverPaysAnyoneTwice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	bin := buildLabelflow(ctx, t)

	// The same connections as the shared stack, with this test's activity queue.
	queueApp := *env.App
	queueApp.Cfg.ActivityTaskQueue = payoutCrashQueue
	a := &queueApp

	crowd := registerCrowd(ctx, t, a, simulate.Options{Project: "it-payout-crash", Annotators: 30, Reviewers: 6})
	finance := signIn(ctx, t, a, FinanceDemo)
	if err := writeCrowdLedger(ctx, a.Store, "it-payout-crash", payoutCrashMonth, crowd); err != nil {
		t.Fatal(err)
	}
	if err := SeedFinanceTables(ctx, a.Store, payoutCrashMonth); err != nil {
		t.Fatal(err)
	}

	api := &payout.PaymentAPI{}
	slow := &slowPaymentAPI{api: api, delay: 150 * time.Millisecond}
	srv := httptest.NewServer(slow)
	t.Cleanup(srv.Close)

	first := startPayoutWorker(t, bin, srv.URL, "first")
	if err := a.RunPayroll(ctx, payoutCrashMonth, false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AwaitPayrollStage(ctx, payoutCrashMonth, workflows.PayrollAwaitingApproval); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ApprovePayroll(ctx, finance, payoutCrashMonth, ""); err != nil {
		t.Fatal(err)
	}

	// Kill the worker a third of the way through the payouts, with no chance to clean up.
	for len(api.Payments()) < len(crowd)/3 {
		select {
		case <-ctx.Done():
			t.Fatalf("the payment API made %d payouts, want %d before the crash: %v", len(api.Payments()), len(crowd)/3, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	first.kill(t)
	if err := slow.settle(ctx, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	beforeCrash := len(api.Payments())
	if beforeCrash == 0 || beforeCrash >= len(crowd) {
		t.Fatalf("the crash came after %d of %d payouts: it must interrupt them", beforeCrash, len(crowd))
	}
	startPayoutWorker(t, bin, srv.URL, "second")

	st, err := a.WaitPayroll(ctx, payoutCrashMonth)
	if err != nil {
		t.Fatal(err)
	}
	payments := api.Payments()
	t.Logf("%d people; the API made %d payouts before the crash and %d after, over %d requests; the run reports %d payouts",
		len(crowd), beforeCrash, len(payments)-beforeCrash, slow.requests.Load(), st.Payout.Payouts)

	// Each person was paid exactly once, exactly what their statement says, and nobody else was paid.
	times := map[string]int{}
	paidTo := map[string]payout.PayoutRequest{}
	apiTotals := map[string]int64{}
	for _, p := range payments {
		times[p.Recipient]++
		paidTo[p.Recipient] = p
		apiTotals[p.Currency] += p.Amount
		if p.Reference != payoutCrashMonth {
			t.Errorf("payout %+v is not for %s", p, payoutCrashMonth)
		}
	}
	for _, p := range crowd {
		var stmt payroll.Statement
		if err := a.Store.GetJSON(ctx, layout.StatementKey(payoutCrashMonth, p.ID), &stmt); err != nil {
			t.Fatal(err)
		}
		got := paidTo[p.ID]
		switch {
		case times[p.ID] != 1:
			t.Errorf("%s was paid %d times", p.ID, times[p.ID])
		case stmt.Pay.Total <= 0:
			t.Errorf("%s's statement pays nothing: %+v", p.ID, stmt.Pay)
		case got.Amount != stmt.Pay.Total || got.Currency != stmt.Pay.PayoutCurrency:
			t.Errorf("%s was paid %d %s, the statement says %d %s", p.ID, got.Amount, got.Currency, stmt.Pay.Total, stmt.Pay.PayoutCurrency)
		}
	}
	if len(times) != len(crowd) {
		t.Errorf("the API paid %d people, the month has %d", len(times), len(crowd))
	}

	// The run's status agrees with what the API did.
	if st.Stage != workflows.PayrollPaid || st.Approver != FinanceDemo.ID || st.Summary.People != len(crowd) || len(st.Payout.Rejected) != 0 {
		t.Fatalf("status = stage %s, approver %s, %d people, rejected %v", st.Stage, st.Approver, st.Summary.People, st.Payout.Rejected)
	}
	if !sameTotals(st.Summary.PayTotals, apiTotals) {
		t.Errorf("summary pay totals %v, the API paid %v", st.Summary.PayTotals, apiTotals)
	}
	// The retry counts every payout of the run as its own: those it made, and those the killed
	// attempt made, which the API answered as already paid (recovered).
	if st.Payout.Payouts != len(crowd) || st.Payout.Recovered != beforeCrash || st.Payout.AlreadyPaid != 0 || !sameTotals(st.Payout.Paid, apiTotals) {
		t.Errorf("the result reports %d payouts (%d recovered, %d already paid), paid %v; the API made %d before the crash and %d in all, paid %v",
			st.Payout.Payouts, st.Payout.Recovered, st.Payout.AlreadyPaid, st.Payout.Paid, beforeCrash, len(payments), apiTotals)
	}

	// A new run of the month finds everyone paid and pays nothing.
	again, err := RunAndApprovePayroll(ctx, a, payoutCrashMonth, finance)
	if err != nil {
		t.Fatal(err)
	}
	if again.Payout.Payouts != 0 || len(again.Payout.Paid) != 0 || again.Payout.AlreadyPaid != len(crowd) || again.Summary.People != len(crowd) {
		t.Fatalf("second run of %s: %+v for %d people", payoutCrashMonth, again.Payout, again.Summary.People)
	}
	if n := len(api.Payments()); n != len(payments) {
		t.Fatalf("the second run made %d new payouts", n-len(payments))
	}
}

// writeCrowdLedger writes a month of accepted work over a few chunks: annotators annotate and
// reviewers arbitrate, in counts and hours that differ from person to person so that each
// statement has its own total.
func writeCrowdLedger(ctx context.Context, s *store.Store, project, month string, crowd []simulate.Person) error {
	start, err := time.Parse("2006-01", month)
	if err != nil {
		return err
	}
	accepted := start.AddDate(0, 0, 10)
	for chunk := 0; chunk < 3; chunk++ {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for i, p := range crowd {
			role, amount := ledger.Annotation, int64(4)
			if p.Role == workflows.RoleReviewer {
				role, amount = ledger.Arbitration, 10
			}
			for k := 0; k < 2+(i+chunk)%5; k++ {
				item := fmt.Sprintf("item-%02d-%02d-%02d", chunk, i, k)
				if err := enc.Encode(ledger.Entry{
					ID:     fmt.Sprintf("%s/%06d/%s/%s/%s", project, chunk, item, role, p.ID),
					Worker: p.ID, Project: project, Chunk: chunk, Item: item, Role: role, Amount: amount, Currency: "USD",
					Month: month, AcceptedAt: accepted, Seconds: 45 + 15*(i%4),
				}); err != nil {
					return err
				}
			}
		}
		if err := s.Put(ctx, layout.LedgerKey(month, project, chunk), buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func sameTotals(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// slowPaymentAPI answers like a loaded payment API: each request waits before the API sees it, so
// that a month's payouts take seconds and a worker can die in the middle of them. It counts the
// requests in flight, so that the test knows when a dead worker's last request has landed.
type slowPaymentAPI struct {
	api      *payout.PaymentAPI
	delay    time.Duration
	requests atomic.Int64
	inFlight atomic.Int64
}

func (s *slowPaymentAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	time.Sleep(s.delay)
	s.api.ServeHTTP(w, r)
}

// settle waits until no request is in flight and none has arrived for quiet: a request a dead
// client sent just before dying may still be paid, and must count as paid before the retry.
func (s *slowPaymentAPI) settle(ctx context.Context, quiet time.Duration) error {
	last, since := s.requests.Load(), time.Now()
	for {
		if n := s.requests.Load(); n != last {
			last, since = n, time.Now()
		}
		if s.inFlight.Load() == 0 && time.Since(since) >= quiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the payment API never settled: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// buildLabelflow builds the labelflow binary from the code under test; ./bin/labelflow may be
// older than the code.
func buildLabelflow(ctx context.Context, t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "labelflow")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/labelflow/labelflow/cmd/labelflow").CombinedOutput()
	if err != nil {
		t.Fatalf("build labelflow: %v\n%s", err, out)
	}
	return bin
}

// payoutWorker is a `labelflow worker` process running the payroll activities.
type payoutWorker struct {
	cmd  *exec.Cmd
	done chan error
}

// startPayoutWorker starts a worker process that runs only activities, on the crash test's queue,
// paying through the payment API at url. Its log is shown if the test fails.
func startPayoutWorker(t *testing.T, bin, url, name string) *payoutWorker {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+"-worker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	c := env.Cfg
	cmd := exec.Command(bin, "worker")
	cmd.Env = append(os.Environ(),
		"LABELFLOW_TEMPORAL_ADDRESS="+c.TemporalAddress,
		"LABELFLOW_TEMPORAL_NAMESPACE="+c.TemporalNamespace,
		"LABELFLOW_STORE_ENDPOINT="+c.StoreEndpoint,
		"LABELFLOW_STORE_ACCESS_KEY="+c.StoreAccessKey,
		"LABELFLOW_STORE_SECRET_KEY="+c.StoreSecretKey,
		"LABELFLOW_STORE_BUCKET="+c.StoreBucket,
		"LABELFLOW_STORE_REGION="+c.StoreRegion,
		"LABELFLOW_MONTH_TIME_ZONE="+c.MonthTimeZone,
		"LABELFLOW_FLOOR_MULTIPLIER="+c.FloorMultiplier,
		"LABELFLOW_WORKER_ROLE=activities",
		"LABELFLOW_ACTIVITY_TASK_QUEUE="+payoutCrashQueue,
		"LABELFLOW_PAYOUT_PROVIDER=http",
		"LABELFLOW_PAYOUT_URL="+url,
		"LABELFLOW_LOG_LEVEL=warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start the %s worker: %v", name, err)
	}
	w := &payoutWorker{cmd: cmd, done: make(chan error, 1)}
	go func() {
		w.done <- cmd.Wait()
		logFile.Close()
	}()
	t.Cleanup(func() {
		w.kill(t)
		if t.Failed() {
			if data, err := os.ReadFile(logPath); err == nil && len(data) > 0 {
				t.Logf("%s worker log:\n%s", name, data)
			}
		}
	})
	return w
}

// kill ends the process with SIGKILL, as a crash or an OOM kill would, and waits until it is gone.
func (w *payoutWorker) kill(t *testing.T) {
	t.Helper()
	select {
	case err := <-w.done:
		w.done <- err
		return
	default:
	}
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Logf("kill worker %d: %v", w.cmd.Process.Pid, err)
	}
	err := <-w.done
	w.done <- err
}
