package spec

import (
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/clients"
	"github.com/labelflow/labelflow/internal/egress"
)

const clientsFile = `clients:
  acme:
    intake: [s3://intake/acme/]
    delivery_buckets:
      - acme-out
      - {bucket: acme-onprem, endpoint: minio.acme.example}
      - {bucket: acme-local, endpoint: 127.0.0.1}
    delivery_profiles: [acme]
    webhook_secrets: [acme-hook]
  globex:
    intake: [s3://intake/globex/]
    delivery_buckets: [globex-out]
    delivery_profiles: [globex]
    webhook_secrets: [globex-hook]
`

// A spec of client acme that stays inside acme's locations; line 3 is source, line 7 delivery.
const acmeSpec = `id: p1
client: acme
source: s3://intake/acme/p1.manifest
annotation: {type: single-label, taxonomy: [a, b], instructions: pick}
pay: {currency: USD, per_annotation: "0.01", per_arbitration: "0.02"}
quality: {gold: {source: s3://intake/acme/gold.manifest}}
delivery:
  bucket: acme-out
  prefix: labels/
  region: us-east-1
  credentials: acme
  webhook: {url: "https://hooks.acme.example/labelflow", secret: acme-hook}
`

func boundary(t *testing.T, allowPrivate bool) Boundary {
	t.Helper()
	reg, err := clients.Parse("clients.yaml", []byte(clientsFile), "labelflow")
	if err != nil {
		t.Fatal(err)
	}
	return Boundary{Clients: reg, PlatformBucket: "labelflow", Egress: egress.Guard{AllowPrivate: allowPrivate}}
}

func TestSpecInsideItsClientsBoundary(t *testing.T) {
	p, err := ParseWithin("p.yaml", []byte(acmeSpec), boundary(t, false))
	if err != nil {
		t.Fatal(err)
	}
	if errs := boundary(t, false).Check(p); len(errs) > 0 {
		t.Fatalf("check of a parsed spec: %v", errs)
	}
	onprem := strings.Replace(acmeSpec, "bucket: acme-out", "bucket: acme-onprem\n  endpoint: https://minio.acme.example:9000", 1)
	if _, err := ParseWithin("p.yaml", []byte(onprem), boundary(t, false)); err != nil {
		t.Fatal(err)
	}
	// The embedded stack reaches loopback endpoints over plain http.
	local := strings.Replace(acmeSpec, "bucket: acme-out", "bucket: acme-local\n  endpoint: http://127.0.0.1:9000", 1)
	local = strings.Replace(local, "https://hooks.acme.example/labelflow", "http://127.0.0.1:8099/hook", 1)
	if _, err := ParseWithin("p.yaml", []byte(local), boundary(t, true)); err != nil {
		t.Fatal(err)
	}
}

// Each attack is refused at validation with the file, line and field, and a reason that says why.
func TestSpecsReachingOutsideTheirClientAreRefused(t *testing.T) {
	const inlineSecret = "9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"
	for _, tc := range []struct {
		name, from, to string
		allowPrivate   bool
		want           string
	}{
		{"roster record as source", "source: s3://intake/acme/p1.manifest", "source: s3://labelflow/workforce/people/p-0001.json", false,
			"p.yaml:3: source: s3://labelflow/workforce/people/p-0001.json is in the platform bucket"},
		{"another project's chunk as source", "source: s3://intake/acme/p1.manifest", "source: s3://labelflow/projects/globex-1/chunks/chunk-000000.jsonl", false,
			"p.yaml:3: source: s3://labelflow/projects/globex-1/chunks/chunk-000000.jsonl is in the platform bucket"},
		{"another client's intake as source", "source: s3://intake/acme/p1.manifest", "source: s3://intake/globex/p1.manifest", false,
			"p.yaml:3: source: s3://intake/globex/p1.manifest is outside client acme's intake locations (s3://intake/acme/)"},
		{"gold in the platform bucket", "gold: {source: s3://intake/acme/gold.manifest}", "gold: {source: s3://labelflow/ledger/2026-11/x.jsonl}", false,
			"p.yaml:6: quality.gold.source: s3://labelflow/ledger/2026-11/x.jsonl is in the platform bucket"},
		{"delivery into the ledger", "bucket: acme-out\n  prefix: labels/", "bucket: labelflow\n  prefix: ledger/2026-12/", false,
			"p.yaml:8: delivery.bucket: labelflow is the platform bucket"},
		{"another client's bucket", "bucket: acme-out", "bucket: globex-out", false,
			"p.yaml:8: delivery.bucket: bucket globex-out is not one of client acme's delivery buckets"},
		{"another client's profile", "credentials: acme", "credentials: globex", false,
			`p.yaml:11: delivery.credentials: delivery profile "globex" is not one of client acme's (acme)`},
		{"another client's webhook secret", "secret: acme-hook", "secret: globex-hook", false,
			"p.yaml:12: delivery.webhook.secret: names none of client acme's webhook secrets (acme-hook); secrets live in the delivery profiles file"},
		{"inline webhook secret", "secret: acme-hook", "secret: " + inlineSecret, false,
			"p.yaml:12: delivery.webhook.secret: must name a webhook secret"},
		{"inline webhook secret with symbols", "secret: acme-hook", `secret: "whsec_Zx9+Qw8/Er7="`, false,
			"secrets live in the delivery profiles file, under webhook_secrets"},
		{"access key as profile", "credentials: acme", "credentials: AKIAIOSFODNN7EXAMPLE", false,
			"p.yaml:11: delivery.credentials: must be a profile name"},
		{"metadata endpoint", "bucket: acme-out", "bucket: acme-out\n  endpoint: http://169.254.169.254", false,
			"p.yaml:9: delivery.endpoint: egress refused: must be https://"},
		{"metadata endpoint over https", "bucket: acme-out", "bucket: acme-out\n  endpoint: https://169.254.169.254", false,
			"p.yaml:9: delivery.endpoint: egress refused: host 169.254.169.254 is the cloud metadata service"},
		{"metadata endpoint on the embedded stack", "bucket: acme-out", "bucket: acme-out\n  endpoint: http://169.254.169.254", true,
			"p.yaml:9: delivery.endpoint: bucket acme-out is declared on AWS S3: give no endpoint"},
		{"loopback endpoint", "bucket: acme-out", "bucket: acme-local\n  endpoint: https://127.0.0.1:9000", false,
			"p.yaml:9: delivery.endpoint: egress refused: host 127.0.0.1 is a loopback address"},
		{"loopback webhook", "https://hooks.acme.example/labelflow", "https://localhost:8080/admin", false,
			"p.yaml:12: delivery.webhook.url: egress refused: host localhost is loopback"},
		{"webhook with credentials", "https://hooks.acme.example/labelflow", "https://user:pw@hooks.acme.example/x", true,
			"p.yaml:12: delivery.webhook.url: egress refused: must not carry a user name or password"},
		{"undeclared client", "client: acme", "client: initech", false,
			`p.yaml:2: client: client "initech" is not declared in the clients file clients.yaml`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := strings.Replace(acmeSpec, tc.from, tc.to, 1)
			if data == acmeSpec {
				t.Fatalf("%q is not in the spec", tc.from)
			}
			_, err := ParseWithin("p.yaml", []byte(data), boundary(t, tc.allowPrivate))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nlacks %q", err, tc.want)
			}
			if strings.Contains(err.Error(), inlineSecret) || strings.Contains(err.Error(), "Zx9+") {
				t.Fatalf("the error repeats an inline secret: %v", err)
			}
		})
	}
}

func TestBoundaryWithoutLinesAndWithoutRegistry(t *testing.T) {
	p, err := Parse("p.yaml", []byte(strings.Replace(acmeSpec, "bucket: acme-out", "bucket: labelflow", 1)))
	if err != nil {
		t.Fatal(err)
	}
	errs := boundary(t, false).Check(p)
	if len(errs) != 1 || errs[0].Field != "delivery.bucket" || errs[0].Line != 0 {
		t.Fatalf("check = %+v", errs)
	}
	// Without a registry nothing passes.
	if errs := (Boundary{PlatformBucket: "labelflow"}).Check(p); len(errs) == 0 || errs[0].Field != "client" || !strings.Contains(errs[0].Reason, "LABELFLOW_CLIENTS") {
		t.Fatalf("no registry: %+v", errs)
	}
	if err := boundary(t, false).MayRead("acme", "s3://labelflow/workforce/people/p.json"); err == nil || !strings.Contains(err.Error(), "platform bucket") {
		t.Fatalf("read of the platform bucket: %v", err)
	}
	// A spec may still have several problems; each is reported once.
	_, err = ParseWithin("p.yaml", []byte(strings.Replace(acmeSpec, "secret: acme-hook", "secret: 9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c", 1)), boundary(t, false))
	if n := strings.Count(err.Error(), "delivery.webhook.secret"); n != 1 {
		t.Fatalf("the secret is reported %d times: %v", n, err)
	}
}

// On the embedded stack a dev-profile delivery without an endpoint goes to the stack's own S3
// server, on whatever port it runs, so the example spec works on any ports.
func TestDevDeliveryTakesTheEmbeddedStacksEndpoint(t *testing.T) {
	reg, err := clients.Load("", "labelflow", true)
	if err != nil {
		t.Fatal(err)
	}
	devSpec := `id: p1
client: acme
source: s3://labelflow-intake/acme/p1.manifest
annotation: {type: single-label, taxonomy: [a, b], instructions: pick}
pay: {currency: USD, per_annotation: "0.01", per_arbitration: "0.02"}
delivery: {bucket: client-acme, region: us-east-1, credentials: dev}
`
	b := Boundary{Clients: reg, PlatformBucket: "labelflow", Egress: egress.Guard{AllowPrivate: true}, DevEndpoint: "http://127.0.0.1:19000"}
	p, err := ParseWithin("p.yaml", []byte(devSpec), b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Delivery.Endpoint != "http://127.0.0.1:19000" {
		t.Fatalf("endpoint %q, want the stack's own", p.Delivery.Endpoint)
	}
	// Outside the embedded stack there is no dev endpoint (and no dev profile): nothing is filled.
	b.DevEndpoint = ""
	if _, err := ParseWithin("p.yaml", []byte(devSpec), b); err == nil || !strings.Contains(err.Error(), "endpoint") {
		t.Fatalf("without a dev endpoint: %v", err)
	}
	// Another profile's missing endpoint is never filled in.
	other := boundary(t, false)
	other.DevEndpoint = "http://127.0.0.1:19000"
	p, err = ParseWithin("p.yaml", []byte(acmeSpec), other)
	if err != nil || p.Delivery.Endpoint != "" {
		t.Fatalf("acme's own profile: endpoint %q, %v", p.Delivery.Endpoint, err)
	}
}
