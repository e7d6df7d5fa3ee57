package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.temporal.io/api/serviceerror"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// Two clients on the test stack: acme, whose projects are launched, and globex, whose bucket,
// profile and secret acme's specs try to use.
const testClients = `clients:
  acme:
    intake: [s3://intake/acme/]
    delivery_buckets: [{bucket: client, endpoint: 127.0.0.1}]
    delivery_profiles: [dev]
    webhook_secrets: [acme-hook]
  globex:
    intake: [s3://intake/globex/]
    delivery_buckets: [{bucket: globex-out, endpoint: 127.0.0.1}]
    delivery_profiles: [globex]
    webhook_secrets: [globex-hook]
`

const testProfiles = `profiles:
  globex:
    access_key_id: GLOBEXEXAMPLE
    secret_access_key_env: LABELFLOW_TEST_GLOBEX_SECRET
webhook_secrets:
  acme-hook: {env: LABELFLOW_TEST_ACME_HOOK}
  globex-hook: {env: LABELFLOW_TEST_GLOBEX_HOOK}
`

// A spec of acme inside acme's locations. Line 3: source; 8: delivery.bucket; 9: prefix;
// 11: endpoint; 12: credentials; 13: webhook.
const boundarySpec = `id: %ID%
client: acme
source: s3://intake/acme/p.manifest
annotation: {type: single-label, taxonomy: [a, b], instructions: pick}
pay: {currency: USD, per_annotation: "0.01", per_arbitration: "0.02"}
quality: {gold: {source: s3://intake/acme/gold.manifest}}
delivery:
  bucket: client
  prefix: labels/
  region: us-east-1
  endpoint: %ENDPOINT%
  credentials: dev
  webhook: {url: "http://127.0.0.1:1/hook", secret: acme-hook}
`

type launcher struct {
	env *devstacktest.Env
	app *app.App
	ops app.Actor
}

func startLauncher(t *testing.T) *launcher {
	env := devstacktest.Start(t)
	dir := t.TempDir()
	t.Setenv("LABELFLOW_TEST_GLOBEX_SECRET", "globex-secret-not-used")
	t.Setenv("LABELFLOW_TEST_ACME_HOOK", "acme-hook-secret-0123456789")
	t.Setenv("LABELFLOW_TEST_GLOBEX_HOOK", "globex-hook-secret-0123456789")
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.TemporalAddress, cfg.StoreEndpoint = env.Stack.TemporalAddress, env.Stack.S3Endpoint
	cfg.StoreAccessKey, cfg.StoreSecretKey, cfg.StoreBucket = env.Stack.AccessKey, env.Stack.SecretKey, devstacktest.PlatformBucket
	cfg.Clients, cfg.DeliveryProfiles = write("clients.yaml", testClients), write("profiles.yaml", testProfiles)
	a, err := app.Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	ctx := context.Background()
	for key, data := range map[string]string{"acme/p.manifest": `{"source":"a"}` + "\n", "acme/gold.manifest": `{"source":"b","truth":"a"}` + "\n"} {
		if err := env.Store.PutIn(ctx, devstacktest.IntakeBucket, key, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	// What the attacks are after: a roster record and a ledger month.
	if err := env.Store.Put(ctx, "workforce/people/p-0001.json", []byte(`{"id":"p-0001","token_hash":"ROSTER-SECRET-HASH"}`)); err != nil {
		t.Fatal(err)
	}
	return &launcher{env: env, app: a, ops: app.Actor{Person: workforce.Person{ID: "olu", Role: app.RoleOps}}}
}

func (l *launcher) spec(id, from, to string) string {
	s := strings.NewReplacer("%ID%", id, "%ENDPOINT%", l.env.Stack.S3Endpoint).Replace(boundarySpec)
	return strings.Replace(s, from, to, 1)
}

// leftNothing fails t if anything of project id exists: its workflow, its spec, a probe in the
// client bucket, or anything written under the ledger's next month.
func (l *launcher) leftNothing(t *testing.T, a *app.App, id string) {
	t.Helper()
	ctx := context.Background()
	var nf *serviceerror.NotFound
	if _, err := a.Describe(ctx, workflows.ProjectWorkflowID(id), ""); !errors.As(err, &nf) {
		t.Fatalf("project %s: workflow exists or cannot be looked up: %v", id, err)
	}
	if ok, err := l.env.Store.Exists(ctx, "projects/"+id+"/spec.json"); ok || err != nil {
		t.Fatalf("project %s: spec stored (%v)", id, err)
	}
	for bucket, prefix := range map[string]string{devstacktest.PlatformBucket: "ledger/2026-12/", devstacktest.ClientBucket: "labels/" + id + "/"} {
		s, err := store.New(store.Options{Endpoint: l.env.Stack.S3Endpoint, AccessKey: l.env.Stack.AccessKey, SecretKey: l.env.Stack.SecretKey, Region: "us-east-1", Bucket: bucket})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.List(ctx, prefix, func(key string, _ int64) error { return errors.New("found " + key) }); err != nil {
			t.Fatalf("project %s: s3://%s/%s: %v", id, bucket, prefix, err)
		}
	}
}

// launch does what the gateway does with a spec file: parse it within the boundary (errors with
// lines), then launch; and it launches the structurally valid spec directly too, as a caller with
// a parsed spec would, which must be refused as well.
func (l *launcher) launch(t *testing.T, a *app.App, file, data string) error {
	t.Helper()
	ctx := context.Background()
	_, perr := a.ParseSpec(file, []byte(data))
	if p, err := spec.Parse(file, []byte(data)); err == nil {
		if _, lerr := a.Launch(ctx, l.ops, p); lerr == nil {
			t.Fatalf("%s: launched a spec the boundary refuses (%v)", file, perr)
		}
	}
	return perr
}

func TestLaunchRefusesSpecsReachingOutsideTheirClient(t *testing.T) {
	l := startLauncher(t)
	prod := *l.app
	prod.Cfg.Stack = config.StackProduction
	const inline = "9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"
	for _, tc := range []struct {
		name, from, to string
		production     bool
		want           string
	}{
		{"roster record as source", "source: s3://intake/acme/p.manifest", "source: s3://labelflow/workforce/people/p-0001.json", false,
			"attack.yaml:3: source: s3://labelflow/workforce/people/p-0001.json is in the platform bucket"},
		{"another project's chunk as source", "source: s3://intake/acme/p.manifest", "source: s3://labelflow/projects/globex-1/chunks/chunk-000000.jsonl", false,
			"attack.yaml:3: source: s3://labelflow/projects/globex-1/chunks/chunk-000000.jsonl is in the platform bucket"},
		{"gold source in the platform bucket", "source: s3://intake/acme/gold.manifest", "source: s3://labelflow/workforce/people/p-0001.json", false,
			"attack.yaml:6: quality.gold.source: s3://labelflow/workforce/people/p-0001.json is in the platform bucket"},
		{"delivery into next month's ledger", "bucket: client\n  prefix: labels/", "bucket: labelflow\n  prefix: ledger/2026-12/", false,
			"attack.yaml:8: delivery.bucket: labelflow is the platform bucket"},
		{"another client's bucket", "bucket: client", "bucket: globex-out", false,
			"attack.yaml:8: delivery.bucket: bucket globex-out is not one of client acme's delivery buckets"},
		{"another client's profile", "credentials: dev", "credentials: globex", false,
			`attack.yaml:12: delivery.credentials: delivery profile "globex" is not one of client acme's (dev)`},
		{"another client's webhook secret", "secret: acme-hook", "secret: globex-hook", false,
			"attack.yaml:13: delivery.webhook.secret: names none of client acme's webhook secrets (acme-hook)"},
		{"inline webhook secret", "secret: acme-hook", "secret: " + inline, false,
			"attack.yaml:13: delivery.webhook.secret: must name a webhook secret"},
		{"metadata endpoint", "endpoint: %ENDPOINT%", "endpoint: https://169.254.169.254", true,
			"attack.yaml:11: delivery.endpoint: egress refused: host 169.254.169.254 is the cloud metadata service"},
		{"loopback endpoint", "endpoint: %ENDPOINT%", "endpoint: https://127.0.0.1:9000", true,
			"attack.yaml:11: delivery.endpoint: egress refused: host 127.0.0.1 is a loopback address"},
		{"plain http endpoint", "", "", true,
			"attack.yaml:11: delivery.endpoint: egress refused: must be https://"},
		{"loopback webhook", "http://127.0.0.1:1/hook", "https://localhost/hook", true,
			"attack.yaml:13: delivery.webhook.url: egress refused: host localhost is loopback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "attack-" + strings.NewReplacer(" ", "-", "'", "").Replace(tc.name)
			data := strings.NewReplacer("%ID%", id, "%ENDPOINT%", l.env.Stack.S3Endpoint).Replace(strings.Replace(boundarySpec, tc.from, tc.to, 1))
			a := l.app
			if tc.production {
				a = &prod
			}
			err := l.launch(t, a, "attack.yaml", data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nlacks %q", err, tc.want)
			}
			if strings.Contains(err.Error(), inline) {
				t.Fatalf("the error repeats the inline secret: %v", err)
			}
			l.leftNothing(t, a, id)
		})
	}

	// The same spec inside acme's locations launches, so the refusals above are the boundary's.
	p, err := l.app.ParseSpec("ok.yaml", []byte(l.spec("inside", "", "")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.app.Launch(context.Background(), l.ops, p); err != nil {
		t.Fatalf("a spec inside its client's locations: %v", err)
	}
}
