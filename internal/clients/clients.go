// Package clients is the registry of the platform's clients: for each client, where its data may
// be read from (intake locations), where its results may go (delivery buckets, with their
// endpoint), and which delivery profiles and webhook secrets its projects may name. A project
// spec is checked against it before anything starts, so that no project reads or writes another
// client's data or the platform's own (the roster, the ledger, other projects' chunks).
//
// The registry comes from the clients file (LABELFLOW_CLIENTS, YAML); the embedded stack without
// one has a built-in registry of its demo client. Nothing in the registry may name the platform
// bucket.
package clients

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/labelflow/labelflow/internal/store"
)

// Registry is the set of declared clients.
type Registry struct {
	file           string
	platformBucket string
	clients        map[string]*Client
}

// Client is one declared client.
type Client struct {
	ID             string
	Intake         []Location
	Buckets        []Bucket
	Profiles       []string
	WebhookSecrets []string

	line int
	refs []reference // profiles and secrets named, with their lines
}

// Location is an intake location: objects of Bucket whose key starts with Prefix ("" = the
// whole bucket; otherwise it ends with "/").
type Location struct {
	Bucket string
	Prefix string
	line   int
}

func (l Location) String() string { return "s3://" + l.Bucket + "/" + l.Prefix }

// contains reports whether the location holds key in bucket.
func (l Location) contains(bucket, key string) bool {
	return l.Bucket == bucket && strings.HasPrefix(key, l.Prefix)
}

// Bucket is a delivery bucket. Endpoint is the only endpoint host it may be reached at ("host"
// for any port, or "host:port"); empty means AWS S3, where a spec gives no endpoint.
type Bucket struct {
	Name     string
	Endpoint string
	line     int
}

type reference struct {
	kind, name, field string
	line              int
}

// DevFile is the name the built-in registry goes by in messages.
const DevFile = "(built-in dev clients)"

// devClients is the embedded stack's registry: the demo client, its intake folder, its bucket
// on the embedded S3 server and the dev delivery profile (see internal/demo).
const devClients = `clients:
  acme:
    intake: [s3://labelflow-intake/acme/]
    delivery_buckets: [{bucket: client-acme, endpoint: 127.0.0.1}]
    delivery_profiles: [dev]
`

// Load reads the clients file at path. Without a path, the embedded stack gets its built-in dev
// clients and any other stack is refused: every production stack names its clients.
func Load(path, platformBucket string, embedded bool) (*Registry, error) {
	if path == "" {
		if !embedded {
			return nil, fmt.Errorf("clients: LABELFLOW_CLIENTS must name the clients file outside the embedded stack")
		}
		return Dev(platformBucket)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("clients file: %w", err)
	}
	return Parse(path, data, platformBucket)
}

// Dev returns the embedded stack's built-in registry.
func Dev(platformBucket string) (*Registry, error) {
	return Parse(DevFile, []byte(devClients), platformBucket)
}

// File is where the registry came from.
func (r *Registry) File() string { return r.file }

// IDs lists the declared clients.
func (r *Registry) IDs() []string {
	out := make([]string, 0, len(r.clients))
	for id := range r.clients {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Client returns a declared client.
func (r *Registry) Client(id string) (*Client, error) {
	if c, ok := r.clients[id]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("client %q is not declared in the clients file %s", id, r.file)
}

// MayRead refuses a read of uri (s3://bucket/key) for client unless the object is in one of the
// client's intake locations.
func (r *Registry) MayRead(client, uri string) error {
	c, err := r.Client(client)
	if err != nil {
		return err
	}
	bucket, key, err := store.ParseURI(uri)
	if err != nil {
		return err
	}
	if bucket == r.platformBucket {
		return fmt.Errorf("%s is in the platform bucket; client data is read only from the client's intake locations", uri)
	}
	if bad := badKeySegment(key); bad != "" {
		return fmt.Errorf("%s: a key with a %q segment is never read (it could lead out of an intake location)", uri, bad)
	}
	for _, l := range c.Intake {
		if l.contains(bucket, key) {
			return nil
		}
	}
	return fmt.Errorf("%s is outside client %s's intake locations (%s)", uri, c.ID, joinLocations(c.Intake))
}

// MayDeliverTo refuses delivery for client to bucket at endpoint (a URL; "" for AWS S3) unless
// the bucket is the client's and the endpoint the one declared for it.
func (r *Registry) MayDeliverTo(client, bucket, endpoint string) error {
	b, err := r.DeliveryBucket(client, bucket)
	if err != nil {
		return err
	}
	return b.AllowsEndpoint(endpoint)
}

// DeliveryBucket returns the client's declared delivery bucket called bucket.
func (r *Registry) DeliveryBucket(client, bucket string) (Bucket, error) {
	c, err := r.Client(client)
	if err != nil {
		return Bucket{}, err
	}
	if bucket == r.platformBucket {
		return Bucket{}, fmt.Errorf("bucket %s is the platform bucket; deliveries go only to the client's own buckets", bucket)
	}
	i := slices.IndexFunc(c.Buckets, func(b Bucket) bool { return b.Name == bucket })
	if i < 0 {
		return Bucket{}, fmt.Errorf("bucket %s is not one of client %s's delivery buckets (%s)", bucket, c.ID, joinBuckets(c.Buckets))
	}
	return c.Buckets[i], nil
}

// AllowsEndpoint checks a spec's endpoint URL ("" for AWS S3) against the declared endpoint.
func (b Bucket) AllowsEndpoint(endpoint string) error {
	if b.Endpoint == "" {
		if endpoint != "" {
			return fmt.Errorf("bucket %s is declared on AWS S3: give no endpoint, not %s", b.Name, endpoint)
		}
		return nil
	}
	if endpoint == "" {
		return fmt.Errorf("bucket %s is declared at endpoint %s: give that endpoint", b.Name, b.Endpoint)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("endpoint %q is not a URL with a host", endpoint)
	}
	wantHost, wantPort, hasPort := b.Endpoint, "", false
	if h, p, err := net.SplitHostPort(b.Endpoint); err == nil {
		wantHost, wantPort, hasPort = h, p, true
	}
	if !strings.EqualFold(u.Hostname(), wantHost) || hasPort && u.Port() != wantPort {
		return fmt.Errorf("bucket %s is declared at endpoint %s, not %s", b.Name, b.Endpoint, u.Host)
	}
	return nil
}

// MayUseProfile refuses a delivery profile the client does not own.
func (r *Registry) MayUseProfile(client, profile string) error {
	c, err := r.Client(client)
	if err != nil {
		return err
	}
	if !slices.Contains(c.Profiles, profile) {
		return fmt.Errorf("delivery profile %q is not one of client %s's (%s)", profile, c.ID, joinOrNone(c.Profiles))
	}
	return nil
}

// MayDeliver answers whether client may deliver to bucket at endpoint with profile.
func (r *Registry) MayDeliver(client, bucket, endpoint, profile string) error {
	if err := r.MayDeliverTo(client, bucket, endpoint); err != nil {
		return err
	}
	return r.MayUseProfile(client, profile)
}

// MayUseWebhookSecret refuses a webhook secret name the client does not own. The message never
// repeats the name: a spec author may have pasted the secret itself there.
func (r *Registry) MayUseWebhookSecret(client, name string) error {
	c, err := r.Client(client)
	if err != nil {
		return err
	}
	if !slices.Contains(c.WebhookSecrets, name) {
		return fmt.Errorf("names none of client %s's webhook secrets (%s); secrets live in the delivery profiles file, under webhook_secrets, and a spec only names one",
			c.ID, joinOrNone(c.WebhookSecrets))
	}
	return nil
}

// CheckReferences refuses a registry that names a delivery profile or webhook secret the
// delivery profiles file does not define.
func (r *Registry) CheckReferences(profiles, secrets []string) error {
	e := &Error{File: r.file}
	for _, id := range r.IDs() {
		for _, ref := range r.clients[id].refs {
			known := profiles
			if ref.kind == "webhook secret" {
				known = secrets
			}
			if !slices.Contains(known, ref.name) {
				e.add(ref.line, ref.field, "%s %q is not defined in the delivery profiles file (defined: %s)", ref.kind, ref.name, joinOrNone(known))
			}
		}
	}
	return e.orNil()
}

// badKeySegment returns an empty, "." or ".." segment of key, or "". Such keys mean the same
// object as another key on some S3 servers that store objects as files.
func badKeySegment(key string) string {
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case ".", "..":
			return seg
		case "":
			return "//"
		}
	}
	return ""
}

func joinLocations(ls []Location) string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.String()
	}
	return joinOrNone(out)
}

func joinBuckets(bs []Bucket) string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Name
		if b.Endpoint != "" {
			out[i] += " at " + b.Endpoint
		}
	}
	return joinOrNone(out)
}

func joinOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

var (
	clientIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)
	bucketPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	profilePattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	// SecretNamePattern is what a webhook secret's name looks like, in this file and in specs.
	SecretNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	hostPattern       = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$`)
)
