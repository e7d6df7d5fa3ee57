package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/temporalconn"
	"github.com/labelflow/labelflow/internal/temporalconn/temporaltest"
	"github.com/labelflow/labelflow/internal/workforce"
)

// runCommand runs one command with cfg as the configuration.
func runCommand(t *testing.T, cmd func(*env) *cobra.Command, cfg config.Config, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	c := cmd(&env{cfg: &cfg, log: zerolog.Nop(), stderr: &out})
	c.SetArgs(args)
	c.SetOut(&out)
	c.SetErr(&out)
	c.SilenceErrors, c.SilenceUsage = true, true
	err := c.ExecuteContext(ctx)
	return out.String(), err
}

// On a bare server, setup creates the namespace and registers the search attributes; run again
// it changes nothing.
func TestSetupOnABareServer(t *testing.T) {
	addr := temporaltest.Start(t)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.TemporalAddress, cfg.TemporalNamespace = addr, "labelflow-prod"

	out, err := runCommand(t, setupCmd, cfg, "--retention", "168h")
	if err != nil {
		t.Fatalf("first setup: %v\n%s", err, out)
	}
	for _, want := range []string{
		"changed  namespace labelflow-prod created (retention 168h0m0s)",
		"changed  search attribute LabelFlowClient added as Keyword",
		"changed  search attribute LabelFlowProject added as Keyword",
		"changed  search attribute LabelFlowStage added as Keyword",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("first setup does not say %q:\n%s", want, out)
		}
	}
	out, err = runCommand(t, setupCmd, cfg)
	if err != nil {
		t.Fatalf("second setup: %v\n%s", err, out)
	}
	if strings.Contains(out, "changed") || !strings.Contains(out, "nothing to change") || !strings.Contains(out, "ok       namespace labelflow-prod exists") {
		t.Errorf("second setup:\n%s", out)
	}
	if _, err := runCommand(t, setupCmd, cfg, "--retention", "1h"); err == nil || !strings.Contains(err.Error(), "--retention must be at least 24h") {
		t.Errorf("a retention of an hour: %v", err)
	}
}

// The codec server reads the roster: an ops person's own token decodes, an annotator's does not,
// and neither does a revoked one (once the cache has forgotten it).
func TestCodecServerChecksTheRoster(t *testing.T) {
	stack := devstacktest.Start(t)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.StoreEndpoint, cfg.StoreBucket = stack.Stack.S3Endpoint, devstacktest.PlatformBucket
	cfg.StoreAccessKey, cfg.StoreSecretKey = stack.Stack.AccessKey, stack.Stack.SecretKey
	cfg.GatewayTokenCacheTTL = time.Millisecond
	if _, err := codecHandler(cfg, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "LABELFLOW_PAYLOAD_KEYS") {
		t.Fatalf("a codec server without keys: %v", err)
	}
	cfg.PayloadKeys = "k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	noOne := cfg
	noOne.TokenPepper = ""
	if _, err := codecHandler(noOne, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "nobody could use the codec server") {
		t.Fatalf("a codec server nobody may use: %v", err)
	}
	h, err := codecHandler(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	ctx := context.Background()
	roster := workforce.Roster{Store: stack.Store, Pepper: []byte(cfg.TokenPepper)}
	people := []workforce.Person{
		{ID: "ops-codec", Name: "Ops", Country: "KE", Role: role.Ops, PayoutMethod: "bank-transfer"},
		{ID: "ann-codec", Name: "Annotator", Country: "KE", Role: role.Annotator, PayoutMethod: "mobile-money"},
	}
	if err := roster.Save(ctx, people); err != nil {
		t.Fatal(err)
	}
	opsToken, err := roster.IssueToken(ctx, "ops-codec")
	if err != nil {
		t.Fatal(err)
	}
	annToken, err := roster.IssueToken(ctx, "ann-codec")
	if err != nil {
		t.Fatal(err)
	}
	c, err := temporalconn.Codec(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := converter.GetDefaultDataConverter().ToPayload("answer of ann-codec")
	sealed, _ := c.Encode([]*commonpb.Payload{p})
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: sealed})
	decode := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/"+cfg.TemporalNamespace+"/decode", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, out := decode(opsToken); code != http.StatusOK || !strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(`"answer of ann-codec"`))) {
		t.Errorf("ops: %d %s", code, out)
	}
	if code, _ := decode(annToken); code != http.StatusForbidden {
		t.Errorf("an annotator: %d", code)
	}
	if err := roster.RevokeToken(ctx, "ops-codec"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if code, _ := decode(opsToken); code != http.StatusUnauthorized {
		t.Errorf("a revoked ops token: %d", code)
	}
}
