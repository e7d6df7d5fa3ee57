package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/ledger"
)

// The floor project's slow annotators are recorded for the time they took, claim to submit by
// the workflow's clock, and what they earn for it falls under the floor: their statement has a
// top-up.
func TestSlowSimulatedPeopleAreToppedUpToTheFloor(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := env.App
	ops := signIn(ctx, t, a, OpsDemo)
	if _, err := launchFloorProject(ctx, env, ops); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	crowds := &crowds{ctx: runCtx, cancel: stop, app: a}
	started := time.Now()
	if err := crowds.start(floorCrowd(env.GatewayURL, 5)); err != nil {
		t.Fatal(err)
	}
	if _, err := crowds.wait(FloorProject, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := crowds.done(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(started)

	worked := map[string]*earnings.Line{}
	err := a.Store.List(ctx, "ledger/", func(key string, _ int64) error {
		if !strings.Contains(key, "/"+FloorProject+"/") {
			return nil
		}
		entries, err := ledger.Read(ctx, a.Store, key)
		for _, e := range entries {
			l := worked[e.Worker]
			if l == nil {
				l = &earnings.Line{Project: e.Project, Kind: earnings.KindAnnotation, Currency: e.Currency}
				worked[e.Worker] = l
			}
			l.Count++
			l.Amount += e.Amount
			l.Seconds += int64(e.Seconds)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(worked) != 2 {
		t.Fatalf("the ledger has %d people on %s, want the two slow annotators", len(worked), FloorProject)
	}
	wages, err := earnings.ReadWageTable("demo", strings.NewReader(DemoMinimumWages))
	if err != nil {
		t.Fatal(err)
	}
	for person, l := range worked {
		// Each review takes 1.5 s to 2.5 s; the workflow keeps whole seconds per suite, shared
		// out among its reviews.
		if l.Count != FloorItems || l.Seconds < FloorItems || l.Seconds > int64(took/time.Second)+1 || l.Amount != FloorItems*2 {
			t.Errorf("%s: %+v after %v", person, *l, took)
		}
		st, err := earnings.Compute(earnings.Person{ID: person, Country: "KE", PayoutCurrency: "KES"}, "2026-12", []earnings.Line{*l},
			wages, earnings.MissingRates("none"), "2")
		if err != nil {
			t.Fatal(err)
		}
		if st.Floor.TopUp <= 0 || st.HourlyEffective >= st.Floor.RequiredHourly {
			t.Errorf("%s is not under the floor: %+v", person, st)
		}
	}
}

func TestTopUpLine(t *testing.T) {
	l := TopUpLine{Person: "sim-x-a-01", Country: "KE", Currency: "KES", Seconds: 12, Earned: 12, Required: 57, TopUp: 45,
		MinimumWage: 8500, Multiplier: "2"}
	want := "sim-x-a-01 (KE) worked 12s, earned 0.12 KES; the floor, 2 × 85.00 KES an hour, requires 0.57 KES: top-up 0.45 KES"
	if got := l.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
