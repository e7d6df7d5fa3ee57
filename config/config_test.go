package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "time/tzdata" // time zones without relying on the host's zoneinfo
)

// clearEnv removes every variable Load could read, restoring them when the test ends.
func clearEnv(t *testing.T) {
	t.Helper()
	ct := reflect.TypeOf(Config{})
	for i := 0; i < ct.NumField(); i++ {
		tag := ct.Field(i).Tag.Get("envconfig")
		for _, k := range []string{"LABELFLOW_" + tag, tag} {
			t.Setenv(k, "") // registers the restore
			os.Unsetenv(k)
		}
	}
}

func TestLoadDefaults(t *testing.T) {
	clearEnv(t)
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		TemporalAddress:   "127.0.0.1:7233",
		TemporalNamespace: "default",
		TemporalUIURL:     "http://127.0.0.1:8233",
		WorkflowTaskQueue: "labelflow-workflows",
		ActivityTaskQueue: "labelflow-io",
		WorkerRole:        "all",
		StoreEndpoint:     "http://127.0.0.1:9000",
		StoreAccessKey:    "labelflow",
		StoreSecretKey:    "labelflow-dev-secret",
		StoreBucket:       "labelflow",
		StoreRegion:       "us-east-1",
		DeliveryProfiles:  "",
		GatewayListen:     "127.0.0.1:8080",
		GatewayURL:        "http://127.0.0.1:8080",
		ChunkWindow:       8,
		ChunkSpillBytes:   262144,
		MaxLineBytes:      65536,
		MonthTimeZone:     "UTC",
		FloorMultiplier:   "2",
		PayoutProvider:    "file",
		WorkerConcurrency: 16,
		StatusCacheTTL:    time.Second,
		DataDir:           ".labelflow",
		BinDir:            "bin",
		LogLevel:          "info",

		Stack:               StackEmbedded,
		GrantKeys:           devSecrets["LABELFLOW_GRANT_KEYS"],
		TokenPepper:         devSecrets["LABELFLOW_TOKEN_PEPPER"],
		GatewayMaxConns:     2000,
		GatewayRatePerToken: "5/s,20",
		GatewayRatePerIP:    "50/s,100",
		GatewaySignInPerIP:  "1/s,10",
		GatewayReadTimeout:  30 * time.Second,
	}
	if c != want {
		t.Errorf("Load() =\n%+v\nwant\n%+v", c, want)
	}
}

func TestLoadOverrides(t *testing.T) {
	clearEnv(t)
	env := map[string]string{
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
	ct := reflect.TypeOf(Config{})
	rows := strings.Split(strings.TrimSuffix(u, "\n"), "\n")
	if got, want := len(rows), ct.NumField()+2; got != want {
		t.Errorf("Usage has %d lines, want %d (header, rule and one per field)", got, want)
	}
	seen := map[string]bool{}
	for i := 0; i < ct.NumField(); i++ {
		f := ct.Field(i)
		tag := f.Tag.Get("envconfig")
		if tag == "" {
			t.Errorf("field %s has no envconfig tag", f.Name)
			continue
		}
		if seen[tag] {
			t.Errorf("envconfig tag %s used twice", tag)
		}
		seen[tag] = true
		if f.Tag.Get("desc") == "" {
			t.Errorf("field %s has no desc", f.Name)
		}
		if !strings.HasPrefix(tag, "LABELFLOW_") {
			t.Errorf("field %s: variable %s lacks the LABELFLOW_ prefix", f.Name, tag)
		}
		row := "| `" + tag + "` | `" + f.Tag.Get("default") + "` | " + f.Tag.Get("desc") + " |"
		if !strings.Contains(u, row+"\n") {
			t.Errorf("Usage lacks the row for %s: %s", f.Name, row)
		}
	}
	for _, row := range []string{
		"| `LABELFLOW_TEMPORAL_ADDRESS` | `127.0.0.1:7233` |",
		"| `LABELFLOW_CHUNK_WINDOW` | `8` |",
		"| `LABELFLOW_WORKER_ROLE` | `all` |",
	} {
		if !strings.Contains(u, row) {
			t.Errorf("Usage lacks %q", row)
		}
	}
}

func TestProductionRefusesDevSecrets(t *testing.T) {
	clearEnv(t)
	t.Setenv("LABELFLOW_STACK", "production")
	t.Setenv("LABELFLOW_CLIENTS", "/etc/labelflow/clients.yaml")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "LABELFLOW_STORE_SECRET_KEY") {
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
