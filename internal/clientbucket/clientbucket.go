// Package clientbucket writes to clients' own S3 buckets with aws-sdk-go-v2, so delivery works on
// AWS and on any S3-compatible server. Credentials come from named profiles kept in the platform's
// configuration; a project spec only names its profile, and secrets never leave this package.
package clientbucket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"go.yaml.in/yaml/v3"

	"github.com/labelflow/labelflow/internal/egress"
	"github.com/labelflow/labelflow/internal/spec"
)

// Profile is one set of delivery credentials.
type Profile struct {
	AccessKeyID         string `yaml:"access_key_id"`
	SecretAccessKeyFile string `yaml:"secret_access_key_file"` // a file holding the secret
	SecretAccessKeyEnv  string `yaml:"secret_access_key_env"`  // or an environment variable holding it
	DefaultChain        bool   `yaml:"default_chain"`          // or the AWS default credential chain
	// RoleARN, when set, is assumed with STS from the credentials above; ExternalID is the
	// client's condition on the trust policy (the confused-deputy guard).
	RoleARN    string `yaml:"role_arn"`
	ExternalID string `yaml:"external_id"`
	secret     string
}

// Secret is a named secret held outside specs (webhook signing keys).
type Secret struct {
	File string `yaml:"file"`
	Env  string `yaml:"env"`
}

// Profiles are the named delivery profiles.
type Profiles struct {
	byName  map[string]Profile
	secrets map[string][]byte
	// http carries every request to a client's endpoint, through the egress guard.
	http aws.HTTPClient
	// clients holds one S3 client per (profile, region, endpoint): its connections and any role
	// credentials assumed through STS are reused by every delivery to the same place.
	clients sync.Map
}

// DevProfile is the name of the profile the embedded stack defines from the store's own keys.
const DevProfile = "dev"

// Options say what the stack allows deliveries.
type Options struct {
	// Embedded adds the dev profile, made of the platform store's own keys (DevKey, DevSecret).
	// Only the embedded stack has it: elsewhere those keys would open the platform's own buckets.
	Embedded          bool
	DevKey, DevSecret string
	// Egress guards every connection to a client's endpoint.
	Egress egress.Guard
}

// LoadProfiles reads a profiles file (`profiles: {name: {...}}`). With path empty, there are no
// profiles but the dev profile of the embedded stack.
func LoadProfiles(path string, o Options) (*Profiles, error) {
	p := &Profiles{byName: map[string]Profile{}, secrets: map[string][]byte{}, http: guardedHTTPClient(o.Egress)}
	if o.Embedded {
		p.byName[DevProfile] = Profile{AccessKeyID: o.DevKey, secret: o.DevSecret}
	}
	if path == "" {
		return p, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("delivery profiles: %w", err)
	}
	var file struct {
		Profiles       map[string]Profile `yaml:"profiles"`
		WebhookSecrets map[string]Secret  `yaml:"webhook_secrets"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("delivery profiles %s: %w", path, err)
	}
	for name, prof := range file.Profiles {
		switch {
		case prof.DefaultChain:
		case prof.AccessKeyID == "":
			return nil, fmt.Errorf("delivery profiles %s: profile %s: access_key_id is required unless default_chain is true", path, name)
		case prof.SecretAccessKeyFile != "":
			b, err := os.ReadFile(prof.SecretAccessKeyFile)
			if err != nil {
				return nil, fmt.Errorf("delivery profiles %s: profile %s: secret_access_key_file: %w", path, name, err)
			}
			prof.secret = strings.TrimSpace(string(b))
		case prof.SecretAccessKeyEnv != "":
			prof.secret = os.Getenv(prof.SecretAccessKeyEnv)
			if prof.secret == "" {
				return nil, fmt.Errorf("delivery profiles %s: profile %s: environment variable %s is empty", path, name, prof.SecretAccessKeyEnv)
			}
		default:
			return nil, fmt.Errorf("delivery profiles %s: profile %s: give secret_access_key_file or secret_access_key_env (secrets are never written inline)", path, name)
		}
		p.byName[name] = prof
	}
	for name, s := range file.WebhookSecrets {
		var value string
		switch {
		case s.File != "":
			b, err := os.ReadFile(s.File)
			if err != nil {
				return nil, fmt.Errorf("delivery profiles %s: webhook secret %s: %w", path, name, err)
			}
			value = strings.TrimSpace(string(b))
		case s.Env != "":
			value = os.Getenv(s.Env)
		}
		if len(value) < 16 {
			return nil, fmt.Errorf("delivery profiles %s: webhook secret %s: give file or env holding at least 16 characters", path, name)
		}
		p.secrets[name] = []byte(value)
	}
	return p, nil
}

// WebhookSecret returns the signing key called name.
func (p *Profiles) WebhookSecret(name string) ([]byte, error) {
	s, ok := p.secrets[name]
	if !ok {
		return nil, fmt.Errorf("webhook secret %q is not configured in the delivery profiles", name)
	}
	return s, nil
}

// SecretNames lists the webhook secrets by name.
func (p *Profiles) SecretNames() []string {
	out := make([]string, 0, len(p.secrets))
	for n := range p.secrets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// responseHeaderTimeout bounds the wait for a client endpoint's answer once a request is sent. A
// delivery heartbeats while a request is in flight, so without it an endpoint that accepts the
// connection and never answers would hold the delivery until its start-to-close timeout.
const responseHeaderTimeout = 2 * time.Minute

// guardedHTTPClient is the SDK's HTTP client with every connection checked by the guard, no
// proxy, which would connect on the guard's behalf, and a bounded wait for each answer.
func guardedHTTPClient(g egress.Guard) aws.HTTPClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Control = g.Control }).
		WithTransportOptions(func(t *http.Transport) {
			t.Proxy = nil
			t.ResponseHeaderTimeout = responseHeaderTimeout
		})
}

// Names lists the profiles.
func (p *Profiles) Names() []string {
	out := make([]string, 0, len(p.byName))
	for n := range p.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Bucket is a client bucket ready for writing.
type Bucket struct {
	client *s3.Client
	name   string
	sse    spec.Encryption
}

// encrypt sets server-side encryption on an upload request.
func (b *Bucket) encrypt(sse *types.ServerSideEncryption, keyID **string) {
	switch b.sse.Type {
	case "AES256":
		*sse = types.ServerSideEncryptionAes256
	case "aws:kms":
		*sse = types.ServerSideEncryptionAwsKms
		if b.sse.KMSKeyID != "" {
			*keyID = aws.String(b.sse.KMSKeyID)
		}
	}
}

// Open returns the bucket of a delivery target.
func (p *Profiles) Open(ctx context.Context, d spec.Delivery) (*Bucket, error) {
	prof, ok := p.byName[d.Credentials]
	if !ok {
		return nil, fmt.Errorf("delivery profile %q is not configured (known: %v)", d.Credentials, p.Names())
	}
	key := d.Credentials + "\x00" + d.Region + "\x00" + d.Endpoint
	if c, ok := p.clients.Load(key); ok {
		return &Bucket{client: c.(*s3.Client), name: d.Bucket, sse: d.Encryption}, nil
	}
	var cfg aws.Config
	if prof.DefaultChain {
		var err error
		if cfg, err = awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(d.Region)); err != nil {
			return nil, fmt.Errorf("delivery profile %q: %w", d.Credentials, err)
		}
	} else {
		cfg = aws.Config{Region: d.Region, Credentials: credentials.NewStaticCredentialsProvider(prof.AccessKeyID, prof.secret, "")}
	}
	if prof.RoleARN != "" {
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), prof.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "labelflow-delivery"
			if prof.ExternalID != "" {
				o.ExternalID = aws.String(prof.ExternalID)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.HTTPClient = p.http
		if d.Endpoint != "" {
			o.BaseEndpoint = aws.String(d.Endpoint)
			o.UsePathStyle = true
		}
		// The checksum is computed here and sent with the request; the server verifies it.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	c, _ := p.clients.LoadOrStore(key, client)
	return &Bucket{client: c.(*s3.Client), name: d.Bucket, sse: d.Encryption}, nil
}

// Name is the bucket's name.
func (b *Bucket) Name() string { return b.name }

// Put writes data at key with its SHA-256 checksum, which the server checks, and returns the
// checksum in hex.
func (b *Bucket) Put(ctx context.Context, key string, data []byte, contentType string) (string, error) {
	sum := sha256.Sum256(data)
	in := &s3.PutObjectInput{
		Bucket:            aws.String(b.name),
		Key:               aws.String(key),
		Body:              bytes.NewReader(data),
		ContentLength:     aws.Int64(int64(len(data))),
		ContentType:       aws.String(contentType),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	}
	b.encrypt(&in.ServerSideEncryption, &in.SSEKMSKeyId)
	_, err := b.client.PutObject(ctx, in)
	if err != nil {
		return "", fmt.Errorf("put s3://%s/%s: %w", b.name, key, err)
	}
	return hex.EncodeToString(sum[:]), nil
}

// Get reads an object (used to verify deliveries).
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", b.name, key, err)
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(out.Body); err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", b.name, key, err)
	}
	return buf.Bytes(), nil
}

// Digest reads an object through and returns its SHA-256 (hex) and size, holding none of it:
// how a delivery of any size is checked against its manifest.
func (b *Bucket) Digest(ctx context.Context, key string) (string, int64, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)})
	if err != nil {
		return "", 0, fmt.Errorf("get s3://%s/%s: %w", b.name, key, err)
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		return "", 0, fmt.Errorf("get s3://%s/%s: %w", b.name, key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Probe proves the bucket is writable by writing and deleting a small object.
func (b *Bucket) Probe(ctx context.Context, key string) error {
	if _, err := b.Put(ctx, key, []byte("labelflow write check\n"), "text/plain"); err != nil {
		var nb *types.NoSuchBucket
		if errors.As(err, &nb) {
			return fmt.Errorf("bucket %s does not exist", b.name)
		}
		return fmt.Errorf("bucket %s is not writable: %w", b.name, err)
	}
	if _, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.name), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("bucket %s: deleting the write check object: %w", b.name, err)
	}
	return nil
}
