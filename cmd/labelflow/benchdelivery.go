package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/workflows"
)

// benchDeliveryCmd measures delivering a finished project's results (stored chunk results, as a
// project leaves them) to a client bucket through the durable path, against the aws CLI copying
// the same label files to the same server.
func benchDeliveryCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, args []string) error {
	fs := newFlags("bench delivery")
	items := fs.Int("items", 100000, "items in the project")
	chunkSize := fs.Int("chunk-size", 500, "items per chunk")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(cfg.DataDir, "bench-delivery-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dir, _ = filepath.Abs(dir)
	e, err := demo.Start(ctx, cfg, demo.StackOptions{DataDir: filepath.Join(dir, "stack"), Headless: true}, log)
	if err != nil {
		return err
	}
	defer e.Stop()
	sp := spec.Project{ID: "bench-delivery", Client: "acme", Source: "s3://x/y",
		Annotation: spec.Annotation{Type: "single-label", Taxonomy: []string{"positive", "negative", "neutral"}, Instructions: "x"},
		ChunkSize:  *chunkSize, Delivery: spec.Delivery{Bucket: demo.ClientBucket, Prefix: "durable/", Region: "us-east-1",
			Endpoint: e.Cfg.StoreEndpoint, Credentials: "dev", Formats: []string{"jsonl"}, LabelAttribute: "label"},
		Pay: spec.Pay{Currency: "USD", PerAnnotation: "0.04", PerArbitration: "0.10"}}
	if err := e.App.Store.PutJSON(ctx, activities.SpecKey(sp.ID), sp); err != nil {
		return err
	}
	if err := e.App.Store.Put(ctx, activities.RejectsKey(sp.ID), nil); err != nil {
		return err
	}
	local := filepath.Join(dir, "labels")
	os.MkdirAll(local, 0o755)
	chunks := (*items + *chunkSize - 1) / *chunkSize
	fmt.Printf("preparing %d items in %d chunks…\n", *items, chunks)
	for c := 0; c < chunks; c++ {
		var buf bytes.Buffer
		for i := 0; i < min(*chunkSize, *items-c**chunkSize); i++ {
			n := c**chunkSize + i
			line, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("review-%07d", n), "source": fmt.Sprintf("The product number %d was exactly what I ordered, thank you.", n),
				"label": "positive", "label-metadata": map[string]any{"method": "agreed", "annotators": []string{"amina", "grace"}, "answers": []string{"positive", "positive"},
					"confidence": 0.9697, "type": "single-label", "project": sp.ID, "completed_at": "2026-11-27T10:00:00Z"}})
			buf.Write(line)
			buf.WriteByte('\n')
		}
		if err := e.App.Store.Put(ctx, activities.ResultsKey(sp.ID, c), buf.Bytes()); err != nil {
			return err
		}
		// The chunk's quality figures, as RecordChunk leaves them: the manifest's quality report
		// is built from them.
		agreed := min(*chunkSize, *items-c**chunkSize)
		if err := e.App.Store.PutJSON(ctx, activities.StatsKey(sp.ID, c), activities.ChunkStats{Chunk: c, Items: agreed, Agreed: agreed}); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(local, fmt.Sprintf("chunk-%06d.jsonl", c)), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}

	start := time.Now()
	run, err := e.App.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "bench-delivery", TaskQueue: cfg.WorkflowTaskQueue},
		workflows.RedeliveryWorkflow, workflows.RedeliveryInput{ProjectID: sp.ID, Chunks: chunks, ActivityTaskQueue: cfg.ActivityTaskQueue,
			Redelivery: activities.Redelivery{ID: "bench"}})
	if err != nil {
		return err
	}
	var res activities.DeliveryManifestResult
	if err := run.Get(ctx, &res); err != nil {
		return err
	}
	durable := time.Since(start)

	aws, err := exec.LookPath("aws")
	var cli time.Duration
	if err == nil {
		cmd := exec.CommandContext(ctx, aws, "--endpoint-url", e.Cfg.StoreEndpoint, "s3", "cp", "--recursive", "--only-show-errors", local, "s3://"+demo.ClientBucket+"/awscli/labels/")
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+e.Cfg.StoreAccessKey, "AWS_SECRET_ACCESS_KEY="+e.Cfg.StoreSecretKey, "AWS_DEFAULT_REGION=us-east-1")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		start = time.Now()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("aws s3 cp: %w", err)
		}
		cli = time.Since(start)
	}
	fmt.Printf(`bench delivery: %d items in %d chunk files
  LabelFlow (workflow, per-chunk SHA-256-checked uploads, receipts, manifest)  %s  (%.0f items/s)
`, res.Items, chunks, durable.Round(time.Millisecond), float64(res.Items)/durable.Seconds())
	if cli > 0 {
		fmt.Printf("  aws s3 cp --recursive of the same label files                               %s  (%.0f items/s)\n", cli.Round(time.Millisecond), float64(*items)/cli.Seconds())
	} else {
		fmt.Println("  aws CLI not found: install it (apt-get install awscli) to compare")
	}
	return nil
}
