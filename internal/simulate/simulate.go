// Package simulate is the crowd simulator: simulated annotators and reviewers who work through the
// real gateway over HTTP, answering correctly with a given probability against the known truth
// (the manifest line's `truth` field). It stands in for people in the demo, tests and benchmarks.
package simulate

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/workflows"
)

// Options shape the crowd.
type Options struct {
	GatewayURL        string
	Project           string
	Annotators        int
	Reviewers         int
	Accuracy          float64 // probability an annotator answers correctly
	ReviewerAccuracy  float64
	Abandon           float64 // probability a person walks away from a claimed suite
	Think             time.Duration
	Idle              time.Duration // wait after a claim finds no work
	Seed              uint64
	Skills, Languages []string
	Country           string
	// Truth maps item ids to true answers; without it the manifest line's `truth` field is used.
	Truth map[string]string
	// Decoys maps item ids (as chunks name them) to a wrong single-label class that fools the
	// crowd: on such an item everyone, reviewers too, takes the decoy for the truth and answers
	// it as accurately as they answer anything. Real crowds have such items (an ambiguous face,
	// a sarcastic review); they make answers agree on a wrong label, so that a model which
	// takes answers as independent is surer than it should be.
	Decoys map[string]string
	// TaskTime is what a person spends on each task of a suite, give or take a quarter, on top
	// of Think: the ledger's time worked is measured from claim to submit, so this is the time
	// the simulated people are paid for. Zero, the default, is a crowd as fast as it can go.
	TaskTime time.Duration

	// WalkAway is the share of people who, after a suite or two, walk away from one without
	// releasing it and do not come back (presence.go).
	WalkAway float64
	// Release is the probability a person gives a claimed suite back instead of answering it.
	Release float64
}

// LoadTruth reads a truth file: CSV with a header naming an id column (`id` or `task`) and a
// `label` column.
func LoadTruth(file string, r io.Reader) (map[string]string, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: header: %w", file, err)
	}
	idCol, labelCol := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "id", "task":
			idCol = i
		case "label":
			labelCol = i
		}
	}
	if idCol < 0 || labelCol < 0 {
		return nil, fmt.Errorf("%s:1: header: needs an id (or task) column and a label column, got %v", file, header)
	}
	truth := map[string]string{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return truth, nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		id, lbl := strings.TrimSpace(rec[idCol]), strings.TrimSpace(rec[labelCol])
		if id == "" || lbl == "" {
			return nil, fmt.Errorf("%s:%d: id and label must not be empty", file, line)
		}
		if _, dup := truth[id]; dup {
			return nil, fmt.Errorf("%s:%d: id %q appears twice", file, line, id)
		}
		truth[id] = lbl
	}
}

// Stats counts what the crowd did.
type Stats struct {
	Suites      int64 `json:"suites"`
	Answers     int64 `json:"answers"`
	Arbitrated  int64 `json:"arbitrations"`
	Abandoned   int64 `json:"abandoned"`
	Rejected    int64 `json:"rejected"`
	EmptyClaims int64 `json:"empty_claims"`
	Released    int64 `json:"released"`
	Heartbeats  int64 `json:"heartbeats"`
}

// Run drives the gateway with the crowd until the project offers no more work.
func Run(ctx context.Context, o Options, st *store.Store, crowd []Person) (Stats, error) {
	if o.Idle == 0 {
		o.Idle = 100 * time.Millisecond
	}
	s := &sim{o: o, store: st, http: &http.Client{Timeout: time.Minute}, truth: map[int][]known{}, walkers: walkers(o, crowd)}
	var wg sync.WaitGroup
	errs := make(chan error, len(crowd))
	for i, p := range crowd {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(o.Seed, uint64(i)+1))
			if err := s.work(ctx, p, rng); err != nil {
				errs <- fmt.Errorf("%s: %w", p.ID, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return s.stats, <-errs
}

type sim struct {
	o     Options
	store *store.Store
	http  *http.Client
	stats Stats
	// reached is set once the gateway has answered anyone: from then on, people wait out any
	// outage.
	reached atomic.Bool

	mu    sync.Mutex
	truth map[int][]known // chunk → item → what the simulator knows of the item

	walkers map[string]bool // people who walk away (WalkAway)
	gone    departures
}

// known is an item's true answer (JSON) and what a person sees of it.
type known struct {
	id    string
	truth json.RawMessage
	info  itemInfo
}

func (s *sim) work(ctx context.Context, p Person, rng *rand.Rand) error {
	abandoned := map[string]bool{}
	var next *gateway.SuiteView // leased with the last submit: no claim needed
	for ctx.Err() == nil {
		cr := gateway.ClaimResponse{Suite: next, ProjectOpen: true}
		if next == nil {
			status, err := s.call(ctx, p, http.MethodPost, "/v1/projects/"+s.o.Project+"/claim", nil, &cr)
			if err != nil {
				return err
			}
			if status != http.StatusOK {
				return fmt.Errorf("claim: HTTP %d", status)
			}
		}
		next = nil
		if cr.Suite == nil {
			if !cr.ProjectOpen {
				return nil
			}
			atomic.AddInt64(&s.stats.EmptyClaims, 1)
			Sleep(ctx, s.o.Idle+time.Duration(rng.Int64N(int64(s.o.Idle)+1)))
			continue
		}
		suite := cr.Suite
		if abandoned[suite.ID] {
			// Still leased to us after we walked away: wait for the lease to run out.
			Sleep(ctx, time.Until(suite.ExpiresAt)+50*time.Millisecond)
			continue
		}
		if s.walksAway(p, rng) {
			return nil
		}
		if s.releases(ctx, p, rng, suite) {
			continue
		}
		if s.o.Abandon > 0 && rng.Float64() < s.o.Abandon {
			abandoned[suite.ID] = true
			atomic.AddInt64(&s.stats.Abandoned, 1)
			continue
		}
		// As the workbench does, the submit asks for the next suite with it.
		body := gateway.SubmitBody{Next: true}
		acc := s.o.Accuracy
		if suite.Kind == workflows.KindArbitrate {
			acc = s.o.ReviewerAccuracy
		}
		chunk, _ := workflows.ParseSuiteID(suite.ID)
		for _, t := range suite.Tasks {
			k, err := s.truthOf(ctx, chunk, t.Item)
			if err != nil {
				return err
			}
			if decoy, ok := s.o.Decoys[k.id]; ok {
				k.truth = marshal(decoy)
			}
			body.Answers = append(body.Answers, gateway.AnswerBody{Item: t.Item,
				Answer: noisyAnswer(rng, suite.AnnotationType, k.truth, suite.Taxonomy, acc, k.info)})
		}
		s.think(ctx, p, suite, s.o.timeOn(rng, len(suite.Tasks)))
		var res gateway.SubmitAnswer
		status, err := s.call(ctx, p, http.MethodPost, "/v1/projects/"+s.o.Project+"/suites/"+suite.ID+"/submit", body, &res)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			atomic.AddInt64(&s.stats.Rejected, 1)
			continue
		}
		next = res.Next
		atomic.AddInt64(&s.stats.Suites, 1)
		atomic.AddInt64(&s.stats.Answers, int64(len(body.Answers)))
		if suite.Kind == workflows.KindArbitrate {
			atomic.AddInt64(&s.stats.Arbitrated, int64(len(body.Answers)))
		}
	}
	return nil
}

// truthChunks bounds the chunks whose items the crowd keeps in memory: the window holds at most
// a few dozen, and a chunk dropped is read again if it comes back, so a million-item project
// costs the crowd no more memory than a small one.
const truthChunks = 128

// forgetOldChunks drops the lowest-numbered chunk once truthChunks are kept: chunks open in
// order, so it is the one least likely to be asked about again.
func (s *sim) forgetOldChunks() {
	if len(s.truth) < truthChunks {
		return
	}
	oldest := -1
	for c := range s.truth {
		if oldest < 0 || c < oldest {
			oldest = c
		}
	}
	delete(s.truth, oldest)
}

func (s *sim) truthOf(ctx context.Context, chunk, item int) (known, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.truth[chunk]
	if !ok {
		data, err := s.store.Get(ctx, layout.ChunkKey(s.o.Project, chunk))
		if err != nil {
			return known{}, err
		}
		items, err := manifest.ReadChunk(data)
		if err != nil {
			return known{}, err
		}
		m = make([]known, len(items))
		for i, it := range items {
			var line struct {
				Truth  json.RawMessage `json:"truth"`
				Width  float64         `json:"width"`
				Height float64         `json:"height"`
			}
			_ = json.Unmarshal(it.Data, &line)
			m[i] = known{id: it.ID, truth: line.Truth, info: itemInfo{Width: line.Width, Height: line.Height, Text: it.Source}}
		}
		s.forgetOldChunks()
		s.truth[chunk] = m
	}
	if item < 0 || item >= len(m) {
		return known{}, fmt.Errorf("chunk %d has no item %d", chunk, item)
	}
	k := m[item]
	if s.o.Truth != nil {
		if t, ok := s.o.Truth[k.id]; ok {
			k.truth = marshal(t)
		}
	}
	return k, nil
}
func (s *sim) call(ctx context.Context, p Person, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.o.GatewayURL+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+p.Token)
	req.Header.Set("Content-Type", "application/json")
	// People come back when the service is busy or down, for as long as it takes: the same
	// submission is accepted at most once, and the project's own answer (no more work) is what
	// ends their day, or ctx. Only a gateway that never answered at all is given up on, after
	// a few tries: its address is wrong, or it is not running.
	var b backoff
	for ctx.Err() == nil {
		if req.GetBody != nil {
			req.Body, _ = req.GetBody()
		}
		status, data, wait, err := s.do(req)
		if err != nil && !s.reached.Load() && b.attempt >= firstContactTries {
			return 0, fmt.Errorf("the gateway at %s does not answer: %w", s.o.GatewayURL, err)
		}
		if err == nil {
			s.reached.Store(true)
		}
		if err == nil && !retryable(status) {
			if status == http.StatusOK && out != nil {
				return status, json.Unmarshal(data, out)
			}
			return status, nil
		}
		if status == http.StatusTooManyRequests {
			Sleep(ctx, cmp.Or(wait, time.Second)) // asked to slow down: wait as told; that is no outage
			continue
		}
		Sleep(ctx, max(b.next(), wait))
	}
	return 0, ctx.Err()
}

// retryable reports an answer that says "not now" rather than "no": rate limiting and the
// gateway or something behind it being down or overloaded.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// firstContactTries is how many times people try a gateway that has not answered yet.
const firstContactTries = 4

// Waits between attempts while the service is down: doubling from backoffFirst up to backoffMax,
// each drawn between half and all of that, so that a crowd does not come back all at once.
const (
	backoffFirst = 250 * time.Millisecond
	backoffMax   = 30 * time.Second
)

type backoff struct{ attempt int }

func (b *backoff) next() time.Duration {
	d := backoffMax
	if b.attempt < 10 {
		d = min(backoffFirst<<b.attempt, backoffMax)
	}
	b.attempt++
	return d/2 + rand.N(d/2+1)
}

// do sends one request and returns the status, the body and the Retry-After wait (0 when the
// gateway names none).
func (s *sim) do(req *http.Request) (int, []byte, time.Duration, error) {
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	var wait time.Duration
	if secs, convErr := strconv.Atoi(resp.Header.Get("Retry-After")); convErr == nil && secs > 0 {
		wait = time.Duration(secs) * time.Second
	}
	return resp.StatusCode, data, wait, err
}

// Sleep waits d, or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
