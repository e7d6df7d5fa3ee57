// Package webtest drives the browser workbench end to end: an embedded stack (real Temporal and
// S3 servers, the worker and the gateway) and headless Chromium. The browser tests of this
// package and `labelflow bench ui` are built on it.
//
// The browser side uses chromedp's generic API: an action is a chromedp.Action[T], steps that
// return nothing are chromedp.Action[chromedp.Void] and run with b.Run; select elements with
// chromedp.CSS("...") (a plain string is a DOM search, which also matches text).
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/formats"
	"github.com/labelflow/labelflow/internal/logging"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/workforce"
)

// Stack is a running embedded stack with the workbench at URL.
type Stack struct {
	Env *demo.Env
	URL string

	mu       sync.Mutex
	ops      *app.Actor
	projects map[string]spec.Project
}

// StartStack starts the embedded stack with state under dir and the settings browser tests
// want: request limits lifted (a test clicks faster than a person) and a short token cache, so
// that a rotated or deactivated token stops at once.
func StartStack(ctx context.Context, dir string) (*Stack, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	if cfg.BinDir, err = BinDir(); err != nil {
		return nil, err
	}
	cfg = demo.LiftLimitsForSimulatedCrowd(cfg)
	cfg.GatewayTokenCacheTTL = time.Second
	env, err := demo.Start(ctx, cfg, demo.StackOptions{DataDir: dir, Headless: true}, logging.New("warn", nil))
	if err != nil {
		return nil, fmt.Errorf("start embedded stack: %w", err)
	}
	return &Stack{Env: env, URL: env.GatewayURL, projects: map[string]spec.Project{}}, nil
}

// Stop shuts the stack down.
func (s *Stack) Stop() { s.Env.Stop() }

// BinDir is where the servers of the embedded stack are: LABELFLOW_BIN_DIR when set, else the
// repository's bin directory. It fails when temporal or versitygw is missing there.
func BinDir() (string, error) {
	dir := os.Getenv("LABELFLOW_BIN_DIR")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "bin")
	}
	for _, name := range []string{"temporal", "versitygw"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return dir, fmt.Errorf("no %s in %s: run `make tools`", name, dir)
		}
	}
	return dir, nil
}

// RepoRoot is the directory of the module's go.mod above the working directory, or the working
// directory when there is none.
func RepoRoot() string {
	wd, _ := os.Getwd()
	for dir := wd; ; dir = filepath.Dir(dir) {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(data, []byte("module github.com/labelflow/labelflow\n")) {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}

// Person registers p in the roster (keeping them as they are when already there) and returns a
// fresh token for them; their previous token stops working. Country, payout method and role
// default to KE, mobile money and annotator.
func (s *Stack) Person(ctx context.Context, p workforce.Person) (string, error) {
	if p.Country == "" {
		p.Country = "KE"
	}
	if p.PayoutMethod == "" {
		p.PayoutMethod = "mobile-money"
	}
	if p.Role == "" {
		p.Role = role.Annotator
	}
	return demo.StaffToken(ctx, s.Env.App, p)
}

// Item is one item of a launched project: inline text, a PNG image, or both.
type Item struct {
	ID    string // the client's id; ItemID(index) when empty
	Text  string
	Image []byte // PNG
}

// ItemID is the client id Launch gives the item at index i when it has none.
func ItemID(i int) string { return fmt.Sprintf("item-%04d", i) }

// Launch describes a project to launch.
type Launch struct {
	ID             string
	Type           string // single-label | multi-label | bounding-box | transcription | named-entities
	Taxonomy       []string
	Instructions   string // a default sentence when empty
	Items          []Item
	SuiteSize      int           // 10 when zero
	Lease          time.Duration // 2m when zero
	Overlap        int           // annotators per item, 2 when zero
	Languages      []string
	RequiredSkills []string
}

// Launch uploads l's items (a manifest, and each image beside it) to the intake bucket and
// launches the project as an ops person, in one chunk. It returns the project's id.
func (s *Stack) Launch(ctx context.Context, l Launch) (string, error) {
	a := s.Env.App
	key := "acme/" + l.ID + "/items.manifest"
	manifest, err := s.uploadItems(ctx, l, key)
	if err != nil {
		return "", err
	}
	if err := a.Store.PutIn(ctx, demo.IntakeBucket, key, manifest); err != nil {
		return "", err
	}
	p, err := spec.Parse(l.ID+".yaml", []byte(specYAML(l, key, s.Env.Cfg.StoreEndpoint)))
	if err != nil {
		return "", err
	}
	ops, err := s.opsActor(ctx)
	if err != nil {
		return "", err
	}
	if _, err := a.Launch(ctx, ops, p); err != nil {
		return "", err
	}
	s.mu.Lock()
	s.projects[p.ID] = p
	s.mu.Unlock()
	return p.ID, nil
}

// uploadItems puts each image of l in the intake bucket and returns the manifest naming them.
func (s *Stack) uploadItems(ctx context.Context, l Launch, manifestKey string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	dir := strings.TrimSuffix(manifestKey, "items.manifest")
	for i, it := range l.Items {
		line := map[string]any{"id": it.ID}
		if it.ID == "" {
			line["id"] = ItemID(i)
		}
		if it.Text != "" {
			line["source"] = it.Text
		}
		if len(it.Image) > 0 {
			cfg, err := png.DecodeConfig(bytes.NewReader(it.Image))
			if err != nil {
				return nil, fmt.Errorf("item %d: image is not a PNG: %w", i, err)
			}
			key := fmt.Sprintf("%s%04d.png", dir, i)
			if err := s.Env.App.Store.PutIn(ctx, demo.IntakeBucket, key, it.Image); err != nil {
				return nil, err
			}
			line["source-ref"] = "s3://" + demo.IntakeBucket + "/" + key
			line["width"], line["height"] = cfg.Width, cfg.Height
		}
		if err := enc.Encode(line); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// opsActor signs the launching ops person in once per stack.
func (s *Stack) opsActor(ctx context.Context) (app.Actor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ops != nil {
		return *s.ops, nil
	}
	act, err := demo.SignIn(ctx, s.Env.App, demo.OpsDemo)
	if err != nil {
		return act, err
	}
	s.ops = &act
	return act, nil
}

// specYAML is the spec of l, reading the manifest at key and delivering to the client's bucket.
func specYAML(l Launch, key, endpoint string) string {
	suite, overlap, lease := l.SuiteSize, l.Overlap, l.Lease
	if suite == 0 {
		suite = 10
	}
	if overlap == 0 {
		overlap = 2
	}
	if lease == 0 {
		lease = 2 * time.Minute
	}
	instructions := l.Instructions
	if instructions == "" {
		instructions = "Label every item as the guidelines say."
	}
	formats := []string{"jsonl"}
	if l.Type == "bounding-box" {
		formats = append(formats, "coco")
	}
	var extra strings.Builder
	if len(l.Languages) > 0 {
		fmt.Fprintf(&extra, "languages: %s\n", yamlList(l.Languages))
	}
	if len(l.RequiredSkills) > 0 {
		fmt.Fprintf(&extra, "required_skills: %s\n", yamlList(l.RequiredSkills))
	}
	return fmt.Sprintf(`id: %s
client: acme
source: s3://%s/%s
annotation:
  type: %s
  taxonomy: %s
  instructions: %s
chunk_size: %d
suite_size: %d
annotators_per_item: %d
lease: %s
%sdelivery:
  bucket: %s
  prefix: labelflow/
  region: us-east-1
  endpoint: %s
  credentials: dev
  formats: %s
pay:
  currency: KES
  per_annotation: "2.50"
  per_arbitration: "6"
`, l.ID, demo.IntakeBucket, key, l.Type, yamlList(l.Taxonomy), yamlString(instructions), max(1, len(l.Items)), suite, overlap,
		lease, extra.String(), demo.ClientBucket, endpoint, yamlList(formats))
}

// yamlList writes a flow sequence of quoted strings.
func yamlList(v []string) string {
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = yamlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// yamlString quotes s; a JSON string is a valid YAML double-quoted scalar.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// WaitDelivered waits for the project to complete, checks its delivery the way a client
// would (every object of the manifest against its size and SHA-256, read from the client's
// bucket) and returns the delivered label of each item by client id.
func (s *Stack) WaitDelivered(ctx context.Context, project string) (map[string]json.RawMessage, error) {
	m, b, err := s.delivered(ctx, project)
	if err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	for _, o := range m.Objects {
		if o.Kind != delivery.KindLabels {
			continue
		}
		data, err := b.Get(ctx, o.Key)
		if err != nil {
			return nil, err
		}
		lines, err := formats.ParseLines(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Key, err)
		}
		for _, l := range lines {
			out[l.ID] = l.Label
		}
	}
	return out, nil
}

// DeliveredCOCO waits for the project's delivery and returns its COCO file.
func (s *Stack) DeliveredCOCO(ctx context.Context, project string) ([]byte, error) {
	m, b, err := s.delivered(ctx, project)
	if err != nil {
		return nil, err
	}
	for _, o := range m.Objects {
		if o.Kind == "coco" {
			return b.Get(ctx, o.Key)
		}
	}
	return nil, fmt.Errorf("project %s delivered no COCO file", project)
}

// getter reads an object of the client's bucket.
type getter interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// delivered waits for the project to complete and returns its verified delivery manifest and
// the client's bucket.
func (s *Stack) delivered(ctx context.Context, project string) (delivery.Manifest, getter, error) {
	s.mu.Lock()
	p, ok := s.projects[project]
	s.mu.Unlock()
	if !ok {
		return delivery.Manifest{}, nil, fmt.Errorf("project %s was not launched by this stack", project)
	}
	a := s.Env.App
	if _, err := a.WaitProject(ctx, project, nil); err != nil {
		return delivery.Manifest{}, nil, err
	}
	m, _, err := demo.VerifyDelivery(ctx, a, p)
	if err != nil {
		return m, nil, err
	}
	b, err := a.Targets.Open(ctx, p.Delivery)
	if err != nil {
		return m, nil, err
	}
	return m, b, nil
}
