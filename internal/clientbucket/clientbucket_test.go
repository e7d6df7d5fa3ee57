package clientbucket_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/egress"
	"github.com/labelflow/labelflow/internal/spec"
)

func target(env *devstacktest.Env, bucket string) spec.Delivery {
	return spec.Delivery{Bucket: bucket, Region: "us-east-1", Endpoint: env.Stack.S3Endpoint, Credentials: clientbucket.DevProfile}
}

func TestPutSmallAndMultipartObjects(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	b, err := env.Profiles.Open(ctx, target(env, devstacktest.ClientBucket))
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1000, 2*clientbucket.PartSize + 12345} {
		data := bytes.Repeat([]byte("labelflow\n"), size/10+1)[:size]
		w := b.NewWriter(ctx, "out/obj.bin", "application/octet-stream")
		// Write in uneven pieces, as a format encoder would.
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 777_777)
			if _, err := w.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		sum, n, err := w.Close()
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		want := sha256.Sum256(data)
		if sum != hex.EncodeToString(want[:]) || n != int64(size) {
			t.Fatalf("size %d: checksum %s size %d", size, sum, n)
		}
		got, err := b.Get(ctx, "out/obj.bin")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes that differ", size, len(got))
		}
	}
}

func TestProbeAndProfilesGiveClearErrors(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	b, err := env.Profiles.Open(ctx, target(env, "no-such-bucket"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Probe(ctx, "x/.probe"); err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Fatalf("probe of a missing bucket: %v", err)
	}
	if _, err := env.Profiles.Open(ctx, spec.Delivery{Bucket: "b", Region: "us-east-1", Credentials: "acme"}); err == nil || !strings.Contains(err.Error(), `"acme" is not configured`) {
		t.Fatalf("unknown profile: %v", err)
	}
	wrong := target(env, devstacktest.ClientBucket)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte("not-the-secret\n"), 0o600)
	profilesFile := filepath.Join(dir, "profiles.yaml")
	os.WriteFile(profilesFile, []byte("profiles:\n  wrongkey:\n    access_key_id: "+env.Stack.AccessKey+"\n    secret_access_key_file: "+secretFile+"\n"), 0o600)
	profiles, err := clientbucket.LoadProfiles(profilesFile, clientbucket.Options{Egress: egress.Guard{AllowPrivate: true}})
	if err != nil {
		t.Fatal(err)
	}
	wrong.Credentials = "wrongkey"
	wb, err := profiles.Open(ctx, wrong)
	if err != nil {
		t.Fatal(err)
	}
	if err := wb.Probe(ctx, "x/.probe"); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Fatalf("probe with a wrong secret: %v", err)
	} else if strings.Contains(err.Error(), "not-the-secret") {
		t.Fatal("the secret appears in the error")
	}
}

func TestLoadProfilesRefusesInlineSecrets(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "p.yaml")
	os.WriteFile(f, []byte("profiles:\n  acme:\n    access_key_id: AKIA\n    secret_access_key: inline\n"), 0o600)
	if _, err := clientbucket.LoadProfiles(f, clientbucket.Options{}); err == nil {
		t.Fatal("inline secret accepted")
	}
	os.WriteFile(f, []byte("profiles:\n  acme:\n    access_key_id: AKIA\n"), 0o600)
	if _, err := clientbucket.LoadProfiles(f, clientbucket.Options{}); err == nil || !strings.Contains(err.Error(), "secret_access_key_file or secret_access_key_env") {
		t.Fatalf("profile without secret: %v", err)
	}
	t.Setenv("ACME_HOOK", "0123456789abcdef0123")
	os.WriteFile(f, []byte("profiles:\n  role:\n    default_chain: true\n    role_arn: arn:aws:iam::123456789012:role/labelflow\n    external_id: acme-42\nwebhook_secrets:\n  acme-hook:\n    env: ACME_HOOK\n"), 0o600)
	p, err := clientbucket.LoadProfiles(f, clientbucket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := p.WebhookSecret("acme-hook"); err != nil || string(s) != "0123456789abcdef0123" {
		t.Fatalf("webhook secret = %q, %v", s, err)
	}
	if _, err := p.WebhookSecret("other"); err == nil {
		t.Fatal("unknown webhook secret found")
	}
}

func TestServerSideEncryptionIsRequested(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	d := target(env, devstacktest.ClientBucket)
	d.Encryption = spec.Encryption{Type: "AES256"}
	b, err := env.Profiles.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, "enc/obj.json", []byte(`{"a":1}`), "application/json"); err != nil {
		t.Fatalf("put with SSE AES256: %v", err)
	}
	w := b.NewWriter(ctx, "enc/big.bin", "application/octet-stream")
	w.Write(bytes.Repeat([]byte{'x'}, clientbucket.PartSize+1))
	if _, _, err := w.Close(); err != nil {
		t.Fatalf("multipart with SSE AES256: %v", err)
	}
}
