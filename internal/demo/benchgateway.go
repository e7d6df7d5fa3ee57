package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workflows"
)

// GatewayBenchOptions shape a run of people claiming and submitting through the gateway at a
// given pace, for a fixed time.
type GatewayBenchOptions struct {
	ProjectID  string
	Annotators int
	// Think is the time a person spends on a suite, give or take a quarter, between its claim and
	// its submission; the next claim follows the submission.
	Think     time.Duration
	Duration  time.Duration
	SuiteSize int
	// Items in the project; enough that the crowd never runs out during Duration.
	Items int
	Seed  uint64
}

// GatewayBench is what a gateway run measured. Latencies are of whole HTTP round trips, as the
// people saw them.
type GatewayBench struct {
	Claims, Submits           []time.Duration // sorted
	ClaimErrors, SubmitErrors int64
	EmptyClaims               int64
	Suites, Answers           int64
	Elapsed                   time.Duration
	// Actions are the billable actions the Temporal server counted during the run, by type.
	Actions map[string]float64
	// CPU is the processor time each process of the stack used during the run.
	CPU []ProcessCPU
	// Samples are the same taken every ten seconds, to see which process was busy when.
	Samples []CPUSample
}

// ProcessCPU is the processor time one process used.
type ProcessCPU struct {
	Name    string
	PID     int
	Seconds float64
}

// ItemsAnnotated is the answers given, in items of annotators_per_item (2) answers.
func (b GatewayBench) ItemsAnnotated() float64 { return float64(b.Answers) / 2 }

// TotalActions adds up the billable actions of the run.
func (b GatewayBench) TotalActions() float64 {
	t := 0.0
	for _, n := range b.Actions {
		t += n
	}
	return t
}

// Percentile returns the p-th percentile (0–100) of sorted durations, 0 when there are none.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// RunGatewayBench launches a project big enough for the run, registers the crowd, waits until
// chunks are open, then lets every person claim, think and submit through the gateway over HTTP
// for o.Duration, and reads the actions Temporal counted meanwhile.
func RunGatewayBench(ctx context.Context, e *Env, o GatewayBenchOptions) (GatewayBench, error) {
	var out GatewayBench
	if err := launchBenchProject(ctx, e, o); err != nil {
		return out, err
	}
	crowd, err := benchCrowd(ctx, e, o)
	if err != nil {
		return out, err
	}
	if err := awaitOpenChunks(ctx, e, o.ProjectID); err != nil {
		return out, err
	}
	before, err := e.ServerActions(ctx)
	if err != nil {
		return out, err
	}
	cpuBefore := stackCPU(e)
	sampler := StartCPUSampler(e, 10*time.Second)
	b := &benchCrowdRun{o: o, url: e.GatewayURL, http: &http.Client{Timeout: time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.Annotators + 16, MaxIdleConns: o.Annotators + 16}}}
	start := time.Now()
	b.run(ctx, crowd)
	out.Elapsed = time.Since(start)
	after, err := e.ServerActions(ctx)
	if err != nil {
		return out, err
	}
	out.CPU = cpuSince(cpuBefore, stackCPU(e))
	out.Samples = sampler.Stop()
	out.Actions = map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out.Actions[k] = d
		}
	}
	b.result(&out)
	return out, nil
}

// launchBenchProject uploads o.Items reviews and launches the project with o's suite size.
func launchBenchProject(ctx context.Context, e *Env, o GatewayBenchOptions) error {
	data, _ := Dataset(o.Items, o.Seed)
	if err := e.App.Store.PutIn(ctx, IntakeBucket, "acme/reviews.manifest", data); err != nil {
		return err
	}
	p, err := spec.Parse("bench-project.yaml", []byte(SpecYAML(o.ProjectID, e.Cfg.StoreEndpoint, 500, 15*time.Minute, "", "")))
	if err != nil {
		return err
	}
	p.SuiteSize = o.SuiteSize
	ops, err := SignIn(ctx, e.App, OpsDemo)
	if err != nil {
		return err
	}
	_, err = e.App.Launch(ctx, ops, p)
	return err
}

// BenchReviewers is the reviewers a bench crowd of annotators brings: enough to arbitrate the
// disputes of people who agree about three times in four, so that chunks finish and the window
// moves on, as with a real crowd.
func BenchReviewers(annotators int) int { return max(2, annotators/8) }

// benchCrowd registers o.Annotators simulated annotators and their reviewers.
func benchCrowd(ctx context.Context, e *Env, o GatewayBenchOptions) ([]simulate.Person, error) {
	permit, err := simulate.Allow(e.App.Cfg, false)
	if err != nil {
		return nil, err
	}
	crowd, err := simulate.Crowd(simulate.Options{Project: o.ProjectID, Annotators: o.Annotators, Reviewers: BenchReviewers(o.Annotators), Seed: o.Seed, Languages: []string{"en"}})
	if err != nil {
		return nil, err
	}
	return crowd, simulate.Register(ctx, permit, e.App.Roster, crowd)
}

// awaitOpenChunks waits until the project is split and its first chunks run.
func awaitOpenChunks(ctx context.Context, e *Env, project string) error {
	for {
		st, err := e.App.ProjectState(ctx, project)
		if err == nil && st.Stage == workflows.StageAnnotating && len(st.Running) > 0 {
			return nil
		}
		if err == nil && st.Stage != workflows.StageChunking && st.Stage != workflows.StageAnnotating {
			return fmt.Errorf("project %s is %s before the crowd started", project, st.Stage)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// benchCrowdRun is the crowd at work and what it measured.
type benchCrowdRun struct {
	o    GatewayBenchOptions
	url  string
	http *http.Client

	mu              sync.Mutex
	claims, submits []time.Duration

	claimErrors, submitErrors, empty, suites, answers atomic.Int64
}

func (b *benchCrowdRun) run(ctx context.Context, crowd []simulate.Person) {
	ctx, cancel := context.WithTimeout(ctx, b.o.Duration)
	defer cancel()
	var wg sync.WaitGroup
	for i, p := range crowd {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(b.o.Seed, uint64(i)+1))
			// People arrive over one think time, not all in the same instant.
			simulate.Sleep(ctx, time.Duration(rng.Int64N(int64(b.o.Think)+1)))
			b.work(ctx, p, rng)
		}()
	}
	wg.Wait()
}

// work claims, thinks and submits until ctx ends. A claim with no suite waits as the gateway
// says; a failed request waits a second.
func (b *benchCrowdRun) work(ctx context.Context, p simulate.Person, rng *rand.Rand) {
	var next *gateway.SuiteView // leased with the last submission
	for ctx.Err() == nil {
		suite := next
		if suite == nil {
			suite = b.claim(ctx, p)
		}
		if suite == nil {
			continue
		}
		next = b.submit(ctx, p, rng, suite)
	}
}

// claim asks for a suite; with none it waits as the gateway says, after a failure a second.
func (b *benchCrowdRun) claim(ctx context.Context, p simulate.Person) *gateway.SuiteView {
	var cr gateway.ClaimResponse
	took, ok := b.call(ctx, p, "/v1/projects/"+b.o.ProjectID+"/claim", nil, &cr)
	if ctx.Err() != nil {
		return nil
	}
	b.note(&b.claims, took)
	switch {
	case !ok:
		b.claimErrors.Add(1)
		simulate.Sleep(ctx, time.Second)
	case cr.Suite == nil:
		b.empty.Add(1)
		simulate.Sleep(ctx, time.Duration(max(cr.RetryAfter, 1))*time.Second)
	}
	return cr.Suite
}

// submit thinks over the suite, answers it and asks for the next suite with the answer.
func (b *benchCrowdRun) submit(ctx context.Context, p simulate.Person, rng *rand.Rand, suite *gateway.SuiteView) *gateway.SuiteView {
	body := gateway.SubmitBody{Next: true}
	for _, t := range suite.Tasks {
		body.Answers = append(body.Answers, gateway.AnswerBody{Item: t.Item, Answer: json.RawMessage(strconv.Quote(benchAnswer(rng, suite.ID, t.Item)))})
	}
	think := b.o.Think*3/4 + time.Duration(rng.Int64N(int64(b.o.Think)/2+1))
	simulate.Sleep(ctx, think)
	if ctx.Err() != nil {
		return nil
	}
	var res gateway.SubmitAnswer
	took, ok := b.call(ctx, p, "/v1/projects/"+b.o.ProjectID+"/suites/"+suite.ID+"/submit", body, &res)
	if ctx.Err() != nil {
		return nil
	}
	b.note(&b.submits, took)
	if !ok {
		b.submitErrors.Add(1)
		simulate.Sleep(ctx, time.Second)
		return nil
	}
	b.suites.Add(1)
	if suite.Kind == workflows.KindAnnotate {
		b.answers.Add(int64(res.Accepted))
	}
	return res.Next
}

// benchAnswer is a person's answer to an item: the item's own label (a hash of its chunk and
// index stands for the truth) 85% of the time, else any label.
func benchAnswer(rng *rand.Rand, suiteID string, item int) string {
	if rng.Float64() < 0.15 {
		return Taxonomy[rng.IntN(len(Taxonomy))]
	}
	chunk, _ := workflows.ParseSuiteID(suiteID)
	return Taxonomy[(chunk*7919+item)%len(Taxonomy)]
}

// call sends one request and reports how long it took and whether it was answered with 200.
func (b *benchCrowdRun) call(ctx context.Context, p simulate.Person, path string, body, out any) (time.Duration, bool) {
	var rd io.Reader = http.NoBody
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url+path, rd)
	if err != nil {
		return 0, false
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := b.http.Do(req)
	if err != nil {
		return time.Since(start), false
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		return took, false
	}
	return took, json.Unmarshal(data, out) == nil
}

func (b *benchCrowdRun) note(into *[]time.Duration, d time.Duration) {
	b.mu.Lock()
	*into = append(*into, d)
	b.mu.Unlock()
}

func (b *benchCrowdRun) result(out *GatewayBench) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out.Claims, out.Submits = slices.Clone(b.claims), slices.Clone(b.submits)
	slices.Sort(out.Claims)
	slices.Sort(out.Submits)
	out.ClaimErrors, out.SubmitErrors = b.claimErrors.Load(), b.submitErrors.Load()
	out.EmptyClaims, out.Suites, out.Answers = b.empty.Load(), b.suites.Load(), b.answers.Load()
}

// ServerActions reads the billable actions the Temporal server counted so far in the stack's
// namespace, by action type (its `action` metric): Updates accepted or rejected, Queries,
// workflow and activity starts, timers, signals, markers.
func (e *Env) ServerActions(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.Stack.TemporalMetricsURL(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("temporal metrics: %w", err)
	}
	defer resp.Body.Close()
	return parseActions(resp.Body, e.Cfg.TemporalNamespace)
}

// parseActions sums the Prometheus series `action{action_type=…,namespace=…}` of namespace by
// action type.
func parseActions(r io.Reader, namespace string) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "action{") || !strings.Contains(line, `namespace="`+namespace+`"`) {
			continue
		}
		typ := labelValue(line, "action_type")
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("temporal metrics: %q: %w", line, err)
		}
		out[typ] += v
	}
	return out, sc.Err()
}

func labelValue(line, name string) string {
	_, rest, ok := strings.Cut(line, name+`="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// stackCPU reads the processor time of this process (gateway and crowd) and of its children (the
// Temporal server, the S3 server, the worker).
func stackCPU(e *Env) []ProcessCPU {
	self := os.Getpid()
	out := []ProcessCPU{{Name: "bench (gateway, crowd)", PID: self, Seconds: cpuSeconds(self)}}
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		name, parent := procParent(pid)
		if parent == self {
			if e.Worker != nil && e.Worker.Process != nil && pid == e.Worker.Process.Pid {
				name = "worker (labelflow)"
			}
			out = append(out, ProcessCPU{Name: name, PID: pid, Seconds: cpuSeconds(pid)})
		}
	}
	return out
}

func cpuSince(before, after []ProcessCPU) []ProcessCPU {
	var out []ProcessCPU
	for _, a := range after {
		for _, b := range before {
			if a.PID == b.PID {
				a.Seconds -= b.Seconds
			}
		}
		out = append(out, a)
	}
	return out
}

// procStat returns the fields of /proc/<pid>/stat after the command name.
func procStat(pid int) (string, []string) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", nil
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", nil
	}
	return s[open+1 : end], strings.Fields(s[end+1:])
}

func procParent(pid int) (string, int) {
	name, f := procStat(pid)
	if len(f) < 2 {
		return "", 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return name, ppid
}

// cpuSeconds is user plus system time of pid, at the usual 100 clock ticks a second.
func cpuSeconds(pid int) float64 {
	_, f := procStat(pid)
	if len(f) < 13 {
		return 0
	}
	user, _ := strconv.ParseFloat(f[11], 64)
	sys, _ := strconv.ParseFloat(f[12], 64)
	return (user + sys) / 100
}
