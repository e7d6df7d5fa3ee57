package spec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/labelflow/labelflow/internal/clients"
	"github.com/labelflow/labelflow/internal/egress"
	"github.com/labelflow/labelflow/internal/store"
)

// Boundary is what a project may reach: the locations its client owns in the clients file, never
// the platform bucket, and, outside the embedded stack, only public https endpoints. A spec is
// checked against it at launch and again by the activity that prepares the project, so a
// workflow started by other means cannot skip it.
type Boundary struct {
	Clients        *clients.Registry
	PlatformBucket string
	Egress         egress.Guard
	// DevEndpoint, on the embedded stack only, is where a delivery with the dev profile and no
	// endpoint goes: the stack's own S3 server, on whatever port it runs.
	DevEndpoint string
}

// fillDevEndpoint gives a dev-profile delivery without an endpoint the embedded stack's own.
func (b Boundary) fillDevEndpoint(p *Project) {
	if b.DevEndpoint != "" && p.Delivery.Credentials == devProfile && p.Delivery.Endpoint == "" {
		p.Delivery.Endpoint = b.DevEndpoint
	}
}

// devProfile is the delivery profile of the embedded stack (clientbucket.DevProfile).
const devProfile = "dev"

// Check returns every field of p that reaches outside the boundary.
func (b Boundary) Check(p Project) []FieldError {
	errs, declared := b.checkClient(p.Client)
	if problem := idProblem(p.ID); problem != "" {
		// The id names the project's folder in the platform bucket: it must not lead out of it.
		errs = append(errs, FieldError{Field: "id", Reason: problem})
	}
	errs = append(errs, b.checkRead(declared, p.Client, "source", p.Source)...)
	if p.Quality.Gold.Source != "" {
		errs = append(errs, b.checkRead(declared, p.Client, "quality.gold.source", p.Quality.Gold.Source)...)
	}
	return append(errs, b.checkDelivery(declared, p.Client, p.Delivery)...)
}

// CheckDelivery returns every field of a delivery target that client may not use.
func (b Boundary) CheckDelivery(client string, d Delivery) []FieldError {
	errs, declared := b.checkClient(client)
	return append(errs, b.checkDelivery(declared, client, d)...)
}

// MayRead refuses a read of uri for client outside the client's intake locations.
func (b Boundary) MayRead(client, uri string) error {
	errs, declared := b.checkClient(client)
	errs = append(errs, b.checkRead(declared, client, "", uri)...)
	if len(errs) > 0 {
		return fmt.Errorf("%s", errs[0].Reason)
	}
	return nil
}

func (b Boundary) checkClient(client string) (errs []FieldError, declared bool) {
	if b.Clients == nil {
		return []FieldError{{Field: "client", Reason: "no clients file is loaded, so nothing may be read or delivered (LABELFLOW_CLIENTS)"}}, false
	}
	if _, err := b.Clients.Client(client); err != nil {
		return []FieldError{{Field: "client", Reason: err.Error()}}, false
	}
	return nil, true
}

func (b Boundary) checkRead(declared bool, client, field, uri string) []FieldError {
	bucket, _, err := store.ParseURI(uri)
	switch {
	case err != nil:
		return []FieldError{{Field: field, Reason: err.Error()}}
	case bucket == b.PlatformBucket:
		return []FieldError{{Field: field, Reason: fmt.Sprintf("%s is in the platform bucket, which holds the roster, the ledger and every project's data; a project reads only from its client's intake locations", uri)}}
	case declared:
		if err := b.Clients.MayRead(client, uri); err != nil {
			return []FieldError{{Field: field, Reason: err.Error()}}
		}
	}
	return nil
}

func (b Boundary) checkDelivery(declared bool, client string, d Delivery) []FieldError {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if d.Bucket == b.PlatformBucket {
		bad("delivery.bucket", "%s is the platform bucket, which holds the roster, the ledger and payroll; nothing is delivered into it, whatever the prefix", d.Bucket)
	} else if declared {
		if entry, err := b.Clients.DeliveryBucket(client, d.Bucket); err != nil {
			bad("delivery.bucket", "%v", err)
		} else if err := entry.AllowsEndpoint(d.Endpoint); err != nil {
			bad("delivery.endpoint", "%v", err)
		}
	}
	if d.Endpoint != "" {
		if err := b.Egress.CheckURL(d.Endpoint); err != nil {
			bad("delivery.endpoint", "%v", err)
		}
	}
	if declared && d.Credentials != "" && profilePattern.MatchString(d.Credentials) && !looksLikeKey(d.Credentials) {
		if err := b.Clients.MayUseProfile(client, d.Credentials); err != nil {
			bad("delivery.credentials", "%v", err)
		}
	}
	return append(errs, b.checkWebhook(declared, client, d.Webhook)...)
}

// CheckWebhook returns the problems of a webhook client may not use.
func (b Boundary) CheckWebhook(client string, w Webhook) []FieldError {
	errs, declared := b.checkClient(client)
	return append(errs, b.checkWebhook(declared, client, w)...)
}

func (b Boundary) checkWebhook(declared bool, client string, w Webhook) []FieldError {
	if w.URL == "" && w.Secret == "" {
		return nil
	}
	var errs []FieldError
	if err := b.Egress.CheckURL(w.URL); err != nil {
		errs = append(errs, FieldError{Field: "delivery.webhook.url", Reason: err.Error()})
	}
	if reason := webhookSecretProblem(w.Secret); reason != "" {
		errs = append(errs, FieldError{Field: "delivery.webhook.secret", Reason: reason})
	} else if declared {
		if err := b.Clients.MayUseWebhookSecret(client, w.Secret); err != nil {
			errs = append(errs, FieldError{Field: "delivery.webhook.secret", Reason: err.Error()})
		}
	}
	return errs
}

// webhookSecretProblem says why s cannot be a webhook secret's name, or "". The value is never
// quoted: whoever wrote it may have pasted the secret itself.
func webhookSecretProblem(s string) string {
	if !clients.SecretNamePattern.MatchString(s) || looksLikeKey(s) {
		return "must name a webhook secret (1-64 lowercase letters, digits, dots, dashes or underscores), never hold one: " +
			"this does not look like a name; secrets live in the delivery profiles file, under webhook_secrets"
	}
	return ""
}

// looksLikeKey tells a pasted key from a name. Names are words joined by dashes, dots or
// underscores; keys are long runs of letters mixed with digits, or longer runs still.
func looksLikeKey(s string) bool {
	words := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '.' || r == '_' })
	for _, w := range words {
		mixed := strings.ContainsAny(w, "0123456789") && strings.ContainsAny(strings.ToLower(w), "abcdefghijklmnopqrstuvwxyz")
		if len(w) >= 16 && mixed || len(w) >= 24 {
			return true
		}
	}
	return false
}

// sortByLine orders problems as they appear in the file; problems without a line come last.
func sortByLine(errs []FieldError) {
	sort.SliceStable(errs, func(i, j int) bool {
		li, lj := errs[i].Line, errs[j].Line
		return li != 0 && (lj == 0 || li < lj)
	})
}

// appendNew appends the problems of more that errs does not hold yet.
func appendNew(errs, more []FieldError) []FieldError {
	for _, m := range more {
		dup := false
		for _, e := range errs {
			dup = dup || e.Field == m.Field && e.Reason == m.Reason
		}
		if !dup {
			errs = append(errs, m)
		}
	}
	return errs
}
