// Package devstacktest starts the embedded servers for tests of packages that need a real object
// store or Temporal server. Tests skip when the server binaries are missing, unless
// LABELFLOW_INTEGRATION=1 (set by `make test`) demands them, and then they fail.
package devstacktest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/devstack"
	"github.com/labelflow/labelflow/internal/egress"
	"github.com/labelflow/labelflow/internal/store"
)

// Buckets every test stack has.
const (
	PlatformBucket = "labelflow"
	ClientBucket   = "client"
	// IntakeBucket holds clients' datasets, outside the platform bucket.
	IntakeBucket = "intake"
)

// Env is a started stack with clients for it.
type Env struct {
	Stack    *devstack.Stack
	Store    *store.Store
	Profiles *clientbucket.Profiles
}

// Binaries returns the directory holding the server binaries, skipping t when they are missing
// (failing it under LABELFLOW_INTEGRATION=1).
func Binaries(t testing.TB) string {
	t.Helper()
	bin := binDir(t)
	for _, name := range []string{"temporal", "versitygw"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			if os.Getenv("LABELFLOW_INTEGRATION") == "1" {
				t.Fatalf("LABELFLOW_INTEGRATION=1 but %s is missing from %s: run `make tools`", name, bin)
			}
			t.Skipf("no %s in %s (make test builds it)", name, bin)
		}
	}
	return bin
}

// Start starts a stack for t and stops it when t ends.
func Start(t testing.TB) *Env {
	t.Helper()
	bin := Binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Options{
		BinDir: bin, DataDir: t.TempDir(), Headless: true,
		Buckets: []string{PlatformBucket, ClientBucket, IntakeBucket}, Logger: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Stop() })
	s, err := store.New(store.Options{Endpoint: st.S3Endpoint, AccessKey: st.AccessKey, SecretKey: st.SecretKey, Region: "us-east-1", Bucket: PlatformBucket})
	if err != nil {
		t.Fatal(err)
	}
	profiles, err := clientbucket.LoadProfiles("", clientbucket.Options{Embedded: true, DevKey: st.AccessKey, DevSecret: st.SecretKey,
		Egress: egress.Guard{AllowPrivate: true}})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Stack: st, Store: s, Profiles: profiles}
}

func binDir(t testing.TB) string {
	if dir := os.Getenv("LABELFLOW_BIN_DIR"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "bin")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
