package config

import (
	"os"
	"strings"
	"testing"
	"time"

	_ "time/tzdata" // time zones without relying on the host's zoneinfo
)

// clearEnv removes every variable Load could read, restoring them when the test ends.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range Variables() {
		t.Setenv(k, "") // registers the restore
		os.Unsetenv(k)
	}
}

func TestLoadDefaults(t *testing.T) {
	clearEnv(t)
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		Temporal: Temporal{TemporalAddress: "127.0.0.1:7233", TemporalNamespace: "default", TemporalUIURL: "http://127.0.0.1:8233",
			WorkflowTaskQueue: "labelflow-workflows", ActivityTaskQueue: "labelflow-io"},
		Encryption: Encryption{CodecListen: "127.0.0.1:8089"},
		Worker:     Worker{WorkerRole: "all", WorkerConcurrency: 16},
		Store: Store{StoreEndpoint: "http://127.0.0.1:9000", StoreAccessKey: "labelflow", StoreSecretKey: "labelflow-dev-secret",
			StoreBucket: "labelflow", StoreRegion: "us-east-1"},
		Projects: Projects{ChunkWindow: 8, ChunkSpillBytes: 262144, MaxLineBytes: 65536},
		Gateway: Gateway{GatewayListen: "127.0.0.1:8080", GatewayURL: "http://127.0.0.1:8080", StatusCacheTTL: time.Second,
			GatewayMaxConns: 2000, GatewayRatePerToken: "5/s,20", GatewayRatePerIP: "50/s,100", GatewaySignInPerIP: "1/s,10",
			GatewayTokenCacheTTL: 30 * time.Second, GatewayReadTimeout: 30 * time.Second},
		Payroll: Payroll{MonthTimeZone: "UTC", FloorMultiplier: "2", PayoutProvider: "file", PayoutDebtor: devPayoutDebtor},
		Trust: Trust{Stack: StackEmbedded, GrantKeys: devSecrets["LABELFLOW_GRANT_KEYS"], TokenPepper: devSecrets["LABELFLOW_TOKEN_PEPPER"],
			PayoutDetailsKey: devSecrets["LABELFLOW_PAYOUT_DETAILS_KEY"], PseudonymKey: devSecrets["LABELFLOW_PSEUDONYM_KEY"]},
		Local: Local{DataDir: ".labelflow", BinDir: "bin", LogLevel: "info"},
	}
	if c != want {
		t.Errorf("Load() =\n%+v\nwant\n%+v", c, want)
	}
}

func TestLoadOverrides(t *testing.T) {
	clearEnv(t)
	env := map[string]string{
		"LABELFLOW_STACK":              "production",
		"LABELFLOW_STORE_SECRET_KEY":   "a-real-secret",
		"LABELFLOW_CLIENTS":            "/etc/labelflow/clients.yaml",
		"LABELFLOW_PAYLOAD_PLAINTEXT":  "true",
		"LABELFLOW_TEMPORAL_ADDRESS":   "temporal.internal:7233",
		"LABELFLOW_STORE_BUCKET":       "labelflow-prod",
		"LABELFLOW_WORKER_ROLE":        "activities",
		"LABELFLOW_CHUNK_WINDOW":       "3",
		"LABELFLOW_MONTH_TIME_ZONE":    "Africa/Nairobi",
		"LABELFLOW_STATUS_CACHE_TTL":   "250ms",
		"LABELFLOW_DELIVERY_PROFILES":  "/etc/labelflow/profiles.yaml",
		"LABELFLOW_WORKER_CONCURRENCY": "4",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, tc := range []struct {
		name      string
		got, want any
	}{
		{"TemporalAddress", c.TemporalAddress, "temporal.internal:7233"},
		{"StoreBucket", c.StoreBucket, "labelflow-prod"},
		{"WorkerRole", c.WorkerRole, "activities"},
		{"ChunkWindow", c.ChunkWindow, 3},
		{"MonthTimeZone", c.MonthTimeZone, "Africa/Nairobi"},
		{"StatusCacheTTL", c.StatusCacheTTL, 250 * time.Millisecond},
		{"DeliveryProfiles", c.DeliveryProfiles, "/etc/labelflow/profiles.yaml"},
		{"WorkerConcurrency", c.WorkerConcurrency, 4},
		{"TemporalNamespace (untouched)", c.TemporalNamespace, "default"},
		{"LogLevel (untouched)", c.LogLevel, "info"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestLoadWorkerRoles(t *testing.T) {
	for _, role := range []string{"all", "workflows", "activities"} {
		t.Run(role, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("LABELFLOW_WORKER_ROLE", role)
			c, err := Load()
			if err != nil || c.WorkerRole != role {
				t.Errorf("Load = %q, %v", c.WorkerRole, err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, key, value string
	}{
		{"bogus role", "LABELFLOW_WORKER_ROLE", "bogus"},
		{"empty role", "LABELFLOW_WORKER_ROLE", ""},
		{"zero window", "LABELFLOW_CHUNK_WINDOW", "0"},
		{"negative window", "LABELFLOW_CHUNK_WINDOW", "-2"},
		{"window not a number", "LABELFLOW_CHUNK_WINDOW", "eight"},
		{"unknown time zone", "LABELFLOW_MONTH_TIME_ZONE", "Mars/Base"},
		{"bad duration", "LABELFLOW_STATUS_CACHE_TTL", "soon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(tc.key, tc.value)
			_, err := Load()
			if err == nil {
				t.Fatalf("%s=%q accepted", tc.key, tc.value)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("error %q does not name %s", err, tc.key)
			}
			if !strings.HasPrefix(err.Error(), "configuration: ") {
				t.Errorf("error %q lacks the configuration: prefix", err)
			}
		})
	}
}

// The package promises that every setting comes from a LABELFLOW_* variable, so a
// variable of the same name without the prefix, set for some other program, must not count.
func TestLoadIgnoresUnprefixedVariables(t *testing.T) {
	clearEnv(t)
	t.Setenv("LOG_LEVEL", "debug")
	t.Setenv("DATA_DIR", "/var/lib/other")
	t.Setenv("STORE_BUCKET", "someone-elses-bucket")
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.LogLevel != "info" || c.DataDir != ".labelflow" || c.StoreBucket != "labelflow" {
		t.Errorf("unprefixed variables were read: LogLevel=%q DataDir=%q StoreBucket=%q", c.LogLevel, c.DataDir, c.StoreBucket)
	}
}

func TestUsageListsEveryField(t *testing.T) {
	u := Usage()
	if !strings.HasPrefix(u, "| variable | default | meaning |\n|---|---|---|\n") {
		t.Errorf("Usage lacks the table header:\n%s", u)
	}
	vars := Variables()
	rows := strings.Split(strings.TrimSuffix(u, "\n"), "\n")
	if got, want := len(rows), len(vars)+2; got != want {
		t.Errorf("Usage has %d lines, want %d (header, rule and one per setting)", got, want)
	}
	seen := map[string]bool{}
	for i, name := range vars {
		if !strings.HasPrefix(name, "LABELFLOW_") || seen[name] {
			t.Errorf("variable %q: lacks the LABELFLOW_ prefix or appears twice", name)
		}
		seen[name] = true
		if i+2 < len(rows) && (!strings.HasPrefix(rows[i+2], "| `"+name+"` |") || strings.HasSuffix(rows[i+2], "|  |")) {
			t.Errorf("row %d = %q, want %s with a meaning", i+2, rows[i+2], name)
		}
	}
}

func TestProductionRefusesDevSecrets(t *testing.T) {
	clearEnv(t)
	t.Setenv("LABELFLOW_STACK", "production")
	t.Setenv("LABELFLOW_CLIENTS", "/etc/labelflow/clients.yaml")
	t.Setenv("LABELFLOW_PAYLOAD_PLAINTEXT", "true")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "LABELFLOW_STORE_SECRET_KEY is not set") {
		t.Fatalf("production without a store secret: %v", err)
	}
	t.Setenv("LABELFLOW_STORE_SECRET_KEY", devSecrets["LABELFLOW_STORE_SECRET_KEY"])
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "LABELFLOW_STORE_SECRET_KEY is the embedded stack's dev value") {
		t.Fatalf("production on the dev store secret: %v", err)
	}
	t.Setenv("LABELFLOW_STORE_SECRET_KEY", "a-real-secret")
	t.Setenv("LABELFLOW_TOKEN_PEPPER", "short")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "LABELFLOW_TOKEN_PEPPER") {
		t.Fatalf("production with a short pepper: %v", err)
	}
	t.Setenv("LABELFLOW_TOKEN_PEPPER", "")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.GrantKeys != "" || c.TokenPepper != "" {
		t.Fatalf("production got dev secrets filled in: %q %q", c.GrantKeys, c.TokenPepper)
	}
	t.Setenv("LABELFLOW_STACK", "staging")
	if _, err := Load(); err == nil {
		t.Fatal("an unknown stack kind was accepted")
	}
}

func TestEachGroupReportsItsProblem(t *testing.T) {
	clearEnv(t)
	t.Setenv("LABELFLOW_WORKER_ROLE", "everything")
	t.Setenv("LABELFLOW_CHUNK_WINDOW", "0")
	t.Setenv("LABELFLOW_PAYOUT_PROVIDER", "pigeon")
	_, err := Load()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, name := range []string{"LABELFLOW_WORKER_ROLE", "LABELFLOW_CHUNK_WINDOW", "LABELFLOW_PAYOUT_PROVIDER"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error does not name %s: %v", name, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("%d lines, want one per problem: %v", n, err)
	}
}

func TestReadmeTableIsTheUsage(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), Usage()) {
		t.Fatal("README.md's configuration table is not `labelflow config`'s output; paste it in again")
	}
}
