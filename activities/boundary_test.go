package activities

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/labelflow/labelflow/internal/clients"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/egress"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
)

// testClients declares the fixture's client and another one, whose locations acme must not reach.
const testClients = `clients:
  acme:
    intake: [s3://intake/acme/]
    delivery_buckets: [{bucket: client, endpoint: 127.0.0.1}]
    delivery_profiles: [dev]
    webhook_secrets: [p1-hook]
  globex:
    intake: [s3://intake/globex/]
    delivery_buckets: [globex-out]
    delivery_profiles: [globex]
    webhook_secrets: [globex-hook]
`

func testBoundary(t testing.TB, g egress.Guard) spec.Boundary {
	t.Helper()
	reg, err := clients.Parse("clients.yaml", []byte(testClients), devstacktest.PlatformBucket)
	if err != nil {
		t.Fatal(err)
	}
	return spec.Boundary{Clients: reg, PlatformBucket: devstacktest.PlatformBucket, Egress: g}
}

// rosterRecord stands for what the platform bucket holds and a client must never see.
const rosterRecord = `{"id":"p-0001","name":"Amina","token_hash":"ROSTER-SECRET-HASH"}`

// countUnder counts the objects under prefix in bucket.
func countUnder(t *testing.T, f *fixture, bucket, prefix string) int {
	t.Helper()
	s, err := store.New(store.Options{Endpoint: f.env.Stack.S3Endpoint, AccessKey: f.env.Stack.AccessKey, SecretKey: f.env.Stack.SecretKey,
		Region: "us-east-1", Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.List(context.Background(), prefix, func(string, int64) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) split(in SplitInput) (SplitResult, error) {
	var s testsuite.WorkflowTestSuite
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(f.acts)
	v, err := aenv.ExecuteActivity(f.acts.SplitManifest, in)
	var res SplitResult
	if err == nil {
		err = v.Get(&res)
	}
	return res, err
}

func TestActivitiesKeepProjectsInsideTheirClient(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.env.Store.Put(ctx, "workforce/people/p-0001.json", []byte(rosterRecord)); err != nil {
		t.Fatal(err)
	}

	// PrepareProject is where a workflow started without a launch meets the same checks.
	t.Run("prepare refuses specs reaching outside the client", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			change func(p *spec.Project)
			want   string
		}{
			{"roster as source", func(p *spec.Project) { p.Source = "s3://labelflow/workforce/people/p-0001.json" }, "source: s3://labelflow/workforce/people/p-0001.json is in the platform bucket"},
			{"gold in the platform bucket", func(p *spec.Project) {
				p.Quality.Gold = spec.Gold{Source: "s3://labelflow/ledger/2026-11/x.jsonl", PerChunk: 1}
			}, "quality.gold.source"},
			{"delivery into the ledger", func(p *spec.Project) { p.Delivery.Bucket, p.Delivery.Prefix = "labelflow", "ledger/2026-12/" }, "delivery.bucket: labelflow is the platform bucket"},
			{"another client's bucket", func(p *spec.Project) { p.Delivery.Bucket, p.Delivery.Endpoint = "globex-out", "" }, "not one of client acme's delivery buckets"},
			{"another client's profile", func(p *spec.Project) { p.Delivery.Credentials = "globex" }, `delivery profile "globex" is not one of client acme's`},
			{"another client's webhook secret", func(p *spec.Project) {
				p.Delivery.Webhook = spec.Webhook{URL: "https://hooks.globex.example/", Secret: "globex-hook"}
			}, "names none of client acme's webhook secrets"},
			{"inline webhook secret", func(p *spec.Project) {
				p.Delivery.Webhook = spec.Webhook{URL: "https://hooks.acme.example/", Secret: "9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"}
			}, "secrets live in the delivery profiles file"},
			{"path as id", func(p *spec.Project) { p.ID = "../ledger" }, "id: must be"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := f.sp
				p.ID = "evil-" + strings.ReplaceAll(tc.name, " ", "-")
				p.ID = strings.ReplaceAll(p.ID, "'", "")
				tc.change(&p)
				err := f.acts.PrepareProject(ctx, PrepareProjectInput{Spec: p})
				var app *temporal.ApplicationError
				if !errors.As(err, &app) || !app.NonRetryable() || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("prepare: %v, want a final refusal with %q", err, tc.want)
				}
				if strings.Contains(err.Error(), "9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c") {
					t.Fatalf("the refusal repeats the inline secret: %v", err)
				}
				if ok, _ := f.env.Store.Exists(ctx, layout.SpecKey(p.ID)); ok {
					t.Fatalf("the refused spec was stored")
				}
			})
		}
		if n := countUnder(t, f, devstacktest.PlatformBucket, "ledger/2026-12/"); n != 0 {
			t.Fatalf("%d objects under ledger/2026-12/", n)
		}
		if n := countUnder(t, f, devstacktest.ClientBucket, "out/evil-"); n != 0 {
			t.Fatalf("%d objects written for refused projects", n)
		}
	})

	t.Run("a project id holds one spec", func(t *testing.T) {
		if err := f.acts.PrepareProject(ctx, PrepareProjectInput{Spec: f.sp}); err != nil {
			t.Fatalf("the same spec again (a retry): %v", err)
		}
		other := f.sp
		other.Delivery.Prefix = "elsewhere"
		if err := f.acts.PrepareProject(ctx, PrepareProjectInput{Spec: other}); err == nil || !strings.Contains(err.Error(), "already exists with another spec") {
			t.Fatalf("another spec under p1: %v", err)
		}
		var stored spec.Project
		if err := f.env.Store.GetJSON(ctx, layout.SpecKey("p1"), &stored); err != nil || stored.Delivery.Prefix != "out" {
			t.Fatalf("p1's spec changed: %+v, %v", stored.Delivery, err)
		}
	})

	p2 := f.sp
	p2.ID = "p2"
	if err := f.acts.PrepareProject(ctx, PrepareProjectInput{Spec: p2}); err != nil {
		t.Fatal(err)
	}

	t.Run("split refuses sources outside the intake", func(t *testing.T) {
		for _, in := range []SplitInput{
			{ProjectID: "p2", Source: "s3://labelflow/workforce/people/p-0001.json", ChunkSize: 2},
			{ProjectID: "p2", Source: "s3://labelflow/projects/p1/chunks/chunk-000000.jsonl", ChunkSize: 2},
			{ProjectID: "p2", Source: "s3://intake/globex/x.manifest", ChunkSize: 2},
			{ProjectID: "p2", Source: p2.Source, ChunkSize: 2, GoldSource: "s3://labelflow/workforce/people/p-0001.json", GoldPerChunk: 1},
		} {
			_, err := f.split(in)
			var app *temporal.ApplicationError
			if !errors.As(err, &app) || !app.NonRetryable() || !strings.Contains(err.Error(), "platform bucket") && !strings.Contains(err.Error(), "outside client acme's intake") {
				t.Fatalf("split of %s (gold %s): %v", in.Source, in.GoldSource, err)
			}
		}
		if n := countUnder(t, f, devstacktest.PlatformBucket, "projects/p2/chunks/"); n != 0 {
			t.Fatalf("%d chunks written from a refused source", n)
		}
	})

	t.Run("source-refs outside the intake are quarantined", func(t *testing.T) {
		lines := `{"id":"ok","source-ref":"s3://intake/acme/img/1.jpg"}
{"id":"roster","source-ref":"s3://labelflow/workforce/people/p-0001.json"}
{"id":"theirs","source-ref":"s3://intake/globex/img/1.jpg"}
`
		if err := f.env.Store.PutIn(ctx, devstacktest.IntakeBucket, "acme/refs.manifest", []byte(lines)); err != nil {
			t.Fatal(err)
		}
		res, err := f.split(SplitInput{ProjectID: "p2", Source: "s3://intake/acme/refs.manifest", ChunkSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		if res.Items != 1 || res.Rejects != 2 {
			t.Fatalf("split = %+v", res)
		}
		rejects, _ := f.env.Store.Get(ctx, layout.RejectsKey("p2"))
		chunk, _ := f.env.Store.Get(ctx, layout.ChunkKey("p2", 0))
		if !strings.Contains(string(rejects), `"line":2,"field":"source-ref","reason":"source-ref is refused: s3://labelflow/workforce/people/p-0001.json is in the platform bucket`) ||
			!strings.Contains(string(rejects), `"line":3,"field":"source-ref","reason":"source-ref is refused: s3://intake/globex/img/1.jpg is outside client acme's intake locations`) {
			t.Fatalf("rejects = %s", rejects)
		}
		for _, obj := range [][]byte{rejects, chunk} {
			if strings.Contains(string(obj), "ROSTER-SECRET-HASH") {
				t.Fatalf("platform data reached a project's files: %s", obj)
			}
		}
	})

	t.Run("a re-delivery goes only to the client's buckets", func(t *testing.T) {
		if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: settled(time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))}); err != nil {
			t.Fatal(err)
		}
		before := countUnder(t, f, devstacktest.PlatformBucket, "ledger/")
		for _, target := range []spec.Delivery{
			{Bucket: devstacktest.PlatformBucket, Prefix: "ledger/2026-12/", Region: "us-east-1", Endpoint: f.env.Stack.S3Endpoint, Credentials: "dev"},
			{Bucket: "globex-out", Region: "us-east-1", Credentials: "globex"},
		} {
			_, err := f.acts.DeliverChunk(ctx, DeliverChunkInput{ProjectID: "p1", Chunk: 0, Redelivery: Redelivery{ID: "evil", Target: &target}})
			if err == nil || !strings.Contains(err.Error(), "delivery target of project p1 refused: delivery.bucket") {
				t.Fatalf("re-delivery to %s: %v", target.Bucket, err)
			}
		}
		if after := countUnder(t, f, devstacktest.PlatformBucket, "ledger/"); after != before {
			t.Fatalf("ledger objects: %d before, %d after", before, after)
		}
		if n := countUnder(t, f, devstacktest.PlatformBucket, "projects/p1/redeliveries/evil/"); n != 0 {
			t.Fatalf("%d receipts of a refused re-delivery", n)
		}
	})

	t.Run("webhooks stay inside the client and the egress rules", func(t *testing.T) {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
		defer srv.Close()
		t.Setenv("P1_HOOK", "p1-hook-secret-0123456789")
		notify := func(acts *Activities, hook spec.Webhook) WebhookResult {
			t.Helper()
			sp := f.sp
			sp.ID = "p-hook"
			sp.Delivery.Webhook = hook
			acts.specs.Store(sp.ID, sp)
			res, err := acts.NotifyWebhook(ctx, WebhookInput{ProjectID: sp.ID, Type: "project.completed", Items: 1})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		prod := &Activities{Store: f.env.Store, Targets: f.acts.Targets, Log: f.acts.Log, Boundary: testBoundary(t, egress.Guard{})}
		if res := notify(prod, spec.Webhook{URL: srv.URL, Secret: "p1-hook"}); res.Sent || !strings.Contains(res.Err, "egress refused") {
			t.Fatalf("production webhook to loopback: %+v", res)
		}
		if res := notify(f.acts, spec.Webhook{URL: srv.URL, Secret: "globex-hook"}); res.Sent || !strings.Contains(res.Err, "names none of client acme's webhook secrets") {
			t.Fatalf("another client's secret: %+v", res)
		}
		if calls.Load() != 0 {
			t.Fatalf("the endpoint received %d calls", calls.Load())
		}
	})
}
