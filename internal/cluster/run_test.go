//go:build linux

package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/payoutdetails"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workflows"
)

// projectRun is one project run on the cluster: what it was, how it ended, how long it took.
type projectRun struct {
	Project spec.Project
	Status  app.ProjectView
	Took    time.Duration // launch to completed delivery
	Crowd   simulate.Stats
}

// itemsPerSecond is the run's throughput: delivered items over launch to delivery.
func (r projectRun) itemsPerSecond() float64 {
	return float64(r.Status.Done.Delivered) / r.Took.Seconds()
}

// The crowd of a run: instant people (no think time), half of them on each gateway.
const (
	crowdAnnotators = 24
	crowdReviewers  = 4
	chunkSize       = 500
)

// runProject launches project id of n items and lets a simulated crowd work it through the
// gateways, half the people on each, until it is delivered. progress sees every status reading.
func runProject(ctx context.Context, t *testing.T, c *Cluster, id string, n int, gateways []*Member, progress func(app.ProjectView)) projectRun {
	t.Helper()
	p, launched := launchProject(ctx, t, c, id, n)
	o := simulate.Options{Project: id, Annotators: crowdAnnotators, Reviewers: crowdReviewers, Accuracy: 0.85,
		ReviewerAccuracy: 0.95, Seed: 11, Languages: []string{"en"}, Idle: 50 * time.Millisecond}
	crowd := registerCrowd(ctx, t, c, o)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	stats := make([]simulate.Stats, len(gateways))
	errs := make([]error, len(gateways))
	for g, gw := range gateways {
		var share []simulate.Person
		for i, person := range crowd {
			if i%len(gateways) == g {
				share = append(share, person)
			}
		}
		og := o
		og.GatewayURL, og.Seed = gw.URL, o.Seed+uint64(g)
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[g], errs[g] = simulate.Run(runCtx, og, c.App.Store, share)
		}()
	}
	status, err := c.App.WaitProject(ctx, id, progress)
	took := time.Since(launched)
	if err != nil {
		t.Fatalf("project %s: %v", id, err)
	}
	wg.Wait()
	run := projectRun{Project: p, Status: status, Took: took}
	for g := range gateways {
		if errs[g] != nil {
			t.Fatalf("the crowd on %s: %v", gateways[g].Name(), errs[g])
		}
		run.Crowd.Suites += stats[g].Suites
		run.Crowd.Answers += stats[g].Answers
		run.Crowd.Rejected += stats[g].Rejected
		run.Crowd.EmptyClaims += stats[g].EmptyClaims
	}
	if status.Stage != workflows.StageCompleted || status.Done.Delivered != status.Items {
		t.Fatalf("project %s ended at stage %s with %d of %d items delivered: %s", id, status.Stage, status.Done.Delivered, status.Items, status.Error)
	}
	return run
}

// launchProject uploads the demo dataset of n reviews into the client's intake prefix and
// launches project id on it as the cluster's ops person, delivering into the client's bucket
// with the client's delivery profile. It returns the project and the time its launch began.
func launchProject(ctx context.Context, t *testing.T, c *Cluster, id string, n int) (spec.Project, time.Time) {
	t.Helper()
	data, _ := demo.Dataset(n, 11)
	if err := c.App.Store.PutIn(ctx, demo.IntakeBucket, clientID+"/reviews.manifest", data); err != nil {
		t.Fatal(err)
	}
	yaml := demo.SpecYAML(id, c.Cfg.StoreEndpoint, chunkSize, 2*time.Minute, "", "")
	if strings.Count(yaml, "credentials: dev\n") != 1 {
		t.Fatalf("the demo spec no longer names the dev profile once:\n%s", yaml)
	}
	yaml = strings.Replace(yaml, "credentials: dev\n", "credentials: "+clientProfile+"\n", 1)
	p, err := c.App.ParseSpec(id+".yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ops, err := c.App.Authenticate(ctx, c.Staff.OpsToken)
	if err != nil {
		t.Fatal(err)
	}
	launched := time.Now()
	if _, err := c.App.Launch(ctx, ops, p); err != nil {
		t.Fatal(err)
	}
	return p, launched
}

// registerCrowd imports the people of o into the roster as ordinary people (not marked
// simulated), with their tokens, and their payout details into the vault, with LabelFlow's own
// commands; the simulator then works as them.
func registerCrowd(ctx context.Context, t *testing.T, c *Cluster, o simulate.Options) []simulate.Person {
	t.Helper()
	crowd, err := simulate.Crowd(o)
	if err != nil {
		t.Fatal(err)
	}
	details := make([]payoutdetails.Details, len(crowd))
	for i := range crowd {
		p := &crowd[i].Person
		p.ID, p.Simulated = strings.TrimPrefix(p.ID, "sim-"), false
		p.Name = strings.Replace(p.Name, "Simulated", "Cluster", 1)
		details[i] = PayoutDetailsFor(*p)
	}
	if err := c.ImportPeople(ctx, o.Project, crowd, details); err != nil {
		t.Fatal(err)
	}
	return crowd
}

// labelled is how many items of a project have their final label, in delivered and live chunks.
func labelled(v app.ProjectView) int { return v.Done.Items + v.Final }

// progressWatch follows a project's progress for the fault schedule: the share of items
// labelled, and when the count last grew.
type progressWatch struct {
	mu     sync.Mutex
	total  int
	done   int
	grewAt time.Time
}

func (w *progressWatch) see(v app.ProjectView) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := labelled(v); n > w.done {
		w.done, w.grewAt = n, time.Now()
	}
}

// share is the fraction of items labelled.
func (w *progressWatch) share() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return float64(w.done) / float64(w.total)
}

// growthAfter reports, on the channel it returns, the first time after t that the count grew
// (zero if ctx ends first).
func (w *progressWatch) growthAfter(ctx context.Context, t time.Time) <-chan time.Time {
	out := make(chan time.Time, 1)
	go func() {
		for ctx.Err() == nil {
			w.mu.Lock()
			grew := w.grewAt
			w.mu.Unlock()
			if grew.After(t) {
				out <- grew
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		out <- time.Time{}
	}()
	return out
}

// waitShare waits until share of the items are labelled.
func (w *progressWatch) waitShare(ctx context.Context, share float64) error {
	for w.share() < share {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %.0f%% of the items: %w", 100*share, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}
