// Package app connects LabelFlow's parts from configuration: the Temporal client, the platform
// store, delivery profiles, the activity dependencies. Every subcommand starts here.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/clients"
	"github.com/labelflow/labelflow/internal/grant"
	"github.com/labelflow/labelflow/internal/logging"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workers"
	"github.com/labelflow/labelflow/workflows"
)

// App holds connected dependencies.
type App struct {
	Cfg      config.Config
	Log      zerolog.Logger
	Temporal client.Client
	Store    *store.Store
	Targets  *clientbucket.Profiles
	// Clients says which locations, profiles and secrets each client's projects may use.
	Clients *clients.Registry
	Roster  workforce.Roster
	// Grants seal the identities this process establishes (nil where no grant keys are set: such a
	// process cannot act for anyone, and says so).
	Grants *grant.Keys
	// Scores caches accuracy estimates for a minute, for the gateway's claims and the chunks'
	// confidence alike.
	Scores *quality.ScoreCache
}

// Open connects to the store and (unless noTemporal) to Temporal.
func Open(ctx context.Context, cfg config.Config, log zerolog.Logger) (*App, error) {
	st, err := store.New(store.Options{Endpoint: cfg.StoreEndpoint, AccessKey: cfg.StoreAccessKey, SecretKey: cfg.StoreSecretKey, Region: cfg.StoreRegion, Bucket: cfg.StoreBucket})
	if err != nil {
		return nil, err
	}
	targets, err := clientbucket.LoadProfiles(cfg.DeliveryProfiles, clientbucket.Options{
		Embedded: cfg.Embedded(), DevKey: cfg.StoreAccessKey, DevSecret: cfg.StoreSecretKey, Egress: egressGuard(cfg)})
	if err != nil {
		return nil, err
	}
	registry, err := loadClients(cfg, targets)
	if err != nil {
		return nil, err
	}
	a := &App{Cfg: cfg, Log: log, Store: st, Targets: targets, Clients: registry, Roster: workforce.Roster{Store: st, Pepper: []byte(cfg.TokenPepper)}, Scores: &quality.ScoreCache{TTL: time.Minute}}
	if cfg.GrantKeys != "" {
		if a.Grants, err = grant.ParseKeys(cfg.GrantKeys, !cfg.Embedded()); err != nil {
			return nil, fmt.Errorf("configuration: LABELFLOW_GRANT_KEYS: %w", err)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	a.Temporal, err = client.DialContext(dctx, client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    logging.NewTemporal(log),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return a, nil
}

// Close releases connections.
func (a *App) Close() {
	if a.Temporal != nil {
		a.Temporal.Close()
	}
}

// Activities builds the activity dependencies.
func (a *App) Activities() *activities.Activities {
	loc, _ := time.LoadLocation(a.Cfg.MonthTimeZone)
	var provider payout.Provider = &payout.FileProvider{Store: a.Store}
	if a.Cfg.PayoutProvider == "http" {
		provider = &payout.HTTPProvider{URL: a.Cfg.PayoutURL, Token: a.Cfg.PayoutToken}
	}
	return &activities.Activities{
		Store: a.Store, Targets: a.Targets, Payouts: provider,
		MaxLineBytes: a.Cfg.MaxLineBytes, Months: loc, FloorMultiplier: a.Cfg.FloorMultiplier, Log: a.Log, Scores: a.Scores,
		PaySimulated: a.Cfg.Embedded(), Boundary: a.Boundary(),
	}
}

// errNoGrantKeys: this process was given no grant keys, so it cannot vouch for anyone.
var errNoGrantKeys = errors.New("this process has no LABELFLOW_GRANT_KEYS: actions for people go through the gateway (set LABELFLOW_TOKEN and LABELFLOW_GATEWAY_URL)")

// RunWorker polls until ctx ends.
func (a *App) RunWorker(ctx context.Context) error {
	if a.Grants == nil {
		return fmt.Errorf("the worker verifies the identities in requests: %w", config.Require("LABELFLOW_GRANT_KEYS", a.Cfg.GrantKeys))
	}
	workflows.UseGrantKeys(a.Grants)
	if err := a.Store.EnsureBucket(ctx, a.Cfg.StoreBucket); err != nil {
		return err
	}
	ws, err := workers.New(a.Temporal, a.Cfg, a.Activities())
	if err != nil {
		return err
	}
	for _, w := range ws {
		if err := w.Start(); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
	}
	a.Log.Info().Str("role", a.Cfg.WorkerRole).Str("workflow_queue", a.Cfg.WorkflowTaskQueue).Str("activity_queue", a.Cfg.ActivityTaskQueue).Msg("worker running")
	<-ctx.Done()
	for _, w := range ws {
		w.Stop()
	}
	return nil
}

// Describe returns the server's full description of a workflow execution (run "" is the latest).
func (a *App) Describe(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	d, err := a.Temporal.DescribeWorkflow(ctx, workflowID, runID)
	if err != nil {
		return nil, err
	}
	return d.RawResponse, nil
}
