package clients

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one bad entry of a clients file.
type Problem struct {
	Line   int
	Field  string
	Reason string
}

// Error lists every problem of a clients file.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "clients file %s: %d problem(s):", e.File, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s:%d: %s: %s", e.File, p.Line, p.Field, p.Reason)
	}
	return b.String()
}

func (e *Error) add(line int, field, format string, args ...any) {
	e.Problems = append(e.Problems, Problem{Line: line, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (e *Error) orNil() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// Parse reads a clients file:
//
//	clients:
//	  acme:
//	    intake: [s3://labelflow-intake/acme/]
//	    delivery_buckets:
//	      - acme-labels                                  # on AWS S3
//	      - {bucket: acme-onprem, endpoint: minio.acme.example}
//	    delivery_profiles: [acme]
//	    webhook_secrets: [acme-hook]
//
// Every problem is reported with its line. A file naming platformBucket anywhere is refused.
func Parse(file string, data []byte, platformBucket string) (*Registry, error) {
	e := &Error{File: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		e.add(0, "(document)", "%v", err)
		return nil, e
	}
	p := &parser{err: e, platformBucket: platformBucket,
		reg: &Registry{file: file, platformBucket: platformBucket, clients: map[string]*Client{}}}
	p.document(&doc)
	sort.SliceStable(e.Problems, func(i, j int) bool { return e.Problems[i].Line < e.Problems[j].Line })
	if err := e.orNil(); err != nil {
		return nil, err
	}
	return p.reg, nil
}

type parser struct {
	err            *Error
	reg            *Registry
	platformBucket string
	// Owners of what belongs to one client only, for messages naming the first one.
	bucketOwner map[string]owner
	secretOwner map[string]owner
}

type owner struct {
	client string
	line   int
}

func (p *parser) document(doc *yaml.Node) {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		p.err.add(root.Line, "(document)", "must be a mapping with a clients key")
		return
	}
	var clients *yaml.Node
	p.fields(root, "", func(key string, k, v *yaml.Node) {
		if key == "clients" {
			clients = v
		} else {
			p.err.add(k.Line, key, "unknown field (the file has one key, clients)")
		}
	})
	if clients == nil || clients.Kind != yaml.MappingNode || len(clients.Content) == 0 {
		line := root.Line
		if clients != nil {
			line = clients.Line
		}
		p.err.add(line, "clients", "must map each client id to its intake, delivery_buckets, delivery_profiles and webhook_secrets")
		return
	}
	p.bucketOwner, p.secretOwner = map[string]owner{}, map[string]owner{}
	p.fields(clients, "clients.", func(id string, k, v *yaml.Node) { p.client(id, k, v) })
	p.checkIntakeOverlaps()
}

// fields calls f for each key of a mapping, refusing repeated keys.
func (p *parser) fields(m *yaml.Node, path string, f func(key string, k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if first, dup := seen[k.Value]; dup {
			p.err.add(k.Line, path+k.Value, "repeated (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		f(k.Value, k, v)
	}
}

func (p *parser) client(id string, k, v *yaml.Node) {
	path := "clients." + id
	if !clientIDPattern.MatchString(id) {
		p.err.add(k.Line, path, "a client id is 1-63 lowercase letters, digits, dots, dashes or underscores, as in a spec's client field")
		return
	}
	if v.Kind != yaml.MappingNode {
		p.err.add(v.Line, path, "must be a mapping with intake, delivery_buckets, delivery_profiles and webhook_secrets")
		return
	}
	c := &Client{ID: id, line: k.Line}
	p.fields(v, path+".", func(key string, fk, fv *yaml.Node) {
		field := path + "." + key
		switch key {
		case "intake":
			p.list(fv, field, func(item *yaml.Node, f string) { p.intake(c, item, f) })
		case "delivery_buckets":
			p.list(fv, field, func(item *yaml.Node, f string) { p.bucket(c, item, f) })
		case "delivery_profiles":
			p.list(fv, field, func(item *yaml.Node, f string) { p.profile(c, item, f) })
		case "webhook_secrets":
			p.list(fv, field, func(item *yaml.Node, f string) { p.secret(c, item, f) })
		default:
			p.err.add(fk.Line, field, "unknown field (known: intake, delivery_buckets, delivery_profiles, webhook_secrets)")
		}
	})
	p.reg.clients[id] = c
}

// list calls f for each item of a sequence.
func (p *parser) list(n *yaml.Node, field string, f func(item *yaml.Node, field string)) {
	if n.Kind != yaml.SequenceNode {
		p.err.add(n.Line, field, "must be a list")
		return
	}
	for i, item := range n.Content {
		f(item, fmt.Sprintf("%s[%d]", field, i))
	}
}

// scalar returns a list item's text, or reports that it is not text.
func (p *parser) scalar(n *yaml.Node, field, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		p.err.add(n.Line, field, "must be %s", what)
		return "", false
	}
	return n.Value, true
}

func (p *parser) intake(c *Client, n *yaml.Node, field string) {
	uri, ok := p.scalar(n, field, "an s3://bucket/prefix/ location")
	if !ok {
		return
	}
	rest, isS3 := strings.CutPrefix(uri, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	switch {
	case !isS3:
		p.err.add(n.Line, field, "must be an s3://bucket/prefix/ location, got %q", uri)
	case !bucketPattern.MatchString(bucket):
		p.err.add(n.Line, field, "%q is not a valid S3 bucket name", bucket)
	case bucket == p.platformBucket:
		p.err.add(n.Line, field, "%s is the platform bucket (LABELFLOW_STORE_BUCKET): it holds the roster, the ledger and every project's data, never a client's intake", bucket)
	case prefix != "" && !strings.HasSuffix(prefix, "/"):
		p.err.add(n.Line, field, "the prefix must end with / (so that %q does not also cover %q), got %q", prefix+"/", prefix+"-other/", uri)
	case prefix != "" && badKeySegment(strings.TrimSuffix(prefix, "/")) != "":
		p.err.add(n.Line, field, "the prefix must not hold empty, . or .. segments, got %q", uri)
	default:
		c.Intake = append(c.Intake, Location{Bucket: bucket, Prefix: prefix, line: n.Line})
	}
}

func (p *parser) bucket(c *Client, n *yaml.Node, field string) {
	b := Bucket{line: n.Line}
	switch n.Kind {
	case yaml.ScalarNode:
		b.Name = n.Value
	case yaml.MappingNode:
		p.fields(n, field+".", func(key string, k, v *yaml.Node) {
			switch key {
			case "bucket":
				b.Name, _ = p.scalar(v, field+".bucket", "a bucket name")
			case "endpoint":
				b.Endpoint, _ = p.scalar(v, field+".endpoint", "an endpoint host, as host or host:port")
			default:
				p.err.add(k.Line, field+"."+key, "unknown field (known: bucket, endpoint)")
			}
		})
	default:
		p.err.add(n.Line, field, "must be a bucket name or {bucket, endpoint}")
		return
	}
	switch {
	case !bucketPattern.MatchString(b.Name):
		p.err.add(n.Line, field, "%q is not a valid S3 bucket name", b.Name)
	case b.Name == p.platformBucket:
		p.err.add(n.Line, field, "%s is the platform bucket (LABELFLOW_STORE_BUCKET): nothing is ever delivered into it", b.Name)
	case b.Endpoint != "" && !hostPattern.MatchString(b.Endpoint):
		p.err.add(n.Line, field+".endpoint", "must be a host or host:port, without scheme or path, got %q", b.Endpoint)
	default:
		if first, taken := p.bucketOwner[b.Name]; taken {
			p.err.add(n.Line, field, "bucket %s is already client %s's (line %d); a bucket belongs to one client", b.Name, first.client, first.line)
			return
		}
		p.bucketOwner[b.Name] = owner{c.ID, n.Line}
		c.Buckets = append(c.Buckets, b)
	}
}

func (p *parser) profile(c *Client, n *yaml.Node, field string) {
	name, ok := p.scalar(n, field, "a delivery profile name")
	if !ok {
		return
	}
	if !profilePattern.MatchString(name) {
		p.err.add(n.Line, field, "a profile name is 1-64 letters, digits, dashes or underscores")
		return
	}
	c.Profiles = append(c.Profiles, name)
	c.refs = append(c.refs, reference{kind: "delivery profile", name: name, field: field, line: n.Line})
}

func (p *parser) secret(c *Client, n *yaml.Node, field string) {
	name, ok := p.scalar(n, field, "a webhook secret name")
	if !ok {
		return
	}
	if !SecretNamePattern.MatchString(name) {
		// Never quote it: it may be the secret itself.
		p.err.add(n.Line, field, "a webhook secret name is 1-64 lowercase letters, digits, dots, dashes or underscores; the secret itself lives in the delivery profiles file")
		return
	}
	if first, taken := p.secretOwner[name]; taken {
		p.err.add(n.Line, field, "webhook secret %s is already client %s's (line %d); a signing key belongs to one client", name, first.client, first.line)
		return
	}
	p.secretOwner[name] = owner{c.ID, n.Line}
	c.WebhookSecrets = append(c.WebhookSecrets, name)
	c.refs = append(c.refs, reference{kind: "webhook secret", name: name, field: field, line: n.Line})
}

// checkIntakeOverlaps refuses an intake location of one client inside another client's.
func (p *parser) checkIntakeOverlaps() {
	ids := p.reg.IDs()
	for i, a := range ids {
		for _, b := range ids[i+1:] {
			for _, la := range p.reg.clients[a].Intake {
				for _, lb := range p.reg.clients[b].Intake {
					if la.Bucket == lb.Bucket && (strings.HasPrefix(la.Prefix, lb.Prefix) || strings.HasPrefix(lb.Prefix, la.Prefix)) {
						later, earlier, laterID, earlierID := la, lb, a, b
						if la.line < lb.line {
							later, earlier, laterID, earlierID = lb, la, b, a
						}
						p.err.add(later.line, "clients."+laterID+".intake", "%s overlaps client %s's %s (line %d); an intake location belongs to one client",
							later, earlierID, earlier, earlier.line)
					}
				}
			}
		}
	}
}
