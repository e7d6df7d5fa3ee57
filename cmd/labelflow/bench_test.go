package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
)

// The delivery and payroll benches run end to end at a small size, each on its own embedded
// stack, so that a change to what they drive cannot leave them broken unnoticed.
func TestBenchesRunAtSmallSize(t *testing.T) {
	bin := devstacktest.Binaries(t)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.BinDir, cfg.DataDir = bin, t.TempDir()
	for _, args := range [][]string{
		{"bench", "delivery", "--items", "600", "--chunk-size", "200"},
		{"bench", "payroll", "--lines", "3000", "--people", "30"},
	} {
		t.Run(args[1], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var out, errOut bytes.Buffer
			if code := execute(ctx, &env{cfg: &cfg, log: zerolog.Nop(), stderr: &errOut}, args, &out, &errOut); code != 0 {
				t.Fatalf("%v exited %d:\n%s%s", args, code, out.String(), errOut.String())
			}
			if !bytes.Contains(out.Bytes(), []byte("bench "+args[1]+":")) {
				t.Errorf("%v printed no results:\n%s", args, out.String())
			}
		})
	}
}
