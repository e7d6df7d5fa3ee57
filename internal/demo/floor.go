package demo

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/spec"
)

// The floor project shows the earnings floor at work: a few spot checks at a low rate, worked
// beside the main project by two slow simulated annotators in Kenya. What they earn for the time
// they take falls under floor_multiplier × Kenya's minimum wage, and payroll tops it up.
const (
	FloorProject = "acme-spot-checks"
	// FloorItems reviews in suites of floorSuiteSize: each of the two annotators answers them
	// all, floorItems/floorSuiteSize suites each.
	FloorItems     = 6
	floorSuiteSize = 3
	// FloorTaskTime is what the slow annotators spend on a review: about 12 s each in all, spent
	// while the main project runs.
	FloorTaskTime = 2 * time.Second
	// floorRate is the pay per annotation, in KES: 0.02 KES for about 2 s of work is 36 KES an
	// hour, under the demo's floor of 2 × 85 KES an hour.
	floorRate = "0.02"
)

// floorSpecYAML is the floor project's spec.
func floorSpecYAML(key, endpoint string) string {
	return fmt.Sprintf(`id: %s
client: acme
source: s3://%s/%s
annotation:
  type: single-label
  taxonomy: [positive, negative, neutral]
  instructions: |
    Check the sentiment of the product review.
chunk_size: %d
suite_size: %d
annotators_per_item: 2
lease: 2m
languages: [en]
reviewer_role: reviewer
delivery:
  bucket: %s
  prefix: labelflow/
  region: us-east-1
  endpoint: %s
  credentials: dev
  formats: [jsonl]
pay:
  currency: KES
  per_annotation: "%s"
  per_arbitration: "%s"
`, FloorProject, IntakeBucket, key, FloorItems, floorSuiteSize, ClientBucket, endpoint, floorRate, floorRate)
}

// launchFloorProject uploads the floor project's reviews and launches it as ops.
func launchFloorProject(ctx context.Context, e *Env, ops app.Actor) (spec.Project, error) {
	data, _ := Dataset(FloorItems, 11)
	// The dataset ends with bad lines for chunking to refuse; the spot checks need only the items.
	lines := bytes.SplitAfterN(data, []byte{'\n'}, FloorItems+1)
	key := "acme/" + FloorProject + ".manifest"
	if err := e.App.Store.PutIn(ctx, IntakeBucket, key, bytes.Join(lines[:FloorItems], nil)); err != nil {
		return spec.Project{}, err
	}
	p, err := spec.Parse(FloorProject+".yaml", []byte(floorSpecYAML(key, e.Cfg.StoreEndpoint)))
	if err != nil {
		return p, err
	}
	_, err = e.App.Launch(ctx, ops, p)
	return p, err
}

// floorCrowd are the floor project's two slow annotators: always right, so no reviewer is needed.
func floorCrowd(gatewayURL string, seed uint64) simulate.Options {
	return simulate.Options{GatewayURL: gatewayURL, Project: FloorProject, Annotators: 2, Accuracy: 1, ReviewerAccuracy: 1,
		Seed: seed, Languages: []string{"en"}, Country: "KE", TaskTime: FloorTaskTime, Idle: 50 * time.Millisecond}
}

// TopUpLine is one person payroll lifted to the floor, as their statement shows it.
type TopUpLine struct {
	Person       string `json:"person"`
	Country      string `json:"country"`
	Currency     string `json:"currency"`
	Seconds      int64  `json:"seconds"`
	Earned       int64  `json:"earned"`
	Required     int64  `json:"required"`
	TopUp        int64  `json:"top_up"`
	MinimumWage  int64  `json:"minimum_wage"` // per hour, in the payout currency
	Multiplier   string `json:"multiplier"`
	InForceSince string `json:"in_force_since"`
}

// String reads: "sim-acme-spot-checks-a-01 (KE) worked 12s, earned 0.12 KES; the floor, 2 × 85.00
// KES an hour, requires 0.57 KES: top-up 0.45 KES".
func (l TopUpLine) String() string {
	m := func(v int64) string { return earnings.FormatMinor(v, l.Currency) + " " + l.Currency }
	return fmt.Sprintf("%s (%s) worked %s, earned %s; the floor, %s × %s an hour, requires %s: top-up %s",
		l.Person, l.Country, time.Duration(l.Seconds)*time.Second, m(l.Earned), l.Multiplier, m(l.MinimumWage), m(l.Required), m(l.TopUp))
}

// topUpLines reads the statement of each person payroll topped up in month.
func topUpLines(ctx context.Context, a *app.App, month string, topUps []payroll.TopUp) ([]TopUpLine, error) {
	out := make([]TopUpLine, 0, len(topUps))
	for _, t := range topUps {
		st, err := a.Statement(ctx, month, t.Person)
		if err != nil {
			return nil, err
		}
		p := st.Pay
		out = append(out, TopUpLine{Person: t.Person, Country: t.Country, Currency: p.PayoutCurrency, Seconds: p.Seconds, Earned: p.Earned,
			Required: p.Floor.Required, TopUp: p.Floor.TopUp, MinimumWage: p.Floor.MinimumWage.HourlyMinor, Multiplier: p.Floor.Multiplier,
			InForceSince: p.Floor.InForce.EffectiveFrom.Format(time.DateOnly)})
	}
	return out, nil
}
