package activities

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/store"
)

// A RecordChunk attempt lost after writing the chunk's results and stats leaves them in its
// heartbeat; the retry resumes from that heartbeat: it writes the suites and the ledger, leaves
// what was written alone, and answers as an uninterrupted attempt would.
func TestRetriedRecordChunkResumesWithoutRewriting(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Settled around midnight in Nairobi: the chunk's ledger is two files, October's and November's.
	at := time.Date(2026, 10, 31, 20, 58, 0, 0, time.UTC)
	in := RecordChunkInput{ProjectID: "p1", Chunk: 0, Results: settled(at),
		Suites: []SubmittedSuite{{SuiteID: "c0-s1", Worker: "ann-a", Accepted: 2}, {SuiteID: "c0-s2", Worker: "ann-b", Accepted: 2}}}
	resultsKey, statsKey, suitesKey := layout.ResultsKey("p1", 0), layout.StatsKey("p1", 0), layout.SuitesKey("p1", 0)

	// The first attempt is cut off, as a lost worker's is, once two objects are written.
	lost, err := interruptedRecord(f, in, 2)
	if err == nil {
		t.Fatal("the interrupted attempt completed")
	}
	if want := []string{resultsKey, statsKey}; !slices.Equal(lost.Written, want) {
		t.Fatalf("the interrupted attempt's last heartbeat holds %v, want %v", lost.Written, want)
	}
	if _, err := f.env.Store.Get(ctx, suitesKey); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("suites written by the interrupted attempt: %v", err)
	}
	// Markers stand for what the first attempt wrote: a retry that rewrote an object replaces it.
	for _, k := range lost.Written {
		if err := f.env.Store.Put(ctx, k, []byte("first attempt\n")); err != nil {
			t.Fatal(err)
		}
	}

	var s testsuite.WorkflowTestSuite
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivity(f.acts)
	aenv.SetHeartbeatDetails(lost)
	var mu sync.Mutex
	var beats []recordProgress
	aenv.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) {
		var p recordProgress
		if err := d.Get(&p); err != nil {
			t.Errorf("heartbeat details: %v", err)
		}
		mu.Lock()
		beats = append(beats, p)
		mu.Unlock()
	})
	v, err := aenv.ExecuteActivity(f.acts.RecordChunk, in)
	if err != nil {
		t.Fatal(err)
	}
	var res RecordChunkResult
	if err := v.Get(&res); err != nil {
		t.Fatal(err)
	}
	for _, k := range lost.Written {
		if data, _ := f.env.Store.Get(ctx, k); string(data) != "first attempt\n" {
			t.Fatalf("the retry rewrote %s", k)
		}
	}
	if res.Items != 2 || res.LedgerEntries != 5 || len(res.LedgerKeys) != 2 || res.ResultsKey != resultsKey {
		t.Fatalf("the retry answered %+v, want 2 items and 5 ledger entries in 2 files", res)
	}
	if n := ledgerTotal(t, f, res.LedgerKeys); n != 4*350+1000 {
		t.Fatalf("the ledger totals %d, want %d", n, 4*350+1000)
	}
	if _, err := f.env.Store.Get(ctx, suitesKey); err != nil {
		t.Fatalf("suites not written by the retry: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(beats) == 0 || !slices.Equal(beats[0].Written, []string{resultsKey, statsKey, suitesKey}) {
		t.Fatalf("the retry's first heartbeat holds %v, want what was written before it and the suites", beats)
	}
}

// interruptedRecord runs RecordChunk's body from no progress, cancelling it once it has
// heartbeat stopAfter objects written, and returns its last heartbeat as Temporal would pass it
// on (through JSON).
func interruptedRecord(f *fixture, in RecordChunkInput, stopAfter int) (recordProgress, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var last recordProgress
	rec := newRecording(ctx, recordProgress{}, func(p recordProgress) {
		data, err := json.Marshal(p)
		if err != nil {
			panic(err)
		}
		var back recordProgress
		if err := json.Unmarshal(data, &back); err != nil {
			panic(err)
		}
		mu.Lock()
		defer mu.Unlock()
		last = back
		if len(back.Written) >= stopAfter {
			cancel()
		}
	})
	_, err := f.acts.recordChunk(ctx, in, rec)
	rec.close()
	mu.Lock()
	defer mu.Unlock()
	return last, err
}

// ledgerTotal adds up the amounts of the ledger files at keys.
func ledgerTotal(t *testing.T, f *fixture, keys []string) int64 {
	t.Helper()
	var total int64
	for _, k := range keys {
		entries, err := ledger.Read(context.Background(), f.env.Store, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			total += e.Amount
		}
	}
	return total
}
