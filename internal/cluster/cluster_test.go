//go:build linux

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/logging"
	"github.com/labelflow/labelflow/internal/metrics"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/payoutdetails"
)

// clusterItems is the size of the project the cluster runs, and of the comparison on one worker
// (LABELFLOW_CLUSTER_ITEMS sets another).
const clusterItems = 20000

// The cluster test: two workflow workers, two activity workers and two gateways on PostgreSQL-
// backed Temporal with TLS, a project worked by a crowd spread over both gateways while one
// process of each kind is killed with SIGKILL and restarted. Every valid item is delivered once,
// the manifest's checksums verify, the ledger holds one entry per accepted answer, payroll pays
// once, and the processes' counters add up to that outcome. Then the same project on one `all`
// worker, for the throughput ratio. Figures are logged on lines starting "kill:", "metrics:",
// "throughput:", "cpu:", "latency:" and "rss:".
func TestClusterSurvivesKillsAndDeliversEachItemOnce(t *testing.T) {
	binDir, items := clusterSettings(t)
	ctx, cancel := context.WithTimeout(context.Background(), 11*time.Minute)
	defer cancel()
	began := time.Now()
	c := startCluster(ctx, t, binDir)
	t.Logf("cluster: PostgreSQL, Temporal (TLS frontend) and S3 up, labelflow setup done in %s", time.Since(began).Round(100*time.Millisecond))
	logProduction(t, c)
	gws, workers, run := clusterRun(ctx, t, c, items)

	// The same project on one worker that does everything, through the same gateways.
	for _, m := range workers {
		m.stop()
	}
	members := append(startMembers(ctx, t, c, RoleAll, 1), gws...)
	meter := startMeter(ctx, t, c, newMetricsBook(), members, gws[1])
	single := runProject(ctx, t, c, "single", items, gws, nil)
	meter.report(ctx, t, "single-worker run")
	logWarnings(t, members[:1])
	t.Logf("rss: %-16s %6.1f MiB", members[0].Name(), float64(members[0].PeakRSS())/(1<<20))
	t.Logf("throughput: cluster (2 workflow + 2 activity workers, 2 gateways) %d items in %s = %.1f items/s with 3 kills; one all worker %d items in %s = %.1f items/s; cluster/single = %.2f",
		run.Status.Done.Delivered, run.Took.Round(100*time.Millisecond), run.itemsPerSecond(),
		single.Status.Done.Delivered, single.Took.Round(100*time.Millisecond), single.itemsPerSecond(), run.itemsPerSecond()/single.itemsPerSecond())
	// Claims that found no suite are people waiting for work the open chunks did not offer yet.
	t.Logf("throughput: the crowd of %d made %d empty claims for %d suites in the cluster run, %d for %d on one worker",
		crowdAnnotators+crowdReviewers, run.Crowd.EmptyClaims, run.Crowd.Suites, single.Crowd.EmptyClaims, single.Crowd.Suites)
	t.Logf("cluster: whole test %s", time.Since(began).Round(time.Second))
}

// clusterRun starts two workers of each role and two gateways, runs the project while killing
// one of each kind, and checks the outcome and the counters. It returns the gateways, the
// workers and the run.
func clusterRun(ctx context.Context, t *testing.T, c *Cluster, items int) ([]*Member, []*Member, projectRun) {
	t.Helper()
	// Activity workers first, as an upgrade rolls out, then workflow workers, then gateways.
	acts := startMembers(ctx, t, c, RoleActivities, 2)
	wfs := startMembers(ctx, t, c, RoleWorkflows, 2)
	gws := startMembers(ctx, t, c, RoleGateway, 2)
	members := append(append(append([]*Member{}, acts...), wfs...), gws...)
	book := newMetricsBook()
	followCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	go book.follow(followCtx, members)

	// gateway-2 is never killed: its latencies cover the whole run.
	meter := startMeter(ctx, t, c, book, members, gws[1])
	watch := &progressWatch{total: items}
	faults := []*fault{{member: wfs[0], share: 0.2}, {member: acts[0], share: 0.4}, {member: gws[0], share: 0.6}}
	faultsDone, projectDone := make(chan error, 1), make(chan struct{})
	go func() { faultsDone <- injectFaults(ctx, book, watch, faults, projectDone) }()
	run := runProject(ctx, t, c, "cluster", items, gws, watch.see)
	completed := time.Now()
	close(projectDone)
	meter.report(ctx, t, "cluster run")
	if err := <-faultsDone; err != nil {
		t.Fatal(err)
	}
	for _, f := range faults {
		f.log(t)
		if f.ready.After(completed) {
			t.Errorf("%s was ready again only after the project completed: the kill was not mid-project", f.member.Name())
		}
	}
	o := checkOutcome(ctx, t, c, run)
	for _, m := range members {
		if _, err := book.scrape(ctx, m); err != nil {
			t.Fatalf("final scrape: %v", err)
		}
	}
	stopFollowing()
	checkWorkerCounters(t, book, o)
	checkGatewayCounters(t, book, o, (crowdAnnotators+crowdReviewers)/len(gws))
	checkTemporalMetrics(ctx, t, c)
	logPeakRSS(t, c, members)
	logWarnings(t, members)
	return gws, append(acts, wfs...), run
}

// clusterSettings skips unless LABELFLOW_CLUSTER=1, and returns the directory of the binaries
// and the project's size.
func clusterSettings(t *testing.T) (string, int) {
	t.Helper()
	if os.Getenv("LABELFLOW_CLUSTER") != "1" {
		t.Skip("the cluster test runs with LABELFLOW_CLUSTER=1: make cluster-test")
	}
	binDir := os.Getenv("LABELFLOW_BIN_DIR")
	if binDir == "" {
		binDir, _ = filepath.Abs("../../bin")
	}
	for _, b := range []string{"labelflow", "temporal-server", "versitygw"} {
		if _, err := os.Stat(filepath.Join(binDir, b)); err != nil {
			t.Fatalf("the cluster test needs %s in %s: make cluster-test builds it", b, binDir)
		}
	}
	items := clusterItems
	if s := os.Getenv("LABELFLOW_CLUSTER_ITEMS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			t.Fatalf("LABELFLOW_CLUSTER_ITEMS must be a number of at least 100, got %q", s)
		}
		items = n
	}
	return binDir, items
}

// startCluster starts the servers in a directory of their own, kept (with the processes' logs)
// when the test fails.
func startCluster(ctx context.Context, t *testing.T, binDir string) *Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "labelflow-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Start(ctx, Options{BinDir: binDir, Dir: dir, Log: logging.New("warn", nil)})
	if err != nil {
		t.Fatalf("%v\n(state and logs in %s)", err, dir)
	}
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("the cluster's state and logs are kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	return c
}

// startMembers starts n LabelFlow processes of role, named role-1 … role-n.
func startMembers(ctx context.Context, t *testing.T, c *Cluster, role string, n int) []*Member {
	t.Helper()
	var out []*Member
	for i := 1; i <= n; i++ {
		m, err := c.StartMember(ctx, fmt.Sprintf("%s-%d", role, i), role)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// checkOutcome checks what the client and the people got: every valid item delivered once with
// a manifest whose checksums verify, one ledger entry per accepted answer, payroll paying the
// month once and nothing more when run again.
func checkOutcome(ctx context.Context, t *testing.T, c *Cluster, run projectRun) outcome {
	t.Helper()
	st := run.Status
	dc, err := demo.CheckDelivery(ctx, c.App, run.Project)
	if err != nil {
		t.Fatalf("delivery: %v", err)
	}
	// The delivery names every accepted annotation; the project's count leaves out late ones,
	// from holders gone silent while another person answered (paid, never deciding a label).
	late := dc.Annotations - st.Done.Annotations
	if _, bad := demo.Dataset(st.Items, 11); dc.Items != st.Items || st.Rejects != bad || late < 0 || dc.Arbitrations != st.Done.Arbitrated {
		t.Fatalf("delivered %d items (%d annotations, %d arbitrations), the project counted %d items, %d rejects (the dataset has %d bad lines), %d annotations, %d arbitrations",
			dc.Items, dc.Annotations, dc.Arbitrations, st.Items, st.Rejects, bad, st.Done.Annotations, st.Done.Arbitrated)
	}
	month := time.Now().In(monthZone(t, c)).Format("2006-01")
	entries, err := demo.LedgerEntries(ctx, c.App.Store, month, run.Project.ID)
	if err != nil {
		t.Fatal(err)
	}
	o := outcome{run: run}
	ids := map[string]bool{}
	var total int64
	for _, e := range entries {
		if ids[e.ID] {
			t.Fatalf("ledger entry %s twice", e.ID)
		}
		ids[e.ID] = true
		total += e.Amount
		switch e.Role {
		case "annotation":
			o.annotationEntries++
		case "arbitration":
			o.arbitrationEntries++
		default:
			t.Errorf("ledger entry %s of role %s: the project pays annotations and arbitrations only", e.ID, e.Role)
		}
	}
	if o.annotationEntries != dc.Annotations || o.arbitrationEntries != dc.Arbitrations {
		t.Fatalf("ledger: %d annotation and %d arbitration entries for %d delivered annotations and %d arbitrations",
			o.annotationEntries, o.arbitrationEntries, dc.Annotations, dc.Arbitrations)
	}
	t.Logf("outcome: %d items delivered once in %d verified objects, %d rejected lines, %d annotations (%d of them late), %d arbitrations, %d ledger entries",
		dc.Items, dc.Objects, st.Rejects, dc.Annotations, late, dc.Arbitrations, len(entries))
	payOnce(ctx, t, c, month, len(entries), total, &o)
	return o
}

// payOnce runs and approves the month's payroll, which must pay the ledger, then runs it again,
// which must pay nothing.
func payOnce(ctx context.Context, t *testing.T, c *Cluster, month string, entries int, total int64, o *outcome) {
	t.Helper()
	if err := demo.ImportFinanceTables(ctx, c.App.Store, month, time.Now()); err != nil {
		t.Fatal(err)
	}
	finance, err := c.App.Authenticate(ctx, c.Staff.FinanceToken)
	if err != nil {
		t.Fatal(err)
	}
	pay, err := demo.RunAndApprovePayroll(ctx, c.App, month, finance)
	if err != nil {
		t.Fatal(err)
	}
	if pay.Summary.Entries != entries || pay.Summary.Totals["USD"] != total || pay.Payout.Payouts == 0 {
		t.Fatalf("payroll of %s: %d entries totalling %d USD, %d payouts; the ledger has %d entries totalling %d",
			month, pay.Summary.Entries, pay.Summary.Totals["USD"], pay.Payout.Payouts, entries, total)
	}
	// Everyone who worked is an ordinary person with payout details on file: nobody is held or
	// refused, and each is paid.
	if p := pay.Payout; len(p.Held) > 0 || len(p.Refused) > 0 || len(p.Rejected) > 0 || p.Payouts != pay.Summary.People {
		t.Fatalf("payroll of %s paid %d of %d people; held %v, refused %v, rejected %v", month, p.Payouts, pay.Summary.People, p.Held, p.Refused, p.Rejected)
	}
	checkPayoutFiles(ctx, t, c, month)
	again, err := demo.RunAndApprovePayroll(ctx, c.App, month, finance)
	if err != nil {
		t.Fatal(err)
	}
	if again.Payout.Payouts != 0 || len(again.Payout.Paid) != 0 || again.Payout.AlreadyPaid != again.Summary.People {
		t.Fatalf("the second payroll run of %s paid %+v", month, again.Payout)
	}
	o.payouts, o.paid = pay.Payout.Payouts, pay.Payout.Paid
	t.Logf("payroll: %s paid %d people %v once; run again it paid nobody (%d already paid)", month, pay.Payout.Payouts, pay.Payout.Paid, again.Payout.AlreadyPaid)
}

// checkPayoutFiles checks that the file provider wrote the month's batch files for finance: a
// pain.001 file of bank transfers and a CSV of mobile-money payouts.
func checkPayoutFiles(ctx context.Context, t *testing.T, c *Cluster, month string) {
	t.Helper()
	var files []string
	found := map[string]bool{}
	err := c.App.Store.List(ctx, path.Dir(payout.BatchKey(month, "batch", "", "xml"))+"/", func(key string, size int64) error {
		files = append(files, fmt.Sprintf("%s (%d bytes)", path.Base(key), size))
		switch {
		case strings.HasPrefix(path.Base(key), payoutdetails.BankTransfer+"-") && strings.HasSuffix(key, ".xml") && size > 0:
			found["pain.001"] = true
		case strings.HasPrefix(path.Base(key), payoutdetails.MobileMoney+"-") && strings.HasSuffix(key, ".csv") && size > 0:
			found["mobile-money"] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found["pain.001"] || !found["mobile-money"] {
		t.Fatalf("payout files of %s: want a pain.001 file of bank transfers and a mobile-money CSV, found %v", month, files)
	}
	t.Logf("payroll: the file provider wrote %s", strings.Join(files, ", "))
}

// logProduction logs how the cluster's production configuration was checked, and each setting
// one machine keeps short of a production deployment.
func logProduction(t *testing.T, c *Cluster) {
	t.Helper()
	t.Logf("production: LABELFLOW_STACK=%s, keys made for this run; labelflow config --check passed:\n%s", c.Cfg.Stack, strings.TrimRight(c.ConfigCheck, "\n"))
	for _, d := range c.Deviations() {
		t.Logf("production: kept short of production on one machine: %s", d)
	}
}

func monthZone(t *testing.T, c *Cluster) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(c.Cfg.MonthTimeZone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// checkTemporalMetrics scrapes the Temporal server's own Prometheus endpoint: it served the
// cluster's requests.
func checkTemporalMetrics(ctx context.Context, t *testing.T, c *Cluster) {
	t.Helper()
	s, err := metrics.Scrape(ctx, newMetricsBook().hc, c.TemporalMetricsURL)
	if err != nil {
		t.Fatalf("Temporal server metrics: %v", err)
	}
	requests := s.Sum("service_requests", map[string]string{"operation": "RespondWorkflowTaskCompleted"})
	t.Logf("metrics: the Temporal server counted %.0f completed workflow tasks (service_requests), %d metric families", requests, len(s.Names()))
	if requests == 0 {
		t.Errorf("the Temporal server's metrics count no completed workflow task")
	}
}

// logPeakRSS logs each process's peak resident set, over all its runs.
func logPeakRSS(t *testing.T, c *Cluster, members []*Member) {
	t.Helper()
	for name, rss := range c.ServerPeakRSS() {
		t.Logf("rss: %-16s %6.1f MiB", name, float64(rss)/(1<<20))
	}
	for _, m := range members {
		t.Logf("rss: %-16s %6.1f MiB", m.Name(), float64(m.PeakRSS())/(1<<20))
	}
}

// phaseMeter measures a run: where the CPU went, and how long people waited for a gateway's
// answers.
type phaseMeter struct {
	c             *Cluster
	book          *metricsBook
	members       []*Member
	gateway       *Member
	start         time.Time
	cpu           map[string]float64
	claim, submit latency
}

func startMeter(ctx context.Context, t *testing.T, c *Cluster, book *metricsBook, members []*Member, gateway *Member) *phaseMeter {
	t.Helper()
	m := &phaseMeter{c: c, book: book, members: members, gateway: gateway, start: time.Now(), cpu: cpuUse(c, members)}
	m.claim, m.submit = gatewayLatency(ctx, t, book, gateway)
	return m
}

// report logs the CPU each process used since the start, and the gateway's mean latencies.
func (m *phaseMeter) report(ctx context.Context, t *testing.T, phase string) {
	t.Helper()
	logCPU(t, phase, time.Since(m.start), m.cpu, cpuUse(m.c, m.members))
	claim, submit := gatewayLatency(ctx, t, m.book, m.gateway)
	logLatency(t, phase, m.gateway, m.claim, claim, m.submit, submit)
}

func gatewayLatency(ctx context.Context, t *testing.T, b *metricsBook, gw *Member) (claim, submit latency) {
	t.Helper()
	claim, err := routeLatency(ctx, b, gw, claimRoute)
	if err == nil {
		submit, err = routeLatency(ctx, b, gw, submitRoute)
	}
	if err != nil {
		t.Fatalf("latencies of %s: %v", gw.Name(), err)
	}
	return claim, submit
}

// cpuUse is the CPU seconds used so far by each process, and by this test process (the
// simulated crowd, the status polls, the checks).
func cpuUse(c *Cluster, members []*Member) map[string]float64 {
	out := c.ServerCPUSeconds()
	for _, m := range members {
		out[m.Name()] = m.CPUSeconds()
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		out["crowd+test"] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return out
}

// logCPU logs where the CPU went between two readings of cpuUse, over wall time: the share of
// each process, most first, and the share of the machine's cores used in all.
func logCPU(t *testing.T, phase string, wall time.Duration, before, after map[string]float64) {
	t.Helper()
	type use struct {
		name    string
		seconds float64
	}
	var uses []use
	total := 0.0
	for name, s := range after {
		u := use{name, s - before[name]}
		uses = append(uses, u)
		total += u.seconds
	}
	sort.Slice(uses, func(i, j int) bool { return uses[i].seconds > uses[j].seconds })
	parts := make([]string, 0, len(uses))
	for _, u := range uses {
		parts = append(parts, fmt.Sprintf("%s %.0f s (%.0f%%)", u.name, u.seconds, 100*u.seconds/total))
	}
	available := wall.Seconds() * float64(runtime.NumCPU())
	t.Logf("cpu: %s: %.0f CPU-seconds of the %.0f the machine's %d cores had in %s (%.0f%%; the rest went to other work on the machine, or idled): %s",
		phase, total, available, runtime.NumCPU(), wall.Round(time.Second), 100*total/available, strings.Join(parts, ", "))
}

// logWarnings logs how many warnings and errors each LabelFlow process logged, with the first
// few distinct ones, so that a run that passed still shows what went wrong on the way.
func logWarnings(t *testing.T, members []*Member) {
	t.Helper()
	for _, m := range members {
		data, err := os.ReadFile(m.logFile)
		if err != nil {
			continue
		}
		n, seen := 0, map[string]bool{}
		var first []string
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, `"level":"warn"`) && !strings.Contains(line, `"level":"error"`) {
				continue
			}
			n++
			var e struct{ Message, Error string }
			_ = json.Unmarshal([]byte(line), &e)
			key := e.Message + ": " + e.Error
			if !seen[key] && len(first) < 3 {
				seen[key] = true
				first = append(first, key)
			}
		}
		if n > 0 {
			t.Logf("log: %s logged %d warnings or errors; first: %s", m.Name(), n, strings.Join(first, " | "))
		}
	}
}
