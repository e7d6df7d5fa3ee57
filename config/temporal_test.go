package config

import (
	"slices"
	"strings"
	"testing"
)

// Each contradictory Temporal connection setting is refused by name, with what to do.
func TestTemporalConnectionMistakes(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		says string
	}{
		{"API key in clear", map[string]string{"LABELFLOW_TEMPORAL_API_KEY": "k"}, "LABELFLOW_TEMPORAL_API_KEY is set but LABELFLOW_TEMPORAL_TLS is not true"},
		{"CA without TLS", map[string]string{"LABELFLOW_TEMPORAL_TLS_CA": "/ca.pem"}, "LABELFLOW_TEMPORAL_TLS_CA is set but LABELFLOW_TEMPORAL_TLS is not true"},
		{"server name without TLS", map[string]string{"LABELFLOW_TEMPORAL_TLS_SERVER_NAME": "temporal"}, "LABELFLOW_TEMPORAL_TLS_SERVER_NAME is set but"},
		{"certificate without key", map[string]string{"LABELFLOW_TEMPORAL_TLS": "true", "LABELFLOW_TEMPORAL_TLS_CERT": "/c.pem"}, "without LABELFLOW_TEMPORAL_TLS_KEY"},
		{"key without certificate", map[string]string{"LABELFLOW_TEMPORAL_TLS": "true", "LABELFLOW_TEMPORAL_TLS_KEY": "/k.pem"}, "without LABELFLOW_TEMPORAL_TLS_CERT"},
		{"no namespace", map[string]string{"LABELFLOW_TEMPORAL_NAMESPACE": ""}, "LABELFLOW_TEMPORAL_NAMESPACE is empty"},
		{"TLS not a boolean", map[string]string{"LABELFLOW_TEMPORAL_TLS": "yes please"}, "LABELFLOW_TEMPORAL_TLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Load()
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Load() = %v, want an error saying %q", err, tc.says)
			}
		})
	}
	t.Run("a whole mTLS and API key setting", func(t *testing.T) {
		clearEnv(t)
		for k, v := range map[string]string{"LABELFLOW_TEMPORAL_TLS": "true", "LABELFLOW_TEMPORAL_TLS_CA": "/ca.pem", "LABELFLOW_TEMPORAL_TLS_CERT": "/c.pem",
			"LABELFLOW_TEMPORAL_TLS_KEY": "/k.pem", "LABELFLOW_TEMPORAL_TLS_SERVER_NAME": "temporal", "LABELFLOW_TEMPORAL_API_KEY": "k"} {
			t.Setenv(k, v)
		}
		c, err := Load()
		if err != nil {
			t.Fatal(err)
		}
		if !c.TemporalTLS || c.TemporalTLSCA != "/ca.pem" || c.TemporalTLSServer != "temporal" || c.TemporalAPIKey != "k" {
			t.Errorf("settings not read: %+v", c.Temporal)
		}
	})
}

// productionEnv sets a production stack that loads, but for payload encryption.
func productionEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("LABELFLOW_STACK", "production")
	t.Setenv("LABELFLOW_STORE_SECRET_KEY", "a-real-secret")
	t.Setenv("LABELFLOW_CLIENTS", "/etc/labelflow/clients.yaml")
}

func TestProductionEncryptsPayloadsUnlessToldNotTo(t *testing.T) {
	productionEnv(t)
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "LABELFLOW_PAYLOAD_KEYS") {
		t.Fatalf("production without payload keys: %v", err)
	}
	t.Setenv("LABELFLOW_PAYLOAD_PLAINTEXT", "true")
	if _, err := Load(); err != nil {
		t.Fatalf("production with the explicit opt-out: %v", err)
	}
	t.Setenv("LABELFLOW_PAYLOAD_KEYS", "k1:AAAA")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "contradicts") {
		t.Fatalf("keys and the opt-out together: %v", err)
	}
	t.Setenv("LABELFLOW_PAYLOAD_PLAINTEXT", "false")
	if _, err := Load(); err != nil {
		t.Fatalf("production with keys: %v", err)
	}
	t.Setenv("LABELFLOW_PAYLOAD_KEYS_FILE", "/etc/labelflow/payload-keys")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "both set") {
		t.Fatalf("keys given two ways: %v", err)
	}
	t.Setenv("LABELFLOW_PAYLOAD_KEYS", "")
	t.Setenv("LABELFLOW_CODEC_SECRET", "short")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "LABELFLOW_CODEC_SECRET must be at least 32 bytes") {
		t.Fatalf("a short codec secret: %v", err)
	}
}

func TestEmbeddedStackStaysOnThisMachine(t *testing.T) {
	for _, tc := range []struct {
		key, value string
		ok         bool
	}{
		{"LABELFLOW_TEMPORAL_ADDRESS", "localhost:7233", true},
		{"LABELFLOW_TEMPORAL_ADDRESS", "[::1]:7233", true},
		{"LABELFLOW_TEMPORAL_ADDRESS", "127.0.0.2:7233", true},
		{"LABELFLOW_TEMPORAL_ADDRESS", "temporal-frontend.temporal:7233", false},
		{"LABELFLOW_TEMPORAL_ADDRESS", "10.0.0.4:7233", false},
		{"LABELFLOW_STORE_ENDPOINT", "http://localhost:9000", true},
		{"LABELFLOW_STORE_ENDPOINT", "https://s3.eu-west-1.amazonaws.com", false},
	} {
		t.Run(tc.value, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(tc.key, tc.value)
			_, err := Load()
			if tc.ok && err != nil {
				t.Fatalf("embedded stack on %s refused: %v", tc.value, err)
			}
			if !tc.ok && (err == nil || !strings.Contains(err.Error(), "LABELFLOW_STACK=production")) {
				t.Fatalf("embedded stack (dev secrets) pointed at %s: %v", tc.value, err)
			}
		})
	}
}

func TestCodecOrigins(t *testing.T) {
	c := Config{Temporal: Temporal{TemporalUIURL: "https://temporal.example.com/ui/"}}
	if got := c.CodecOriginList(); !slices.Equal(got, []string{"https://temporal.example.com"}) {
		t.Errorf("origin from the UI URL = %v", got)
	}
	c.CodecOrigins = "https://a.example/, https://b.example"
	if got := c.CodecOriginList(); !slices.Equal(got, []string{"https://a.example", "https://b.example"}) {
		t.Errorf("origins = %v", got)
	}
}
