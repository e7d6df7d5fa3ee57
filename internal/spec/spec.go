// Package spec reads and validates project specifications (YAML; JSON is accepted as YAML).
// A spec is refused with every bad field named, with its line in the file, before anything starts.
package spec

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/store"
)

// Project is a client project as ops write it.
type Project struct {
	ID                string     `yaml:"id" json:"id"`
	Client            string     `yaml:"client" json:"client"`
	Source            string     `yaml:"source" json:"source"` // s3://bucket/key of the input manifest, in one of the client's intake locations
	Annotation        Annotation `yaml:"annotation" json:"annotation"`
	ChunkSize         int        `yaml:"chunk_size" json:"chunk_size"`
	SuiteSize         int        `yaml:"suite_size" json:"suite_size"`
	AnnotatorsPerItem int        `yaml:"annotators_per_item" json:"annotators_per_item"`
	Lease             Duration   `yaml:"lease" json:"lease"`
	RequiredSkills    []string   `yaml:"required_skills" json:"required_skills,omitempty"`
	Languages         []string   `yaml:"languages" json:"languages,omitempty"`
	ReviewerRole      string     `yaml:"reviewer_role" json:"reviewer_role"`
	Delivery          Delivery   `yaml:"delivery" json:"delivery"`
	Pay               Pay        `yaml:"pay" json:"pay"`
	Quality           Quality    `yaml:"quality" json:"quality,omitempty"`
}

// Quality holds the project's quality policy.
type Quality struct {
	Overlap Overlap `yaml:"overlap" json:"overlap,omitempty"`
	Gold    Gold    `yaml:"gold" json:"gold,omitempty"`
	// MinAccuracy: people whose estimated accuracy is below it only get gold (training) items;
	// reviewers below it do not arbitrate. 0 turns it off.
	MinAccuracy float64 `yaml:"min_accuracy" json:"min_accuracy,omitempty"`
}

// Gold are items with known answers mixed into every chunk, indistinguishable to annotators,
// scored and never delivered. Source is a manifest whose lines carry a `truth` answer.
type Gold struct {
	Source   string `yaml:"source" json:"source,omitempty"`
	PerChunk int    `yaml:"per_chunk" json:"per_chunk,omitempty"`
}

// Overlap is the policy on disagreement. Mode "review" (the default) sends the item to a
// reviewer; "dynamic" asks one more annotator at a time until the best answer's confidence
// reaches ConfidenceTarget, and only then, at MaxAnnotations, sends it to a reviewer. For
// single-label projects it also stops once one or two more answers are not expected to make the
// decision right more often by MinGain per answer (0 stops at the target alone; unset, 0.02).
// With EarlyReview (single-label) a reviewer is one of its choices before MaxAnnotations: an item
// goes to one as soon as a review, at its price against an annotation's, is expected to add more
// than more answers. Off by default: it can send many items to the few reviewers a project has.
type Overlap struct {
	Mode             string   `yaml:"mode" json:"mode,omitempty"`
	ConfidenceTarget float64  `yaml:"confidence_target" json:"confidence_target,omitempty"`
	MaxAnnotations   int      `yaml:"max_annotations" json:"max_annotations,omitempty"`
	MinGain          *float64 `yaml:"min_gain" json:"min_gain,omitempty"`
	EarlyReview      bool     `yaml:"early_review" json:"early_review,omitempty"`
}

// Annotation says what is asked of annotators.
type Annotation struct {
	Type         string   `yaml:"type" json:"type"`
	Taxonomy     []string `yaml:"taxonomy" json:"taxonomy"`
	Instructions string   `yaml:"instructions" json:"instructions"`
}

// Delivery is where results go. Credentials name a delivery profile; secrets never appear in a spec.
type Delivery struct {
	Bucket      string `yaml:"bucket" json:"bucket"`
	Prefix      string `yaml:"prefix" json:"prefix"`
	Region      string `yaml:"region" json:"region"`
	Endpoint    string `yaml:"endpoint" json:"endpoint,omitempty"`
	Credentials string `yaml:"credentials" json:"credentials"`
	// Formats lists what is delivered besides (always) LabelFlow JSON Lines.
	Formats        []string   `yaml:"formats" json:"formats,omitempty"`
	LabelAttribute string     `yaml:"label_attribute" json:"label_attribute,omitempty"` // Ground Truth attribute name
	Encryption     Encryption `yaml:"encryption" json:"encryption,omitempty"`
	Webhook        Webhook    `yaml:"webhook" json:"webhook,omitempty"`
}

// Encryption is server-side encryption of delivered objects.
type Encryption struct {
	Type     string `yaml:"type" json:"type,omitempty"` // AES256 | aws:kms
	KMSKeyID string `yaml:"kms_key_id" json:"kms_key_id,omitempty"`
}

// Webhook is called on each delivered chunk and on completion. Secret names a signing key held in
// the delivery profiles file.
type Webhook struct {
	URL    string `yaml:"url" json:"url,omitempty"`
	Secret string `yaml:"secret" json:"secret,omitempty"`
}

// Delivery formats.
const (
	FormatJSONL       = "jsonl"
	FormatGroundTruth = "groundtruth"
	FormatCSV         = "csv"
	FormatLabelStudio = "labelstudio"
	FormatCOCO        = "coco"
)

// Formats a project may ask for.
var Formats = []string{FormatJSONL, FormatGroundTruth, FormatCSV, FormatLabelStudio, FormatCOCO}

// Pay holds the rates, in integer minor units of Currency once parsed.
type Pay struct {
	Currency       string `yaml:"currency" json:"currency"`
	PerAnnotation  Amount `yaml:"per_annotation" json:"per_annotation"`
	PerArbitration Amount `yaml:"per_arbitration" json:"per_arbitration"`
	PerGold        Amount `yaml:"per_gold" json:"per_gold,omitempty"` // default: per_annotation
	// QualityBonus is paid, once per project, to each person whose gold accuracy reaches
	// MinGoldAccuracy over at least MinGoldAnswers gold answers.
	QualityBonus QualityBonus `yaml:"quality_bonus" json:"quality_bonus,omitempty"`
}

// QualityBonus rewards accuracy on gold items.
type QualityBonus struct {
	Amount          Amount  `yaml:"amount" json:"amount,omitempty"`
	MinGoldAccuracy float64 `yaml:"min_gold_accuracy" json:"min_gold_accuracy,omitempty"`
	MinGoldAnswers  int     `yaml:"min_gold_answers" json:"min_gold_answers,omitempty"`
}

// Amount is money as written in a spec ("0.05"), kept as text until the currency is known.
type Amount string

// Duration is a Go duration written as text ("15m").
type Duration string

// Defaults applied to omitted fields.
const (
	DefaultChunkSize         = 500
	DefaultSuiteSize         = 10
	DefaultAnnotatorsPerItem = 2
	// DefaultLease is short because people at work extend it with heartbeats (the workbench
	// sends them while its person is active), up to five leases after the claim: a person who
	// walks away holds their items for minutes, not a quarter of an hour.
	DefaultLease        = "3m"
	DefaultReviewerRole = role.Reviewer
)

// FieldError is one bad field.
type FieldError struct {
	Field  string `json:"field"`
	Line   int    `json:"line,omitempty"`
	Reason string `json:"reason"`
}

// Error lists every bad field of a spec file.
type Error struct {
	File   string
	Fields []FieldError
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s):", e.File, len(e.Fields))
	for _, f := range e.Fields {
		if f.Line > 0 {
			fmt.Fprintf(&b, "\n  %s:%d: %s: %s", e.File, f.Line, f.Field, f.Reason)
		} else {
			fmt.Fprintf(&b, "\n  %s: %s: %s", e.File, f.Field, f.Reason)
		}
	}
	return b.String()
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// reservedIDSegment joins a project's id to a chunk number in the chunk's workflow id
// (workflows.ChunkWorkflowID: project-<id>-chunk-NNNNNN). No project id may contain it.
const reservedIDSegment = "-chunk-"

// chunkLikeID matches an id that is another project's chunk: <project>-chunk-<number>.
var chunkLikeID = regexp.MustCompile(`^(.+)-chunk-([0-9]+)$`)

// ValidID reports whether id may name a project, so that callers can refuse a bad one before
// looking anything up by it.
//
// Why forbidding "-chunk-" is enough for a project's workflows never to meet another project's.
// Every workflow id LabelFlow starts in its namespace is one of:
//
//	project-<P>                 ProjectWorkflow of project P
//	project-<P>-chunk-<N>       ChunkWorkflow; N is decimal digits (at least six)
//	redelivery-<P>-<H>          RedeliveryWorkflow; H is 12 lowercase hex digits, never a dash
//	payroll-<YYYY-MM>, payroll-ledger, payroll-scheduled-<time>, bench-delivery
//
// and P always matches idPattern. Ids of different kinds start differently ("project-",
// "redelivery-", "payroll-", "bench-"), so only ids of the first two kinds can meet, or ids of
// one kind:
//   - project-A = project-B-chunk-N means A = B-chunk-N, which contains "-chunk-": refused.
//   - project-A-chunk-N = project-B-chunk-M with A shorter than B: B = A+s for a non-empty s
//     with "-chunk-N" = s+"-chunk-M". Past its first byte "-chunk-N" has one dash, followed by
//     digits only, so "-chunk-" cannot start there: impossible, and likewise with B shorter.
//     So A = B and N = M.
//   - redelivery-A-H = redelivery-B-K: H and K hold no dash, so both are what follows the last
//     dash, H = K and then A = B. No rule on P is needed.
//   - payroll and bench ids hold no project id.
//
// Store keys are projects/<P>/…, and P holds no '/', so one project's keys never fall under
// another's prefix.
func ValidID(id string) bool { return idProblem(id) == "" }

// idProblem says why id cannot name a project, or "" when it can.
func idProblem(id string) string {
	if !idPattern.MatchString(id) {
		return fmt.Sprintf("must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit; got %q", id)
	}
	if !strings.Contains(id, reservedIDSegment) {
		return ""
	}
	if m := chunkLikeID.FindStringSubmatch(id); m != nil {
		chunk := strings.TrimLeft(m[2], "0")
		if chunk == "" {
			chunk = "0"
		}
		return fmt.Sprintf("must not contain %q: project-%s is the workflow id of chunk %s of project %q; got %q", reservedIDSegment, id, chunk, m[1], id)
	}
	return fmt.Sprintf("must not contain %q, which chunk workflow ids reserve; got %q", reservedIDSegment, id)
}

// Parse decodes and validates a spec. file is used in error messages only.
func Parse(file string, data []byte) (Project, error) { return parse(file, data, nil) }

// ParseWithin decodes and validates a spec, and checks it against the boundary: every field that
// reaches outside its client's locations is reported with the others, with its line.
func ParseWithin(file string, data []byte, b Boundary) (Project, error) {
	return parse(file, data, &b)
}

func parse(file string, data []byte, b *Boundary) (Project, error) {
	var p Project
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return p, &Error{File: file, Fields: []FieldError{{Field: "(document)", Reason: err.Error()}}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			e := &Error{File: file}
			for _, msg := range te.Errors {
				e.Fields = append(e.Fields, yamlFieldError(msg))
			}
			return p, e
		}
		return p, &Error{File: file, Fields: []FieldError{{Field: "(document)", Reason: err.Error()}}}
	}
	p.applyDefaults()
	if b != nil {
		b.fillDevEndpoint(&p)
	}
	errs := p.validate()
	if b != nil {
		errs = appendNew(errs, b.Check(p))
	}
	if len(errs) > 0 {
		for i := range errs {
			errs[i].Line = lineOf(&root, errs[i].Field)
		}
		if b != nil {
			sortByLine(errs)
		}
		return p, &Error{File: file, Fields: errs}
	}
	return p, nil
}

func (p *Project) applyDefaults() {
	if p.ChunkSize == 0 {
		p.ChunkSize = DefaultChunkSize
	}
	if p.SuiteSize == 0 {
		p.SuiteSize = DefaultSuiteSize
	}
	if p.AnnotatorsPerItem == 0 {
		p.AnnotatorsPerItem = DefaultAnnotatorsPerItem
	}
	if p.Lease == "" {
		p.Lease = DefaultLease
	}
	if p.ReviewerRole == "" {
		p.ReviewerRole = DefaultReviewerRole
	}
	if p.Annotation.Type == "" {
		p.Annotation.Type = label.SingleLabelName
	}
	if p.Quality.Gold.Source != "" && p.Quality.Gold.PerChunk == 0 {
		p.Quality.Gold.PerChunk = 5
	}
	if p.Quality.Overlap.Mode == "" {
		p.Quality.Overlap.Mode = "review"
	}
	if p.Quality.Overlap.Mode == "dynamic" {
		if p.Quality.Overlap.ConfidenceTarget == 0 {
			p.Quality.Overlap.ConfidenceTarget = 0.9
		}
		if p.Quality.Overlap.MaxAnnotations == 0 {
			p.Quality.Overlap.MaxAnnotations = 4
		}
	}
	if p.Delivery.LabelAttribute == "" {
		p.Delivery.LabelAttribute = "label"
	}
}

// validate returns every problem of the spec, section by section in the order of the file's
// fields, so that a spec with many problems reads them top to bottom.
func (p *Project) validate() []FieldError {
	var problems fieldProblems
	p.checkIdentity(&problems)
	p.checkAnnotation(&problems)
	p.checkWork(&problems)
	p.Delivery.checkDestination(&problems)
	p.Quality.check(&problems, p.Annotation.Type)
	p.checkDeliveryOptions(&problems)
	p.Pay.check(&problems, p.Quality.Gold.Source != "")
	return problems
}

// fieldProblems collects the problems of a spec, each naming its field by its YAML path.
type fieldProblems []FieldError

func (e *fieldProblems) add(field, format string, args ...any) {
	*e = append(*e, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (p *Project) checkIdentity(bad *fieldProblems) {
	if problem := idProblem(p.ID); problem != "" {
		bad.add("id", "%s", problem)
	}
	if strings.TrimSpace(p.Client) == "" {
		bad.add("client", "is required")
	}
	if _, _, err := store.ParseURI(p.Source); err != nil {
		bad.add("source", "%v", err)
	}
}

func (p *Project) checkAnnotation(bad *fieldProblems) {
	if t, err := label.Lookup(p.Annotation.Type); err != nil {
		bad.add("annotation.type", "%v", err)
	} else if err := t.CheckTaxonomy(p.Annotation.Taxonomy); err != nil {
		bad.add("annotation.taxonomy", "%v", err)
	}
	if strings.TrimSpace(p.Annotation.Instructions) == "" {
		bad.add("annotation.instructions", "is required: annotators must be told what to do")
	}
}

// checkWork checks how the work is cut up and handed out: sizes, lease and roles.
func (p *Project) checkWork(bad *fieldProblems) {
	if p.ChunkSize < 1 || p.ChunkSize > 5000 {
		bad.add("chunk_size", "must be between 1 and 5000, got %d", p.ChunkSize)
	}
	if p.SuiteSize < 1 || p.SuiteSize > 100 {
		bad.add("suite_size", "must be between 1 and 100, got %d", p.SuiteSize)
	}
	if p.AnnotatorsPerItem != 2 {
		bad.add("annotators_per_item", "must be 2 (double annotation with arbitration), got %d", p.AnnotatorsPerItem)
	}
	if d, err := time.ParseDuration(string(p.Lease)); err != nil {
		bad.add("lease", "must be a duration such as 15m, got %q", p.Lease)
	} else if d < 10*time.Second || d > 24*time.Hour {
		bad.add("lease", "must be between 10s and 24h, got %s", d)
	}
	if p.ReviewerRole != role.Reviewer {
		bad.add("reviewer_role", "must be reviewer, got %q", p.ReviewerRole)
	}
}

// checkDestination checks where results are written.
func (d *Delivery) checkDestination(bad *fieldProblems) {
	if !bucketPattern.MatchString(d.Bucket) {
		bad.add("delivery.bucket", "must be a valid S3 bucket name, got %q", d.Bucket)
	}
	if strings.HasPrefix(d.Prefix, "/") || strings.Contains(d.Prefix, "//") {
		bad.add("delivery.prefix", "must not start with / or contain //, got %q", d.Prefix)
	}
	if d.Region == "" {
		bad.add("delivery.region", "is required (for example us-east-1)")
	}
	if d.Endpoint != "" && !strings.HasPrefix(d.Endpoint, "http://") && !strings.HasPrefix(d.Endpoint, "https://") {
		bad.add("delivery.endpoint", "must be an http:// or https:// URL, got %q", d.Endpoint)
	}
}

func (q *Quality) check(bad *fieldProblems, typ string) {
	if g := q.Gold; g.Source != "" {
		if _, _, err := store.ParseURI(g.Source); err != nil {
			bad.add("quality.gold.source", "%v", err)
		}
		if g.PerChunk < 1 || g.PerChunk > 50 {
			bad.add("quality.gold.per_chunk", "must be between 1 and 50, got %d", g.PerChunk)
		}
	}
	// Newcomers start at the 0.8 prior; a threshold at or above it would leave them, and every
	// reviewer without a record, with nothing to do.
	if m := q.MinAccuracy; m < 0 || m >= 0.8 {
		bad.add("quality.min_accuracy", "must be at least 0 and below 0.8 (the estimate a newcomer starts with), got %v", m)
	}
	switch o := q.Overlap; o.Mode {
	case "review":
	case "dynamic":
		if o.ConfidenceTarget <= 0.5 || o.ConfidenceTarget > 0.999 {
			bad.add("quality.overlap.confidence_target", "must be above 0.5 and at most 0.999, got %v", o.ConfidenceTarget)
		}
		if o.MaxAnnotations < 3 || o.MaxAnnotations > 10 {
			bad.add("quality.overlap.max_annotations", "must be between 3 and 10, got %d", o.MaxAnnotations)
		}
		if g := o.MinGain; g != nil && (*g < 0 || *g > 0.2) {
			bad.add("quality.overlap.min_gain", "must be at least 0 and at most 0.2 (accuracy gained per answer), got %v", *g)
		}
		if o.EarlyReview && typ != label.SingleLabelName {
			bad.add("quality.overlap.early_review", "weighs a review with the model of the crowd's classes: %s projects only, not %s", label.SingleLabelName, typ)
		}
	default:
		bad.add("quality.overlap.mode", "must be review or dynamic, got %q", o.Mode)
	}
}

// checkDeliveryOptions checks what is delivered and how: formats, encryption, webhook and the
// credentials profile.
func (p *Project) checkDeliveryOptions(bad *fieldProblems) {
	d := &p.Delivery
	for i, f := range d.Formats {
		if !slices.Contains(Formats, f) {
			bad.add(fmt.Sprintf("delivery.formats[%d]", i), "unknown format %q (known: %v)", f, Formats)
		} else if f == FormatCOCO && p.Annotation.Type != "bounding-box" {
			bad.add(fmt.Sprintf("delivery.formats[%d]", i), "coco needs annotation.type bounding-box, not %s", p.Annotation.Type)
		}
	}
	if a := d.LabelAttribute; a != "" && !attrPattern.MatchString(a) {
		bad.add("delivery.label_attribute", "must be letters, digits and dashes, at most 127, got %q", a)
	}
	d.Encryption.check(bad)
	d.Webhook.check(bad)
	if d.Credentials == "" {
		bad.add("delivery.credentials", "must name a delivery profile (secrets never go in a spec)")
	} else if !profilePattern.MatchString(d.Credentials) || looksLikeKey(d.Credentials) {
		bad.add("delivery.credentials", "must be a profile name (letters, digits, dashes), not a secret; got %d characters", len(d.Credentials))
	}
}

func (e Encryption) check(bad *fieldProblems) {
	switch e.Type {
	case "", "AES256":
		if e.KMSKeyID != "" {
			bad.add("delivery.encryption.kms_key_id", "only with type aws:kms")
		}
	case "aws:kms":
	default:
		bad.add("delivery.encryption.type", "must be AES256 or aws:kms, got %q", e.Type)
	}
}

func (w Webhook) check(bad *fieldProblems) {
	if w.URL == "" && w.Secret == "" {
		return
	}
	if !strings.HasPrefix(w.URL, "https://") && !strings.HasPrefix(w.URL, "http://") {
		bad.add("delivery.webhook.url", "must be an http(s) URL, got %q", w.URL)
	}
	if reason := webhookSecretProblem(w.Secret); reason != "" {
		bad.add("delivery.webhook.secret", "%s", reason)
	}
}

// check checks the currency and every amount; haveGold tells whether the project has gold
// items, which the quality bonus needs to measure accuracy.
func (pay *Pay) check(bad *fieldProblems, haveGold bool) {
	exp, err := CurrencyExponent(pay.Currency)
	if err != nil {
		bad.add("pay.currency", "%v", err)
		exp = 2 // still check the amounts, against the most common exponent
	}
	if _, err := pay.PerAnnotation.Minor(exp); err != nil {
		bad.add("pay.per_annotation", "%v", err)
	}
	if _, err := pay.PerArbitration.Minor(exp); err != nil {
		bad.add("pay.per_arbitration", "%v", err)
	}
	if b := pay.QualityBonus; b.Amount != "" {
		if _, err := b.Amount.Minor(exp); err != nil {
			bad.add("pay.quality_bonus.amount", "%v", err)
		}
		if b.MinGoldAccuracy <= 0 || b.MinGoldAccuracy > 1 {
			bad.add("pay.quality_bonus.min_gold_accuracy", "must be above 0 and at most 1, got %v", b.MinGoldAccuracy)
		}
		if !haveGold {
			bad.add("pay.quality_bonus", "needs gold items (quality.gold) to measure accuracy")
		}
	}
	if pay.PerGold != "" {
		if _, err := pay.PerGold.Minor(exp); err != nil {
			bad.add("pay.per_gold", "%v", err)
		}
	}
}

var (
	bucketPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	profilePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	attrPattern    = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,126}$`)
	yamlLine       = regexp.MustCompile(`^line (\d+): (.*)$`)
	amountPattern  = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?$`)
)

// LeaseDuration is the parsed lease.
func (p Project) LeaseDuration() time.Duration {
	d, _ := time.ParseDuration(string(p.Lease))
	return d
}

// GoldRate returns the rate of a gold task in minor units.
func (p Project) GoldRate() int64 {
	exp, _ := CurrencyExponent(p.Pay.Currency)
	rate := p.Pay.PerGold
	if rate == "" {
		rate = p.Pay.PerAnnotation
	}
	v, _ := rate.Minor(exp)
	return v
}

// BonusAmount returns the quality bonus in minor units (0 without one).
func (p Project) BonusAmount() int64 {
	exp, _ := CurrencyExponent(p.Pay.Currency)
	v, _ := p.Pay.QualityBonus.Amount.Minor(exp)
	return v
}

// Rates returns the pay rates in minor units.
func (p Project) Rates() (perAnnotation, perArbitration int64) {
	exp, _ := CurrencyExponent(p.Pay.Currency)
	perAnnotation, _ = p.Pay.PerAnnotation.Minor(exp)
	perArbitration, _ = p.Pay.PerArbitration.Minor(exp)
	return
}

// CurrencyExponent returns the number of minor-unit digits of an ISO 4217 code; payroll uses the
// same table.
func CurrencyExponent(code string) (int, error) { return earnings.CurrencyExponent(code) }

// Minor converts a decimal amount to integer minor units without floating point.
// More decimals than the currency has is an error, never a silent rounding.
func (a Amount) Minor(exponent int) (int64, error) {
	s := strings.TrimSpace(string(a))
	if s == "" {
		return 0, fmt.Errorf("is required")
	}
	m := amountPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a non-negative decimal amount such as 0.05", s)
	}
	whole, frac := m[1], m[2]
	if len(frac) > exponent {
		return 0, fmt.Errorf("%q has more than %d decimal places", s, exponent)
	}
	for len(frac) < exponent {
		frac += "0"
	}
	scale := int64(1)
	for i := 0; i < exponent; i++ {
		scale *= 10
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > (1<<62)/scale {
		return 0, fmt.Errorf("%q is too large", s)
	}
	var f int64
	if frac != "" {
		f, _ = strconv.ParseInt(frac, 10, 64)
	}
	return w*scale + f, nil
}

func yamlFieldError(msg string) FieldError {
	fe := FieldError{Field: "(document)", Reason: msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		fe.Line, _ = strconv.Atoi(m[1])
		fe.Reason = m[2]
		if f, ok := strings.CutPrefix(m[2], "field "); ok {
			// The key ends where the decoder's sentence goes on; it may hold spaces, or be empty.
			name, _, _ := strings.Cut(f, " not found in type ")
			if strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t") {
				name = strconv.Quote(name)
			}
			fe.Field = name
			fe.Reason = "unknown field"
		}
	}
	return fe
}

// lineOf finds the line of a dotted field path in the document, or of its nearest present parent.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(path, ".") {
		name, index := part, -1
		if open := strings.IndexByte(part, '['); open > 0 && strings.HasSuffix(part, "]") {
			name = part[:open]
			if i, err := strconv.Atoi(part[open+1 : len(part)-1]); err == nil {
				index = i
			}
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				line = n.Content[i].Line
				n = n.Content[i+1]
				found = true
				break
			}
		}
		if !found {
			return line
		}
		if index >= 0 && n.Kind == yaml.SequenceNode && index < len(n.Content) {
			n = n.Content[index]
			line = n.Line
		}
	}
	return line
}
