package clientbucket

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Upload is a multipart upload in progress, as a delivery records it in its heartbeats so that a
// retry resumes it instead of starting over. It is JSON-compatible.
type Upload struct {
	Key      string `json:"key"`
	UploadID string `json:"upload_id"`
	Parts    int    `json:"parts"` // parts in place so far
}

// WriterOptions make a Writer resumable.
type WriterOptions struct {
	// PartSize is the size of multipart parts; zero is PartSize. S3 requires 5 MiB or more for
	// every part but the last.
	PartSize int
	// Resume is the upload an earlier attempt started for the same key: its parts that hold the
	// same bytes are kept, the others uploaded. An upload that no longer exists is started again.
	Resume *Upload
	// OnPart is told of the upload when it starts and after each part is in place; never by two
	// goroutines at once.
	OnPart func(Upload)
	// Parallel is how many parts are uploaded at once; zero is PartsInFlight.
	Parallel int
}

// Resumed is how many parts were kept from the upload of an earlier attempt.
func (w *Writer) Resumed() int { return w.resumed }

// start opens the multipart upload: the resumed one when it still exists, else a new one.
// Every other incomplete upload of the key, left by attempts that crashed or lost their
// responses, is aborted first, so none stays behind in the client's bucket.
func (w *Writer) start() error {
	if r := w.o.Resume; r != nil && r.Key == w.key && r.UploadID != "" {
		parts, err := w.b.listParts(w.ctx, w.key, r.UploadID)
		switch {
		case err == nil:
			w.uploadID, w.existing = aws.String(r.UploadID), parts
		case !isNoSuchUpload(err) && !isAccessDenied(err): // not allowed to list parts: start anew
			return err
		}
	}
	if err := w.b.abortIncompleteUploads(w.ctx, w.key, aws.ToString(w.uploadID)); err != nil {
		return err
	}
	if w.uploadID == nil {
		in := &s3.CreateMultipartUploadInput{Bucket: aws.String(w.b.name), Key: aws.String(w.key),
			ContentType: aws.String(w.contentType), ChecksumAlgorithm: types.ChecksumAlgorithmSha256}
		w.b.encrypt(&in.ServerSideEncryption, &in.SSEKMSKeyId)
		out, err := w.b.client.CreateMultipartUpload(w.ctx, in)
		if err != nil {
			return fmt.Errorf("start multipart upload of s3://%s/%s: %w", w.b.name, w.key, err)
		}
		w.uploadID = out.UploadId
	}
	w.mu.Lock()
	w.reportLocked()
	w.mu.Unlock()
	return nil
}

// reportLocked tells OnPart where the upload stands: the parts in place from the first on, with
// no gap (a part uploaded beyond a gap is kept by a retry all the same: parts are matched by
// number and bytes). The caller holds w.mu.
func (w *Writer) reportLocked() {
	if w.o.OnPart == nil {
		return
	}
	n := 0
	for w.done[int32(n+1)].PartNumber != nil {
		n++
	}
	w.o.OnPart(Upload{Key: w.key, UploadID: aws.ToString(w.uploadID), Parts: n})
}

// samePart reports whether an uploaded part holds these bytes: by its SHA-256 where the server
// lists it, else by its ETag, the MD5 of the part on servers without KMS encryption.
func samePart(done types.Part, part []byte, sum [32]byte) bool {
	if aws.ToInt64(done.Size) != int64(len(part)) {
		return false
	}
	if c := aws.ToString(done.ChecksumSHA256); c != "" {
		return c == base64.StdEncoding.EncodeToString(sum[:])
	}
	md := md5.Sum(part)
	return strings.Trim(aws.ToString(done.ETag), `"`) == hex.EncodeToString(md[:])
}

// listParts returns the parts of an upload by number.
func (b *Bucket) listParts(ctx context.Context, key, uploadID string) (map[int32]types.Part, error) {
	parts := map[int32]types.Part{}
	pages := s3.NewListPartsPaginator(b.client, &s3.ListPartsInput{Bucket: aws.String(b.name), Key: aws.String(key), UploadId: aws.String(uploadID)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list parts of upload %s of s3://%s/%s: %w", uploadID, b.name, key, err)
		}
		for _, p := range page.Parts {
			parts[aws.ToInt32(p.PartNumber)] = p
		}
	}
	return parts, nil
}

// IncompleteUploads lists the ids of the multipart uploads started and not completed or aborted
// under exactly key.
func (b *Bucket) IncompleteUploads(ctx context.Context, key string) ([]string, error) {
	var ids []string
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(b.name), Prefix: aws.String(key)}
	for {
		out, err := b.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list incomplete uploads of s3://%s/%s: %w", b.name, key, err)
		}
		for _, u := range out.Uploads {
			if aws.ToString(u.Key) == key { // the prefix also matches longer keys
				ids = append(ids, aws.ToString(u.UploadId))
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return ids, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// abortIncompleteUploads aborts every incomplete upload of key but keep. A bucket whose policy
// does not let the delivery list uploads is left as it is: its lifecycle rule
// AbortIncompleteMultipartUpload clears them, and the delivery itself must not fail for it.
func (b *Bucket) abortIncompleteUploads(ctx context.Context, key, keep string) error {
	ids, err := b.IncompleteUploads(ctx, key)
	if isAccessDenied(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id == keep {
			continue
		}
		_, err := b.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b.name), Key: aws.String(key), UploadId: aws.String(id)})
		if err != nil && !isNoSuchUpload(err) && !isAccessDenied(err) {
			return fmt.Errorf("abort incomplete upload %s of s3://%s/%s: %w", id, b.name, key, err)
		}
	}
	return nil
}

func isNoSuchUpload(err error) bool {
	var nsu *types.NoSuchUpload
	return errors.As(err, &nsu) || apiErrorCode(err) == "NoSuchUpload"
}

func isAccessDenied(err error) bool { return apiErrorCode(err) == "AccessDenied" }

// apiErrorCode is the S3 error code of err (smithy.APIError's method), or "".
func apiErrorCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
