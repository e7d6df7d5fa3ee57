package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/spec"
)

// attempt is one attempt of a delivery activity: it starts from the progress a previous attempt
// recorded and keeps what it records itself, passed through JSON as Temporal passes heartbeat
// details.
type attempt struct {
	mu       sync.Mutex
	last     deliveryProgress
	uploads  []string // upload ids reported, in order
	stopWhen func(deliveryProgress) bool
}

func (at *attempt) progress(ctx context.Context, from deliveryProgress, cancel func()) *progress {
	return newProgress(ctx, from, func(p deliveryProgress) {
		data, err := json.Marshal(p)
		if err != nil {
			panic(err)
		}
		var back deliveryProgress
		if err := json.Unmarshal(data, &back); err != nil {
			panic(err)
		}
		at.mu.Lock()
		defer at.mu.Unlock()
		at.last = back
		if back.Upload != nil && (len(at.uploads) == 0 || at.uploads[len(at.uploads)-1] != back.Upload.UploadID) {
			at.uploads = append(at.uploads, back.Upload.UploadID)
		}
		if at.stopWhen != nil && at.stopWhen(back) {
			cancel()
		}
	})
}

// runManifest runs WriteDeliveryManifest's body from the progress from, cancelling it (as a lost
// worker or a heartbeat timeout does) once stopAfterParts parts of an upload are in place.
func (f *fixture) runManifest(in DeliveryManifestInput, from deliveryProgress, stopAfterParts int) (*attempt, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	at := &attempt{}
	if stopAfterParts > 0 {
		at.stopWhen = func(p deliveryProgress) bool { return p.Upload != nil && p.Upload.Parts >= stopAfterParts }
	}
	pr := at.progress(ctx, from, cancel)
	defer pr.close()
	_, err := f.acts.writeDeliveryManifest(ctx, in, pr)
	return at, err
}

// bigResults records both chunks (of two items and one) and then makes their results large (12 lines of 1 MiB), so
// that the CSV format is a multipart upload of three 5 MiB parts.
func (f *fixture) bigResults(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	for c := 0; c < 2; c++ {
		if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: c, Results: settled(at)[:2-c]}); err != nil {
			t.Fatal(err)
		}
		data, err := f.env.Store.Get(ctx, layout.ResultsKey("p1", c))
		if err != nil {
			t.Fatal(err)
		}
		var line map[string]any
		if err := json.Unmarshal(data[:bytes.IndexByte(data, '\n')], &line); err != nil {
			t.Fatal(err)
		}
		var big bytes.Buffer
		for i := 0; i < 6; i++ {
			line["id"], line["source"] = fmt.Sprintf("big-%d-%d", c, i), strings.Repeat(fmt.Sprint(i), 1<<20)
			b, _ := json.Marshal(line)
			big.Write(append(b, '\n'))
		}
		if err := f.env.Store.Put(ctx, layout.ResultsKey("p1", c), big.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInterruptedDeliveryResumesItsUploadAndLeavesNoneBehind(t *testing.T) {
	f := newFixture(t)
	f.acts.partSize = 5 << 20
	f.bigResults(t)
	ctx := context.Background()
	re := Redelivery{ID: "resume", Formats: []string{spec.FormatCSV}}
	for c := 0; c < 2; c++ {
		if _, err := f.acts.DeliverChunk(ctx, DeliverChunkInput{ProjectID: "p1", Chunk: c, Redelivery: re}); err != nil {
			t.Fatal(err)
		}
	}
	in := DeliveryManifestInput{ProjectID: "p1", Chunks: 2, CompletedAt: time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC), Redelivery: re}
	csvKey := layout.FormatKey(f.sp.Delivery.Prefix, "p1", spec.FormatCSV)
	b, err := f.env.Profiles.Open(ctx, f.sp.Delivery)
	if err != nil {
		t.Fatal(err)
	}

	first, err := f.runManifest(in, deliveryProgress{}, 1)
	if !errors.Is(err, context.Canceled) || first.last.Upload == nil || len(first.last.Delivered) != 2 {
		t.Fatalf("first attempt: %v, progress %+v", err, first.last)
	}
	// The second attempt lost the first one's heartbeats: it aborts the stray upload and starts its own.
	second, err := f.runManifest(in, deliveryProgress{}, 2)
	if !errors.Is(err, context.Canceled) || len(second.uploads) != 1 || second.uploads[0] == first.uploads[0] {
		t.Fatalf("second attempt: %v, uploads %v after %v", err, second.uploads, first.uploads)
	}
	if ids, _ := b.IncompleteUploads(ctx, csvKey); !slices.Equal(ids, second.uploads) {
		t.Fatalf("incomplete uploads %v, want only the second attempt's %v", ids, second.uploads)
	}
	// The third resumes the second's upload from its heartbeats and completes it.
	f.acts.Clock = func() time.Time { return time.Date(2026, 11, 10, 9, 30, 0, 0, time.UTC) }
	third, err := f.runManifest(in, second.last, 0)
	if err != nil || len(third.uploads) != 1 || third.uploads[0] != second.uploads[0] {
		t.Fatalf("third attempt: %v, uploads %v, want to resume %v", err, third.uploads, second.uploads)
	}
	if ids, err := b.IncompleteUploads(ctx, csvKey); err != nil || len(ids) != 0 {
		t.Fatalf("incomplete uploads left under %s: %v %v", csvKey, ids, err)
	}
	m := readManifest(t, b, f.sp.Delivery.Prefix)
	if !strings.Contains(string(m), `"completed_at": "2026-11-10T09:30:00Z"`) || !strings.Contains(string(m), `"kind": "csv"`) {
		t.Fatalf("manifest:\n%s", m)
	}
}

func TestRetriedManifestWritesTheSameBytes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
	for c := 0; c < 2; c++ {
		if _, err := f.acts.RecordChunk(ctx, RecordChunkInput{ProjectID: "p1", Chunk: c, Results: settled(at)[:2-c]}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.acts.DeliverChunk(ctx, DeliverChunkInput{ProjectID: "p1", Chunk: c}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := f.env.Profiles.Open(ctx, f.sp.Delivery)
	if err != nil {
		t.Fatal(err)
	}
	in := DeliveryManifestInput{ProjectID: "p1", Chunks: 2, CompletedAt: at}
	var manifests, markers [][]byte
	var from deliveryProgress
	for i, written := range []time.Time{at.Add(time.Hour), at.Add(2 * time.Hour)} {
		f.acts.Clock = func() time.Time { return written }
		a, err := f.runManifest(in, from, 0)
		if err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		from = a.last // the retry starts from what this attempt recorded
		manifests = append(manifests, readManifest(t, b, f.sp.Delivery.Prefix))
		marker, err := b.Get(ctx, layout.CompletionKey(f.sp.Delivery.Prefix, "p1"))
		if err != nil {
			t.Fatal(err)
		}
		markers = append(markers, marker)
	}
	if !bytes.Equal(manifests[0], manifests[1]) || !bytes.Equal(markers[0], markers[1]) {
		t.Fatalf("a retry changed the manifest:\n%s\n---\n%s", manifests[0], manifests[1])
	}
	// completed_at is when the activity wrote the last object, not when the workflow asked.
	if !strings.Contains(string(manifests[0]), `"completed_at": "2026-11-10T10:00:00Z"`) {
		t.Fatalf("manifest:\n%s", manifests[0])
	}
}

func readManifest(t *testing.T, b *clientbucket.Bucket, prefix string) []byte {
	t.Helper()
	m, err := b.Get(context.Background(), layout.ManifestKey(prefix, "p1"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
