package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/ledger"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/workflows"
)

// DeliveryCheck is what a client's reading of a delivery found: each item once, with the
// answers that made its label.
type DeliveryCheck struct {
	Manifest     delivery.Manifest
	Objects      int // objects the manifest names, each verified against its size and SHA-256
	Items        int // distinct items in the label files
	Annotations  int // annotators named on delivered items
	Arbitrations int // delivered items a reviewer arbitrated
}

// CheckDelivery reads a project's delivery from the client's bucket as a client would: every
// object the manifest names must match its size and SHA-256 (VerifyDelivery), and every item of
// the label files must be there once, with the people who labelled it.
func CheckDelivery(ctx context.Context, a *app.App, p spec.Project) (DeliveryCheck, error) {
	var c DeliveryCheck
	m, n, err := VerifyDelivery(ctx, a, p)
	if err != nil {
		return c, err
	}
	c.Manifest, c.Objects = m, n
	b, err := a.Targets.Open(ctx, p.Delivery)
	if err != nil {
		return c, err
	}
	seen := map[string]bool{}
	for _, o := range m.Objects {
		if o.Kind != delivery.KindLabels {
			continue
		}
		data, err := b.Get(ctx, o.Key)
		if err != nil {
			return c, err
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		lines := 0
		for sc.Scan() {
			var l struct {
				ID       string `json:"id"`
				Metadata struct {
					Method     string   `json:"method"`
					Annotators []string `json:"annotators"`
				} `json:"label-metadata"`
			}
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				return c, fmt.Errorf("%s:%d: %w", o.Key, lines+1, err)
			}
			if seen[l.ID] {
				return c, fmt.Errorf("%s:%d: item %s delivered twice", o.Key, lines+1, l.ID)
			}
			seen[l.ID] = true
			lines++
			c.Annotations += len(l.Metadata.Annotators)
			if l.Metadata.Method == workflows.MethodArbitrated {
				c.Arbitrations++
			}
		}
		if err := sc.Err(); err != nil {
			return c, fmt.Errorf("%s: %w", o.Key, err)
		}
		if lines != o.Items {
			return c, fmt.Errorf("%s holds %d items, the manifest says %d", o.Key, lines, o.Items)
		}
	}
	c.Items = len(seen)
	if c.Items != m.Items {
		return c, fmt.Errorf("%d distinct items in the label files, the manifest says %d", c.Items, m.Items)
	}
	return c, nil
}

// LedgerEntries reads a project's ledger entries of a month from the platform store.
func LedgerEntries(ctx context.Context, s *store.Store, month, project string) ([]ledger.Entry, error) {
	var out []ledger.Entry
	err := s.List(ctx, layout.LedgerProjectPrefix(month, project), func(key string, _ int64) error {
		data, err := s.Get(ctx, key)
		if err != nil {
			return err
		}
		for i, l := range bytes.Split(bytes.TrimSpace(data), []byte{'\n'}) {
			var e ledger.Entry
			if err := json.Unmarshal(l, &e); err != nil {
				return fmt.Errorf("%s:%d: %w", key, i+1, err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
