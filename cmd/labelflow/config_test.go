package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
)

// checkAgainst runs `labelflow config --check` with cfg as the environment's configuration.
func checkAgainst(t *testing.T, cfg config.Config) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := execute(ctx, &env{cfg: &cfg, log: zerolog.Nop(), stderr: &errOut}, []string{"config", "--check"}, &out, &errOut)
	return code, out.String()
}

func TestConfigCheckOnARealStack(t *testing.T) {
	stack := devstacktest.Start(t)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.TemporalAddress, cfg.StoreEndpoint, cfg.StoreBucket = stack.Stack.TemporalAddress, stack.Stack.S3Endpoint, devstacktest.PlatformBucket
	cfg.StoreAccessKey, cfg.StoreSecretKey = stack.Stack.AccessKey, stack.Stack.SecretKey

	code, out := checkAgainst(t, cfg)
	if code != 0 {
		t.Fatalf("config --check on a ready stack exited %d:\n%s", code, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "ok  ") {
			t.Errorf("on a ready stack: %q", line)
		}
	}
	if !strings.Contains(out, "search attributes LabelFlowProject, LabelFlowClient, LabelFlowStage") {
		t.Errorf("config --check did not check the search attributes:\n%s", out)
	}

	t.Run("unknown namespace and missing bucket", func(t *testing.T) {
		bad := cfg
		bad.StoreBucket, bad.TemporalNamespace = "no-such-bucket", "no-such-namespace"
		code, out := checkAgainst(t, bad)
		if code != exitFailed {
			t.Errorf("exited %d, want %d", code, exitFailed)
		}
		for _, want := range []string{
			"ok    object store " + cfg.StoreEndpoint + " answers",
			"FAIL  platform bucket no-such-bucket exists",
			"FAIL  namespace no-such-namespace is known",
			"skip  search attributes",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
}
