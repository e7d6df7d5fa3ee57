package clientbucket_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"

	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
)

// testPartSize is S3's minimum part size, which the test server enforces too.
const testPartSize = 5 << 20

func testObject(parts int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < parts*testPartSize+1000; i++ {
		fmt.Fprintf(&b, "line %d of a delivered format\n", i)
	}
	return b.Bytes()
}

// writeAll writes data in uneven pieces, as a format encoder does, and closes the writer.
func writeAll(w *clientbucket.Writer, data []byte) (string, error) {
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 10_007)
		if _, err := w.Write(rest[:n]); err != nil {
			_, _, _ = w.Close()
			return "", err
		}
		rest = rest[n:]
	}
	sum, _, err := w.Close()
	return sum, err
}

// interruptedUpload writes data until `after` parts are in place and then cancels the writer's
// context, as a lost worker or a heartbeat timeout does, and returns the last progress reported.
func interruptedUpload(t *testing.T, b *clientbucket.Bucket, key string, data []byte, after int) clientbucket.Upload {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last clientbucket.Upload
	// One part at a time, so that the interruption falls exactly after `after` parts.
	w := b.NewWriterWith(ctx, key, "text/plain", clientbucket.WriterOptions{PartSize: testPartSize, Parallel: 1, OnPart: func(u clientbucket.Upload) {
		last = u
		if u.Parts == after {
			cancel()
		}
	}})
	if _, err := writeAll(w, data); err == nil {
		t.Fatal("the interrupted upload completed")
	}
	if last.UploadID == "" || last.Parts != after {
		t.Fatalf("progress reported: %+v", last)
	}
	return last
}

func TestInterruptedUploadResumesItsParts(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	b, err := env.Profiles.Open(ctx, target(env, devstacktest.ClientBucket))
	if err != nil {
		t.Fatal(err)
	}
	key, data := "out/p/formats/labels.csv", testObject(3)
	first := interruptedUpload(t, b, key, data, 2)
	if ids, _ := b.IncompleteUploads(ctx, key); !slices.Equal(ids, []string{first.UploadID}) {
		t.Fatalf("after the interruption the incomplete uploads are %v, want the interrupted one %s kept for its retry", ids, first.UploadID)
	}
	var resumedID string
	w := b.NewWriterWith(ctx, key, "text/plain", clientbucket.WriterOptions{PartSize: testPartSize, Resume: &first,
		OnPart: func(u clientbucket.Upload) { resumedID = u.UploadID }})
	sum, err := writeAll(w, data)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	if sum != hex.EncodeToString(want[:]) || w.Resumed() != 2 || resumedID != first.UploadID {
		t.Fatalf("resumed %d parts of upload %s (want 2 of %s), checksum %s", w.Resumed(), resumedID, first.UploadID, sum)
	}
	assertDelivered(t, b, key, data)
}

func TestStrayUploadIsAbortedBeforeANewOne(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	b, err := env.Profiles.Open(ctx, target(env, devstacktest.ClientBucket))
	if err != nil {
		t.Fatal(err)
	}
	key, data := "out/p/formats/coco.json", testObject(1)
	stray := interruptedUpload(t, b, key, data, 1)
	other := interruptedUpload(t, b, key+".bak", data, 1) // shares the key as a prefix: not this key's
	// The next attempt knows nothing of the stray upload (its heartbeat was lost).
	w := b.NewWriterWith(ctx, key, "application/json", clientbucket.WriterOptions{PartSize: testPartSize})
	if _, err := writeAll(w, data); err != nil {
		t.Fatal(err)
	}
	if w.Resumed() != 0 {
		t.Fatalf("a writer without progress resumed %d parts", w.Resumed())
	}
	assertDelivered(t, b, key, data)
	if ids, _ := b.IncompleteUploads(ctx, key+".bak"); !slices.Equal(ids, []string{other.UploadID}) {
		t.Fatalf("the upload of another key was touched: %v", ids)
	}
	// A progress naming an upload that is gone (aborted, or completed by the old attempt) starts anew.
	w = b.NewWriterWith(ctx, key, "application/json", clientbucket.WriterOptions{PartSize: testPartSize, Resume: &stray})
	if _, err := writeAll(w, data); err != nil {
		t.Fatal(err)
	}
	assertDelivered(t, b, key, data)
}

// assertDelivered checks the object holds data and no incomplete upload is left under its key.
func assertDelivered(t *testing.T, b *clientbucket.Bucket, key string, data []byte) {
	t.Helper()
	got, err := b.Get(context.Background(), key)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("%s: read back %d bytes (want %d): %v", key, len(got), len(data), err)
	}
	ids, err := b.IncompleteUploads(context.Background(), key)
	if err != nil || len(ids) != 0 {
		t.Fatalf("%s: incomplete uploads left: %v %v", key, ids, err)
	}
}

func TestPartsUploadedAtOnceMakeTheObject(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	b, err := env.Profiles.Open(ctx, target(env, devstacktest.ClientBucket))
	if err != nil {
		t.Fatal(err)
	}
	key, data := "out/p/formats/labels.jsonl", testObject(9)
	var reported []int
	w := b.NewWriterWith(ctx, key, "application/x-ndjson", clientbucket.WriterOptions{PartSize: testPartSize, Parallel: 4,
		OnPart: func(u clientbucket.Upload) { reported = append(reported, u.Parts) }})
	sum, err := writeAll(w, data)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	if sum != hex.EncodeToString(want[:]) {
		t.Fatalf("checksum %s", sum)
	}
	assertDelivered(t, b, key, data)
	// Progress only counts parts in place from the first on: it never goes back, and ends at all of them.
	if !slices.IsSorted(reported) || reported[len(reported)-1] != 10 {
		t.Fatalf("progress reported %v, want a rising count ending at 10 parts", reported)
	}
}
