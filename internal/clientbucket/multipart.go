package clientbucket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// PartSize is the size of multipart upload parts (S3's minimum is 5 MiB).
const PartSize = 8 << 20

// PartsInFlight is how many parts of one object are uploaded at once by default: one part at a
// time leaves a link idle while each part's answer travels back, and a few at once fill it, as
// the aws CLI does. Each part in flight holds its bytes in memory.
const PartsInFlight = 4

// Writer uploads one object of unknown size: small objects go in one PUT, larger ones as a
// multipart upload whose every part carries its SHA-256 for the server to verify. Close returns
// the SHA-256 of the whole object.
type Writer struct {
	ctx         context.Context
	b           *Bucket
	key         string
	contentType string
	buf         bytes.Buffer
	whole       hashWriter
	uploadID    *string
	size        int64
	err         error
	o           WriterOptions
	// existing holds, by part number, the parts an earlier attempt uploaded to the resumed upload.
	existing map[int32]types.Part
	resumed  int

	// Parts are uploaded by up to o.Parallel goroutines; slots bounds them.
	next    int32 // the number of the last part handed out
	slots   chan struct{}
	uploads sync.WaitGroup
	mu      sync.Mutex // guards done, upErr, and serialises OnPart
	done    map[int32]types.CompletedPart
	upErr   error
}

type hashWriter struct{ h hash.Hash }

// NewWriter starts an object at key.
func (b *Bucket) NewWriter(ctx context.Context, key, contentType string) *Writer {
	return b.NewWriterWith(ctx, key, contentType, WriterOptions{})
}

// NewWriterWith starts an object at key that may resume an earlier attempt's upload and reports
// its progress part by part.
func (b *Bucket) NewWriterWith(ctx context.Context, key, contentType string, o WriterOptions) *Writer {
	if o.PartSize <= 0 {
		o.PartSize = PartSize
	}
	if o.Parallel <= 0 {
		o.Parallel = PartsInFlight
	}
	return &Writer{ctx: ctx, b: b, key: key, contentType: contentType, whole: hashWriter{sha256.New()}, o: o,
		slots: make(chan struct{}, o.Parallel), done: map[int32]types.CompletedPart{}}
}

// Write buffers p and uploads full parts.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.buf.Write(p)
	w.whole.h.Write(p)
	w.size += int64(len(p))
	for w.buf.Len() >= w.o.PartSize {
		if err := w.flushPart(w.buf.Next(w.o.PartSize)); err != nil {
			w.err = err
			return 0, err
		}
	}
	return len(p), nil
}

// flushPart hands the next part to an upload of its own, or keeps the one an earlier attempt
// uploaded with the same bytes. It waits while o.Parallel parts are in flight, and returns the
// first upload error any part met.
func (w *Writer) flushPart(part []byte) error {
	if w.uploadID == nil {
		if err := w.start(); err != nil {
			return err
		}
	}
	if err := w.failed(); err != nil {
		return err
	}
	sum := sha256.Sum256(part)
	w.next++
	n := w.next
	if done, ok := w.existing[n]; ok && samePart(done, part, sum) {
		w.resumed++
		w.partDone(n, types.CompletedPart{PartNumber: aws.Int32(n), ETag: done.ETag, ChecksumSHA256: done.ChecksumSHA256}, nil)
		return nil
	}
	part = bytes.Clone(part) // the buffer it came from is written again
	w.slots <- struct{}{}
	w.uploads.Add(1)
	go func() {
		defer func() { <-w.slots; w.uploads.Done() }()
		p, err := w.uploadPart(n, part, sum)
		w.partDone(n, p, err)
	}()
	return nil
}

// uploadPart sends part number n, checked by its SHA-256.
func (w *Writer) uploadPart(n int32, part []byte, sum [32]byte) (types.CompletedPart, error) {
	out, err := w.b.client.UploadPart(w.ctx, &s3.UploadPartInput{
		Bucket: aws.String(w.b.name), Key: aws.String(w.key), UploadId: w.uploadID, PartNumber: aws.Int32(n),
		Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part))),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256, ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	})
	if err != nil {
		return types.CompletedPart{}, fmt.Errorf("upload part %d of s3://%s/%s: %w", n, w.b.name, w.key, err)
	}
	return types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumSHA256: out.ChecksumSHA256}, nil
}

// partDone records a part in place (or the first error) and reports the progress.
func (w *Writer) partDone(n int32, p types.CompletedPart, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if w.upErr == nil {
			w.upErr = err
		}
		return
	}
	w.done[n] = p
	w.reportLocked()
}

func (w *Writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.upErr
}

// completed lists the parts in order once every upload has ended; an error when one failed.
func (w *Writer) completed() ([]types.CompletedPart, error) {
	w.uploads.Wait()
	if err := w.failed(); err != nil {
		return nil, err
	}
	parts := make([]types.CompletedPart, 0, len(w.done))
	for _, p := range w.done {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return aws.ToInt32(parts[i].PartNumber) < aws.ToInt32(parts[j].PartNumber) })
	return parts, nil
}

// Close finishes the object and returns its SHA-256 (hex) and size. After an error the
// multipart upload is aborted, so no half object is left behind; but not when the writer's
// context ended: the attempt was interrupted, and its retry resumes the upload (or aborts it
// before starting another).
func (w *Writer) Close() (string, int64, error) {
	sum := hex.EncodeToString(w.whole.h.Sum(nil))
	if w.err == nil && w.uploadID == nil {
		_, err := w.b.Put(w.ctx, w.key, w.buf.Bytes(), w.contentType)
		return sum, w.size, err
	}
	if w.err == nil && w.buf.Len() > 0 {
		w.err = w.flushPart(w.buf.Bytes())
	}
	parts, err := w.completed()
	if w.err == nil {
		w.err = err
	}
	if w.err == nil {
		_, w.err = w.b.client.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(w.b.name), Key: aws.String(w.key), UploadId: w.uploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		if w.err != nil {
			w.err = fmt.Errorf("complete multipart upload of s3://%s/%s: %w", w.b.name, w.key, w.err)
		}
	}
	if w.err != nil && w.uploadID != nil && w.ctx.Err() == nil {
		_, _ = w.b.client.AbortMultipartUpload(context.WithoutCancel(w.ctx), &s3.AbortMultipartUploadInput{
			Bucket: aws.String(w.b.name), Key: aws.String(w.key), UploadId: w.uploadID})
	}
	return sum, w.size, w.err
}
