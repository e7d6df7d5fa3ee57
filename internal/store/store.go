// Package store wraps the platform's own object store (any S3-compatible server) with minio-go.
// Everything LabelFlow keeps — chunks, results, ledger, roster, payroll — lives here under
// deterministic keys, so activities can be retried without creating duplicates.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ErrNotFound is returned when an object does not exist.
var ErrNotFound = errors.New("object not found")

// Store is a bucket in the platform object store.
type Store struct {
	Client *minio.Client
	Bucket string
}

// Options locate the store.
type Options struct {
	Endpoint  string // http(s)://host:port
	AccessKey string
	SecretKey string
	Region    string
	Bucket    string
}

// New connects to the store. It does not check that the bucket exists; EnsureBucket does.
func New(o Options) (*Store, error) {
	u, err := url.Parse(o.Endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("store endpoint %q: must be a URL such as http://127.0.0.1:9000", o.Endpoint)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       o.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("store client: %w", err)
	}
	return &Store{Client: c, Bucket: o.Bucket}, nil
}

// EnsureBucket creates bucket if it is missing.
func (s *Store) EnsureBucket(ctx context.Context, bucket string) error {
	ok, err := s.Client.BucketExists(ctx, bucket)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucket, err)
	}
	if ok {
		return nil
	}
	if err := s.Client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

// Put writes data at key in the platform bucket.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	return s.PutIn(ctx, s.Bucket, key, data)
}

// PutIn writes data at key in bucket.
func (s *Store) PutIn(ctx context.Context, bucket, key string, data []byte) error {
	ct := "application/octet-stream"
	switch {
	case strings.HasSuffix(key, ".json"):
		ct = "application/json"
	case strings.HasSuffix(key, ".jsonl"), strings.HasSuffix(key, ".manifest"):
		ct = "application/x-ndjson"
	case strings.HasSuffix(key, ".csv"):
		ct = "text/csv"
	}
	_, err := s.Client.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: ct, SendContentMd5: true})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// PutJSON writes v as indented JSON at key.
func (s *Store) PutJSON(ctx context.Context, key string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return s.Put(ctx, key, append(data, '\n'))
}

// Get reads the whole object at key. Use Open for objects that may be large.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	r, err := s.OpenIn(ctx, s.Bucket, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, translate(err, s.Bucket, key)
	}
	return data, nil
}

// GetJSON decodes the object at key into v.
func (s *Store) GetJSON(ctx context.Context, key string, v any) error {
	data, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}

// OpenIn streams the object at key in bucket. The caller closes the reader.
func (s *Store) OpenIn(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	obj, err := s.Client.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, translate(err, bucket, key)
	}
	// GetObject is lazy; Stat surfaces a missing object now rather than on first read.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, translate(err, bucket, key)
	}
	return obj, nil
}

// Exists reports whether key exists in the platform bucket.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.Client.StatObject(ctx, s.Bucket, key, minio.StatObjectOptions{})
	if err == nil {
		return true, nil
	}
	if err = translate(err, s.Bucket, key); errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return false, err
}

// Delete removes key from the platform bucket.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.Client.RemoveObject(ctx, s.Bucket, key, minio.RemoveObjectOptions{})
}

// List calls fn for every key under prefix in the platform bucket, in lexical order.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	for obj := range s.Client.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", s.Bucket, prefix, obj.Err)
		}
		if err := fn(obj.Key, obj.Size); err != nil {
			return err
		}
	}
	return nil
}

func translate(err error, bucket, key string) error {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && (resp.Code == "NoSuchKey" || resp.Code == "NoSuchBucket" || resp.StatusCode == 404) {
		return fmt.Errorf("s3://%s/%s: %w", bucket, key, ErrNotFound)
	}
	return fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
}

// ParseURI splits s3://bucket/key.
func ParseURI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// URI", uri)
	}
	bucket, key, ok = strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", fmt.Errorf("%q must name a bucket and a key: s3://bucket/key", uri)
	}
	return bucket, key, nil
}
