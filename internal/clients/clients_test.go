package clients

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const platform = "labelflow"

const twoClients = `clients:
  acme:
    intake:
      - s3://labelflow-intake/acme/
      - s3://acme-datasets/
    delivery_buckets:
      - acme-labels
      - {bucket: acme-onprem, endpoint: minio.acme.example}
      - bucket: acme-pinned
        endpoint: minio.acme.example:9443
    delivery_profiles: [acme]
    webhook_secrets: [acme-hook]
  globex:
    intake: [s3://labelflow-intake/globex/]
    delivery_buckets: [globex-labels]
    delivery_profiles: [globex]
    webhook_secrets: [globex-hook]
`

func registry(t *testing.T) *Registry {
	t.Helper()
	r, err := Parse("clients.yaml", []byte(twoClients), platform)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReads(t *testing.T) {
	r := registry(t)
	for _, tc := range []struct {
		client, uri, want string // want "" = allowed
	}{
		{"acme", "s3://labelflow-intake/acme/reviews.manifest", ""},
		{"acme", "s3://labelflow-intake/acme/street/00001.jpg", ""},
		{"acme", "s3://acme-datasets/any/key.jsonl", ""},
		{"acme", "s3://labelflow/workforce/people/p-0001.json", "platform bucket"},
		{"acme", "s3://labelflow/projects/globex-1/chunks/chunk-000000.jsonl", "platform bucket"},
		{"acme", "s3://labelflow-intake/globex/reviews.manifest", "outside client acme's intake locations"},
		{"acme", "s3://labelflow-intake/acme/../globex/reviews.manifest", `".." segment`},
		{"acme", "s3://labelflow-intake/acme/./x", `"." segment`},
		{"acme", "s3://labelflow-intake/acme//x", `"//" segment`},
		{"acme", "s3://labelflow-intake/acme-evil/x", "outside"},
		{"globex", "s3://acme-datasets/any/key.jsonl", "outside client globex's"},
		{"initech", "s3://labelflow-intake/acme/x", `client "initech" is not declared in the clients file clients.yaml`},
		{"acme", "https://example.com/x", "not an s3:// URI"},
	} {
		err := r.MayRead(tc.client, tc.uri)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s reads %s: %v, want %q", tc.client, tc.uri, err, tc.want)
		}
	}
}

func TestDeliveries(t *testing.T) {
	r := registry(t)
	for _, tc := range []struct {
		client, bucket, endpoint, profile, want string
	}{
		{"acme", "acme-labels", "", "acme", ""},
		{"acme", "acme-onprem", "https://minio.acme.example:9000", "acme", ""},
		{"acme", "acme-onprem", "https://MINIO.acme.example", "acme", ""},
		{"acme", "acme-pinned", "https://minio.acme.example:9443", "acme", ""},
		{"acme", "acme-pinned", "https://minio.acme.example:9444", "acme", "declared at endpoint minio.acme.example:9443"},
		{"acme", "acme-labels", "https://169.254.169.254", "acme", "declared on AWS S3"},
		{"acme", "acme-onprem", "", "acme", "give that endpoint"},
		{"acme", "acme-onprem", "https://evil.example", "acme", "not evil.example"},
		{"acme", "labelflow", "", "acme", "platform bucket"},
		{"acme", "globex-labels", "", "acme", "not one of client acme's delivery buckets"},
		{"acme", "acme-labels", "", "globex", `delivery profile "globex" is not one of client acme's (acme)`},
		{"acme", "acme-labels", "", "dev", "not one of client acme's"},
	} {
		err := r.MayDeliver(tc.client, tc.bucket, tc.endpoint, tc.profile)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s delivers to %s at %q with %s: %v, want %q", tc.client, tc.bucket, tc.endpoint, tc.profile, err, tc.want)
		}
	}
}

func TestWebhookSecrets(t *testing.T) {
	r := registry(t)
	if err := r.MayUseWebhookSecret("acme", "acme-hook"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"globex-hook", "whsec_9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"} {
		err := r.MayUseWebhookSecret("acme", name)
		if err == nil || !strings.Contains(err.Error(), "delivery profiles file") {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(err.Error(), name) {
			t.Fatalf("the refusal repeats the value, which may be a secret: %v", err)
		}
	}
}

func TestBadFilesNameLineAndField(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"platform bucket as intake", "clients:\n  acme:\n    intake: [s3://labelflow/workforce/]\n",
			[]string{"clients.yaml:3: clients.acme.intake[0]: labelflow is the platform bucket"}},
		{"platform bucket as delivery", "clients:\n  acme:\n    delivery_buckets:\n      - client-acme\n      - {bucket: labelflow, endpoint: 127.0.0.1}\n",
			[]string{"clients.yaml:5: clients.acme.delivery_buckets[1]: labelflow is the platform bucket"}},
		{"prefix without slash", "clients:\n  acme:\n    intake: [s3://intake/acme]\n",
			[]string{"clients.yaml:3: clients.acme.intake[0]: the prefix must end with /"}},
		{"dot segments", "clients:\n  acme:\n    intake: [s3://intake/acme/../]\n",
			[]string{"clients.yaml:3: clients.acme.intake[0]: the prefix must not hold"}},
		{"not s3", "clients:\n  acme:\n    intake:\n      - https://intake/acme/\n",
			[]string{"clients.yaml:4: clients.acme.intake[0]: must be an s3://bucket/prefix/ location"}},
		{"unknown field", "clients:\n  acme:\n    intake: [s3://intake/acme/]\n    buckets: [x]\n",
			[]string{"clients.yaml:4: clients.acme.buckets: unknown field"}},
		{"bad endpoint", "clients:\n  acme:\n    delivery_buckets:\n      - {bucket: acme-out, endpoint: \"https://minio/x\"}\n",
			[]string{"clients.yaml:4: clients.acme.delivery_buckets[0].endpoint: must be a host or host:port"}},
		{"shared bucket", "clients:\n  acme:\n    delivery_buckets: [shared-out]\n  globex:\n    delivery_buckets: [shared-out]\n",
			[]string{"clients.yaml:5: clients.globex.delivery_buckets[0]: bucket shared-out is already client acme's (line 3)"}},
		{"shared secret", "clients:\n  acme:\n    webhook_secrets: [hook]\n  globex:\n    webhook_secrets: [hook]\n",
			[]string{"clients.yaml:5: clients.globex.webhook_secrets[0]: webhook secret hook is already client acme's (line 3)"}},
		{"overlapping intake", "clients:\n  acme:\n    intake: [s3://intake/]\n  globex:\n    intake: [s3://intake/globex/]\n",
			[]string{"clients.yaml:5: clients.globex.intake: s3://intake/globex/ overlaps client acme's s3://intake/ (line 3)"}},
		{"inline secret", "clients:\n  acme:\n    webhook_secrets: [\"Zx9+Qw8/Er7=Ty6Ui5Op4As3Df2Gh1\"]\n",
			[]string{"clients.yaml:3: clients.acme.webhook_secrets[0]: a webhook secret name is"}},
		{"bad client id", "clients:\n  Acme Corp:\n    intake: [s3://intake/acme/]\n",
			[]string{"clients.yaml:2: clients.Acme Corp: a client id is"}},
		{"repeated client", "clients:\n  acme: {}\n  acme: {}\n",
			[]string{"clients.yaml:3: clients.acme: repeated (first on line 2)"}},
		{"no clients", "clients: {}\n", []string{"clients.yaml:1: clients: must map each client id"}},
		{"not yaml", "clients: [\n", []string{"clients.yaml:0: (document): yaml:"}},
		{"two problems", "clients:\n  acme:\n    intake: [s3://labelflow/x/]\n    delivery_profiles: [\"not a name\"]\n",
			[]string{"2 problem(s)", "clients.yaml:3: clients.acme.intake[0]", "clients.yaml:4: clients.acme.delivery_profiles[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("clients.yaml", []byte(tc.file), platform)
			for _, want := range tc.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v\nlacks %q", err, want)
				}
			}
		})
	}
	// The secret pasted as a name is never repeated in the message.
	_, err := Parse("clients.yaml", []byte("clients:\n  acme:\n    webhook_secrets: [\"Zx9+Qw8/Er7=Ty6Ui5Op4As3Df2Gh1\"]\n"), platform)
	if err == nil || strings.Contains(err.Error(), "Zx9+") {
		t.Fatalf("message repeats the secret: %v", err)
	}
}

func TestReferencesMustExistInTheProfilesFile(t *testing.T) {
	r := registry(t)
	if err := r.CheckReferences([]string{"acme", "globex"}, []string{"acme-hook", "globex-hook"}); err != nil {
		t.Fatal(err)
	}
	err := r.CheckReferences([]string{"acme"}, []string{"acme-hook"})
	for _, want := range []string{
		`clients.yaml:16: clients.globex.delivery_profiles[0]: delivery profile "globex" is not defined in the delivery profiles file`,
		`clients.yaml:17: clients.globex.webhook_secrets[0]: webhook secret "globex-hook" is not defined`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nlacks %q", err, want)
		}
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load("", platform, false); err == nil || !strings.Contains(err.Error(), "LABELFLOW_CLIENTS") {
		t.Fatalf("no file outside the embedded stack: %v", err)
	}
	dev, err := Load("", platform, true)
	if err != nil {
		t.Fatal(err)
	}
	// The dev registry covers what the embedded stack and its demo use.
	if err := dev.MayRead("acme", "s3://labelflow-intake/acme/reviews.manifest"); err != nil {
		t.Fatal(err)
	}
	if err := dev.MayDeliver("acme", "client-acme", "http://127.0.0.1:40123", "dev"); err != nil {
		t.Fatal(err)
	}
	if err := dev.MayRead("acme", "s3://labelflow/workforce/people/p-0001.json"); err == nil {
		t.Fatal("the dev registry reads the platform bucket")
	}
	// A platform bucket named like a dev bucket makes the dev registry refuse itself.
	if _, err := Dev("labelflow-intake"); err == nil {
		t.Fatal("dev registry accepted the platform bucket as intake")
	}
	path := filepath.Join(t.TempDir(), "clients.yaml")
	if err := os.WriteFile(path, []byte(twoClients), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path, platform, false)
	if err != nil || r.File() != path || len(r.IDs()) != 2 {
		t.Fatalf("load %s: %v", path, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), platform, false); err == nil {
		t.Fatal("a missing file was accepted")
	}
}

// The example in deploy/examples is a valid clients file, kept apart from the dev registry.
func TestExampleClientsFile(t *testing.T) {
	r, err := Load("../../deploy/examples/clients.yaml", platform, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.MayDeliver("acme", "acme-onprem", "https://minio.acme.example", "acme"); err != nil {
		t.Fatal(err)
	}
	if err := r.MayRead("globex", "s3://labelflow-intake/acme/reviews.manifest"); err == nil {
		t.Fatal("globex reads acme's intake")
	}
	if err := r.CheckReferences([]string{"acme", "globex", "aws-default"}, []string{"acme-hook", "globex-hook"}); err != nil {
		t.Fatalf("the example names what deploy/examples/delivery-profiles.yaml does not define: %v", err)
	}
}
