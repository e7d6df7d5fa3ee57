package demo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/store"
)

// A simulation, as `labelflow simulate` runs it, leaves no simulated people behind: neither when
// the project is done nor when the run fails.
func TestSimulationLeavesNoPeopleInTheRoster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	a := env.App
	permit, err := simulate.Allow(a.Cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	gone := func(crowd []simulate.Person) {
		t.Helper()
		if len(crowd) == 0 {
			t.Fatal("the simulation registered nobody")
		}
		for _, p := range crowd {
			if _, err := a.Roster.Get(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s is still in the roster: %v", p.ID, err)
			}
		}
		// The gateway trusts a token it has checked for its cache's TTL; past it, one refused
		// sign-in is enough (the gateway holds back an address after a few).
		time.Sleep(env.Cfg.GatewayTokenCacheTTL + 100*time.Millisecond)
		call(t, crowd[0].Token, "GET", env.GatewayURL+"/v1/me", nil, 401, "unauthorized")
	}

	o := RunOptions{ProjectID: "it-sim-leaves", Items: 20, ChunkSize: 10, Seed: 3}
	if _, _, err := LaunchProject(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	var crowd []simulate.Person
	st, err := simulate.Simulate(ctx, permit, a.Roster, a.Store, simulate.Options{GatewayURL: env.GatewayURL, Project: o.ProjectID,
		Annotators: 3, Reviewers: 1, Accuracy: 0.9, ReviewerAccuracy: 1, Seed: 3, Languages: []string{"en"}, Idle: 50 * time.Millisecond},
		func(c []simulate.Person) {
			crowd = c
			call(t, c[0].Token, "GET", env.GatewayURL+"/v1/me", nil, 200, "")
		})
	if err != nil || st.Answers == 0 {
		t.Fatalf("simulation: %+v, %v", st, err)
	}
	if _, err := a.WaitProject(ctx, o.ProjectID, nil); err != nil {
		t.Fatal(err)
	}
	gone(crowd)

	// A run the gateway refuses (no such project) cleans up as well.
	crowd = nil
	if _, err := simulate.Simulate(ctx, permit, a.Roster, a.Store, simulate.Options{GatewayURL: env.GatewayURL, Project: "it-no-such-project",
		Annotators: 2, Idle: 50 * time.Millisecond}, func(c []simulate.Person) { crowd = c }); err == nil {
		t.Fatal("a simulation of a project that does not exist succeeded")
	}
	gone(crowd)
}
