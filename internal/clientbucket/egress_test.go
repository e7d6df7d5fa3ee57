package clientbucket_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/egress"
	"github.com/labelflow/labelflow/internal/spec"
)

func TestDevProfileOnlyOnTheEmbeddedStack(t *testing.T) {
	embedded, err := clientbucket.LoadProfiles("", clientbucket.Options{Embedded: true, DevKey: "k", DevSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if names := embedded.Names(); len(names) != 1 || names[0] != clientbucket.DevProfile {
		t.Fatalf("embedded profiles = %v", names)
	}
	production, err := clientbucket.LoadProfiles("", clientbucket.Options{DevKey: "k", DevSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if len(production.Names()) != 0 {
		t.Fatalf("production profiles = %v", production.Names())
	}
	_, err = production.Open(context.Background(), spec.Delivery{Bucket: "b", Region: "us-east-1", Credentials: clientbucket.DevProfile})
	if err == nil || !strings.Contains(err.Error(), `"dev" is not configured`) {
		t.Fatalf("dev profile outside the embedded stack: %v", err)
	}
}

// A production stack's deliveries never connect to a loopback or private endpoint, even with
// valid keys for the server there: nothing is written.
func TestProductionDeliveryToLoopbackIsRefused(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	t.Setenv("LABELFLOW_TEST_STACK_SECRET", env.Stack.SecretKey)
	file := filepath.Join(t.TempDir(), "profiles.yaml")
	os.WriteFile(file, []byte("profiles:\n  acme:\n    access_key_id: "+env.Stack.AccessKey+"\n    secret_access_key_env: LABELFLOW_TEST_STACK_SECRET\n"), 0o600)
	d := target(env, devstacktest.ClientBucket)
	d.Credentials = "acme"
	open := func(allow bool) *clientbucket.Bucket {
		profiles, err := clientbucket.LoadProfiles(file, clientbucket.Options{Egress: egress.Guard{AllowPrivate: allow}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := profiles.Open(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := open(false).Put(ctx, "guarded/obj.txt", []byte("x"), "text/plain"); err == nil || !strings.Contains(err.Error(), "egress refused") {
		t.Fatalf("production put to loopback: %v", err)
	}
	allowed := open(true)
	if _, err := allowed.Get(ctx, "guarded/obj.txt"); err == nil {
		t.Fatal("the refused put wrote the object")
	}
	if _, err := allowed.Put(ctx, "guarded/other.txt", []byte("x"), "text/plain"); err != nil {
		t.Fatalf("put where private endpoints are allowed: %v", err)
	}
}
