// Package app connects LabelFlow's parts from configuration: the Temporal client, the platform
// store, delivery profiles, the activity dependencies. Every subcommand starts here.
package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/labelflow/labelflow/activities"
	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/clients"
	"github.com/labelflow/labelflow/internal/grant"
	"github.com/labelflow/labelflow/internal/logging"
	"github.com/labelflow/labelflow/internal/metrics"
	"github.com/labelflow/labelflow/internal/payout"
	"github.com/labelflow/labelflow/internal/payoutdetails"
	"github.com/labelflow/labelflow/internal/pseudonym"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/temporalconn"
	"github.com/labelflow/labelflow/internal/tracing"
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
	// PayoutDetails keeps people's bank accounts and mobile-money numbers, sealed; it refuses
	// every call where LABELFLOW_PAYOUT_DETAILS_KEY is not set.
	PayoutDetails payoutdetails.Vault
	// PayoutDebtor is the account bank transfers are paid from (LABELFLOW_PAYOUT_DEBTOR).
	PayoutDebtor payout.Debtor
	// payloads is the data converter of this process's Temporal client: with payload encryption
	// on, failure messages are encrypted in histories too.
	payloads converter.DataConverter
	// tracing sends traces where an OTLP endpoint is configured (nil otherwise).
	tracing *tracing.Tracing
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
	if a.PayoutDetails, err = payoutdetails.NewVault(st, cfg.PayoutDetailsKey); err != nil {
		return nil, fmt.Errorf("configuration: LABELFLOW_PAYOUT_DETAILS_KEY: %w", err)
	}
	a.Roster.Details = a.PayoutDetails
	if a.PayoutDebtor, err = payout.ParseDebtor(cfg.PayoutDebtor); err != nil {
		return nil, fmt.Errorf("configuration: LABELFLOW_PAYOUT_DEBTOR: %w", err)
	}
	if cfg.GrantKeys != "" {
		if a.Grants, err = grant.ParseKeys(cfg.GrantKeys, !cfg.Embedded()); err != nil {
			return nil, fmt.Errorf("configuration: LABELFLOW_GRANT_KEYS: %w", err)
		}
	}
	opts, err := temporalconn.ClientOptions(cfg)
	if err != nil {
		return nil, err
	}
	opts.Logger = logging.NewTemporal(log)
	opts.MetricsHandler = metrics.Temporal()
	if a.tracing, err = tracing.Start(ctx, "labelflow"); err != nil {
		return nil, err
	}
	opts.Interceptors = append(opts.Interceptors, a.tracing.Interceptors()...)
	a.payloads = opts.DataConverter
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	a.Temporal, err = client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	return a, nil
}

// FailureMessage is the message of a failure read from a raw server response (a pending
// activity's last failure), decrypted where payload encryption hides it.
func (a *App) FailureMessage(f *failurepb.Failure) string {
	if f == nil || a.payloads == nil {
		return f.GetMessage()
	}
	f = proto.Clone(f).(*failurepb.Failure)
	converter.DecodeCommonFailureAttributes(a.payloads, f)
	return f.GetMessage()
}

// Close releases connections.
func (a *App) Close() {
	if a.Temporal != nil {
		a.Temporal.Close()
	}
	if err := a.tracing.Shutdown(); err != nil {
		a.Log.Warn().Err(err).Msg("traces not all sent")
	}
}

// Activities builds the activity dependencies.
func (a *App) Activities() *activities.Activities {
	loc, _ := time.LoadLocation(a.Cfg.MonthTimeZone)
	// Simulated people are paid only on the embedded stack, to made-up accounts.
	details := payout.Directory{Vault: a.PayoutDetails, Roster: a.Roster, InventForSimulated: a.Cfg.Embedded()}
	var provider payout.Provider = &payout.FileProvider{Store: a.Store, Details: details, Debtor: a.PayoutDebtor}
	if a.Cfg.PayoutProvider == "http" {
		provider = &payout.HTTPProvider{URL: a.Cfg.PayoutURL, Token: a.Cfg.PayoutToken, Details: details}
	}
	// Without a key (a production host that does not deliver) deliveries fail, saying so.
	names, _ := pseudonym.New(a.Cfg.PseudonymKey)
	return &activities.Activities{
		Pseudonyms: names,
		Store:      a.Store, Targets: a.Targets, Payouts: provider,
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
	reg := metrics.New()
	health, err := a.startHealth(a.Cfg.WorkerHealthListen, reg)
	if err != nil {
		return err
	}
	defer health.stop()
	if err := a.Store.EnsureBucket(ctx, a.Cfg.StoreBucket); err != nil {
		return err
	}
	acts := a.Activities()
	acts.Metrics = metrics.NewWork(reg)
	ws, err := workers.New(a.Temporal, a.Cfg, acts)
	if err != nil {
		return err
	}
	for _, w := range ws {
		if err := w.Start(); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
	}
	health.running()
	a.Log.Info().Str("role", a.Cfg.WorkerRole).Str("workflow_queue", a.Cfg.WorkflowTaskQueue).Str("activity_queue", a.Cfg.ActivityTaskQueue).Msg("worker running")
	<-ctx.Done()
	health.stopping()
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
