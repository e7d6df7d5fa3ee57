package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/devstack"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

// benchPayrollCmd measures a month's payroll over a large ledger: aggregation (statements, floor)
// and payment, run as the activities run, against the embedded S3 server.
func benchPayrollCmd(ctx context.Context, cfg config.Config, log zerolog.Logger, args []string) error {
	fs := newFlags("bench payroll")
	lines := fs.Int("lines", 1000000, "ledger lines")
	people := fs.Int("people", 10000, "people")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp(cfg.DataDir, "bench-payroll-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := devstack.Start(ctx, devstack.Options{BinDir: cfg.BinDir, DataDir: filepath.Join(dir, "stack"), Headless: true,
		Buckets: []string{cfg.StoreBucket}, Logger: log})
	if err != nil {
		return err
	}
	defer st.Stop()
	s, err := store.New(store.Options{Endpoint: st.S3Endpoint, AccessKey: st.AccessKey, SecretKey: st.SecretKey, Region: cfg.StoreRegion, Bucket: cfg.StoreBucket})
	if err != nil {
		return err
	}
	const month = "2026-10"
	fmt.Printf("preparing %d ledger lines for %d people…\n", *lines, *people)
	countries := []string{"KE", "UG", "RW", "NG", "GH", "ET"}
	var roster []workforce.Person
	for i := 0; i < *people; i++ {
		c := countries[i%len(countries)]
		// People who never sign in: no token.
		roster = append(roster, workforce.Person{ID: fmt.Sprintf("p%05d", i), Name: "p", Country: c, Role: "annotator", PayoutMethod: "mobile-money"})
	}
	if err := store.Parallel(len(roster)/100+1, 16, func(i int) error {
		end := min(len(roster), (i+1)*100)
		if i*100 >= end {
			return nil
		}
		return workforce.Roster{Store: s}.Save(ctx, roster[i*100:end])
	}); err != nil {
		return err
	}
	const perFile = 500
	files := (*lines + perFile - 1) / perFile
	if err := store.Parallel(files, 16, func(f int) error {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for j := 0; j < perFile && f*perFile+j < *lines; j++ {
			n := f*perFile + j
			enc.Encode(activities.LedgerEntry{ID: fmt.Sprintf("bench/%06d/i%d/annotation/p%05d", f, n, n%*people), Worker: fmt.Sprintf("p%05d", n%*people),
				Project: fmt.Sprintf("bench-%d", f%20), Chunk: f, Item: fmt.Sprintf("i%d", n), Role: "annotation", Amount: 4, Currency: "USD",
				Month: month, AcceptedAt: time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC), Seconds: 30})
		}
		return s.Put(ctx, activities.LedgerKey(month, fmt.Sprintf("bench-%d", f%20), f), buf.Bytes())
	}); err != nil {
		return err
	}
	if err := demo.SeedFinanceTables(ctx, s, month); err != nil {
		return err
	}
	acts := &activities.Activities{Store: s, Payouts: &payout.FileProvider{Store: s}, Months: time.UTC, FloorMultiplier: cfg.FloorMultiplier, Log: log}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := peakHeap(50 * time.Millisecond)
	start := time.Now()
	sum, err := acts.AggregatePayroll(ctx, month)
	if err != nil {
		return err
	}
	aggregate := time.Since(start)
	start = time.Now()
	res, err := acts.PayPayroll(ctx, activities.PayPayrollInput{Month: month, Approver: "bench"})
	if err != nil {
		return err
	}
	pay := time.Since(start)
	maxHeap := peak()
	fmt.Printf(`bench payroll: %d ledger lines, %d people, %d files
  aggregate (stream ledger, statements JSON+CSV, floor)  %s  (%.0f lines/s)
  pay (file provider, idempotency markers)                %s  (%d payouts)
  peak Go heap during the run                             %.1f MiB
  top-ups                                                 %d
`, sum.Entries, sum.People, files, aggregate.Round(time.Millisecond), float64(sum.Entries)/aggregate.Seconds(),
		pay.Round(time.Millisecond), res.Payouts, float64(maxHeap)/(1<<20), len(sum.TopUps))
	return nil
}

// peakHeap samples the heap in use until the returned function is called, which returns the peak.
func peakHeap(every time.Duration) func() uint64 {
	var mu sync.Mutex
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapInuse)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}
