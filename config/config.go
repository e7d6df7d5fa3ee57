// Package config holds every setting of LabelFlow. All of it comes from LABELFLOW_* environment
// variables; the defaults point at the embedded stack that `labelflow dev` starts.
//
// Settings are grouped by the component that reads them, each group with its own checks. The
// groups are embedded in Config, so a setting reads as cfg.StoreEndpoint wherever it is used and
// keeps its one environment variable.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Config is the whole configuration. The `desc` tags feed `labelflow config` and the README table.
type Config struct {
	Temporal
	Encryption
	Worker
	Observability
	Store
	Projects
	Gateway
	Payroll
	Trust
	Local
}

// Temporal is how every process reaches Temporal.
type Temporal struct {
	TemporalAddress   string `envconfig:"LABELFLOW_TEMPORAL_ADDRESS" default:"127.0.0.1:7233" desc:"Temporal frontend host:port"`
	TemporalNamespace string `envconfig:"LABELFLOW_TEMPORAL_NAMESPACE" default:"default" desc:"Temporal namespace"`
	TemporalUIURL     string `envconfig:"LABELFLOW_TEMPORAL_UI_URL" default:"http://127.0.0.1:8233" desc:"Temporal Web UI, printed in status and summaries"`
	WorkflowTaskQueue string `envconfig:"LABELFLOW_WORKFLOW_TASK_QUEUE" default:"labelflow-workflows" desc:"task queue of workflow tasks"`
	ActivityTaskQueue string `envconfig:"LABELFLOW_ACTIVITY_TASK_QUEUE" default:"labelflow-io" desc:"task queue of I/O activities (chunking, results, delivery, payroll)"`
	TemporalTLS       bool   `envconfig:"LABELFLOW_TEMPORAL_TLS" default:"false" desc:"connect to Temporal over TLS (required by the API key, the CA and the client certificate settings)"`
	TemporalTLSCA     string `envconfig:"LABELFLOW_TEMPORAL_TLS_CA" default:"" desc:"PEM file of the CA that signed the Temporal frontend's certificate; empty = the system's roots"`
	TemporalTLSCert   string `envconfig:"LABELFLOW_TEMPORAL_TLS_CERT" default:"" desc:"PEM file of this process's client certificate (mTLS), with LABELFLOW_TEMPORAL_TLS_KEY; reread at each new connection, so it can be renewed in place"`
	TemporalTLSKey    string `envconfig:"LABELFLOW_TEMPORAL_TLS_KEY" default:"" desc:"PEM file of the client certificate's private key (mTLS)"`
	TemporalTLSServer string `envconfig:"LABELFLOW_TEMPORAL_TLS_SERVER_NAME" default:"" desc:"name the frontend's certificate must carry, when it is not the host of LABELFLOW_TEMPORAL_ADDRESS"`
	TemporalAPIKey    string `envconfig:"LABELFLOW_TEMPORAL_API_KEY" default:"" desc:"API key sent as a bearer token with every call (Temporal Cloud); needs LABELFLOW_TEMPORAL_TLS=true"`
}

// Encryption is how payloads are encrypted in Temporal's histories, and the codec server that
// decodes them for operators.
type Encryption struct {
	PayloadKeys      string `envconfig:"LABELFLOW_PAYLOAD_KEYS" default:"" desc:"keys that encrypt workflow payloads (AES-256-GCM): id:base64key[,id:base64key]; the first encrypts, all decrypt (rotation); 32-byte keys (openssl rand -base64 32)"`
	PayloadKeysFile  string `envconfig:"LABELFLOW_PAYLOAD_KEYS_FILE" default:"" desc:"file holding the payload keys instead, one id:base64key per line; a production stack needs one of the two, or LABELFLOW_PAYLOAD_PLAINTEXT=true"`
	PayloadPlaintext bool   `envconfig:"LABELFLOW_PAYLOAD_PLAINTEXT" default:"false" desc:"production only: run without payload encryption, on purpose (histories then hold answers and worker ids in clear); the embedded stack encrypts only when keys are set"`
	CodecListen      string `envconfig:"LABELFLOW_CODEC_LISTEN" default:"127.0.0.1:8089" desc:"listen address of 'labelflow codec-server'"`
	CodecOrigins     string `envconfig:"LABELFLOW_CODEC_ORIGINS" default:"" desc:"browser origins allowed to call the codec server (CORS), comma-separated; empty = the origin of LABELFLOW_TEMPORAL_UI_URL"`
	CodecSecret      string `envconfig:"LABELFLOW_CODEC_SECRET" default:"" desc:"a bearer secret the codec server accepts besides ops people's tokens, for a proxy that authenticates people itself; at least 32 bytes"`
}

// Worker is what `labelflow worker` polls and how much it runs at once.
type Worker struct {
	WorkerRole        string `envconfig:"LABELFLOW_WORKER_ROLE" default:"all" desc:"what 'labelflow worker' polls: workflows, activities or all"`
	WorkerConcurrency int    `envconfig:"LABELFLOW_WORKER_CONCURRENCY" default:"16" desc:"concurrent activities per worker"`
}

// Observability is how processes report on themselves. The gateway serves /healthz, /readyz and
// /metrics on its own listener; a worker serves them only where this says.
type Observability struct {
	WorkerHealthListen string `envconfig:"LABELFLOW_WORKER_HEALTH_LISTEN" default:"" desc:"address where 'labelflow worker' serves /healthz, /readyz and /metrics (Prometheus), such as :9091; empty = none"`
}

// Store is the platform object store.
type Store struct {
	StoreEndpoint  string `envconfig:"LABELFLOW_STORE_ENDPOINT" default:"http://127.0.0.1:9000" desc:"platform object store (S3 API) URL"`
	StoreAccessKey string `envconfig:"LABELFLOW_STORE_ACCESS_KEY" default:"labelflow" desc:"platform object store access key"`
	StoreSecretKey string `envconfig:"LABELFLOW_STORE_SECRET_KEY" default:"" desc:"platform object store secret key; required in production, the embedded stack uses a dev secret"`
	StoreBucket    string `envconfig:"LABELFLOW_STORE_BUCKET" default:"labelflow" desc:"platform bucket: chunks, results, ledger, roster, payroll"`
	StoreRegion    string `envconfig:"LABELFLOW_STORE_REGION" default:"us-east-1" desc:"platform object store region"`
}

// Projects are the settings of running projects: clients, their deliveries, chunks.
type Projects struct {
	DeliveryProfiles   string `envconfig:"LABELFLOW_DELIVERY_PROFILES" default:"" desc:"path of the delivery credentials profiles file (YAML); the embedded stack also has the dev profile, from the STORE_* keys"`
	Clients            string `envconfig:"LABELFLOW_CLIENTS" default:"" desc:"path of the clients file (YAML): each client's intake prefixes, delivery buckets, delivery profiles and webhook secrets; empty = the embedded stack's dev client"`
	EgressAllowPrivate bool   `envconfig:"LABELFLOW_EGRESS_ALLOW_PRIVATE" default:"false" desc:"allow webhooks and client endpoints on loopback or private addresses (always allowed on the embedded stack)"`
	ChunkWindow        int    `envconfig:"LABELFLOW_CHUNK_WINDOW" default:"8" desc:"chunks of one project with open work at the same time, at least: a large crowd opens one per 16 people at work, up to 32 (drained chunks finishing their last suites run beside them, up to 3 × the window)"`
	ChunkSpillBytes    int    `envconfig:"LABELFLOW_CHUNK_SPILL_BYTES" default:"262144" desc:"bytes of settled answers a chunk workflow holds before storing them in the platform store"`
	MaxLineBytes       int    `envconfig:"LABELFLOW_MAX_LINE_BYTES" default:"65536" desc:"longest accepted manifest line"`
}

// Gateway is the HTTP gateway: where it listens and what it allows one client.
type Gateway struct {
	GatewayListen       string        `envconfig:"LABELFLOW_GATEWAY_LISTEN" default:"127.0.0.1:8080" desc:"gateway listen address"`
	GatewayURL          string        `envconfig:"LABELFLOW_GATEWAY_URL" default:"http://127.0.0.1:8080" desc:"gateway base URL: the simulator and the CLI's finance and ops commands call it"`
	StatusCacheTTL      time.Duration `envconfig:"LABELFLOW_STATUS_CACHE_TTL" default:"1s" desc:"how long the gateway reuses a project's list of open chunks"`
	GatewayMaxConns     int           `envconfig:"LABELFLOW_GATEWAY_MAX_CONNS" default:"2000" desc:"open connections the gateway accepts at once"`
	GatewayRatePerToken string        `envconfig:"LABELFLOW_GATEWAY_RATE_PER_TOKEN" default:"5/s,20" desc:"requests one token may make: rate/s,burst"`
	GatewayRatePerIP    string        `envconfig:"LABELFLOW_GATEWAY_RATE_PER_IP" default:"50/s,100" desc:"requests one client address may make: rate/s,burst"`
	GatewaySignInPerIP  string        `envconfig:"LABELFLOW_GATEWAY_SIGNIN_PER_IP" default:"1/s,10" desc:"failed sign-ins (unknown tokens) one address may make: rate/s,burst"`
	// A revoked or rotated token keeps working at most this long on a gateway that saw it.
	GatewayTokenCacheTTL time.Duration `envconfig:"LABELFLOW_GATEWAY_TOKEN_CACHE_TTL" default:"30s" desc:"how long the gateway trusts a token it has checked against the roster; a revoked or rotated token stops within this time"`
	// A slow client holds a connection no longer than this.
	GatewayReadTimeout time.Duration `envconfig:"LABELFLOW_GATEWAY_READ_TIMEOUT" default:"30s" desc:"time a client has to send one request, headers and body; idle keep-alive connections close after twice this"`
}

// Payroll is how months are cut and people are paid.
type Payroll struct {
	MonthTimeZone   string `envconfig:"LABELFLOW_MONTH_TIME_ZONE" default:"UTC" desc:"time zone that decides which payroll month work falls in"`
	FloorMultiplier string `envconfig:"LABELFLOW_FLOOR_MULTIPLIER" default:"2" desc:"the earnings floor: this many times the local hourly minimum wage, for the hours worked"`
	PayoutProvider  string `envconfig:"LABELFLOW_PAYOUT_PROVIDER" default:"file" desc:"file (batch files for finance to upload) or http (a payment API)"`
	PayoutURL       string `envconfig:"LABELFLOW_PAYOUT_URL" default:"" desc:"the payment API's payouts endpoint, with the http provider"`
	PayoutToken     string `envconfig:"LABELFLOW_PAYOUT_TOKEN" default:"" desc:"bearer token of the payment API"`
	PayoutDebtor    string `envconfig:"LABELFLOW_PAYOUT_DEBTOR" default:"" desc:"the account bank transfers are paid from, in the file provider's pain.001 files: NAME;IBAN;BIC (the BIC may be left empty); without it bank transfers are held; the embedded stack uses a demo account"`
}

// Trust is who may do what: the kind of stack, the keys that vouch for people, the CLI's own
// credential. On the embedded stack dev values stand in; a production stack sets its own.
type Trust struct {
	Stack       string `envconfig:"LABELFLOW_STACK" default:"embedded" desc:"embedded (the dev stack: dev secrets, the dev delivery profile, simulated people and private endpoints allowed) or production"`
	GrantKeys   string `envconfig:"LABELFLOW_GRANT_KEYS" default:"" desc:"(worker, gateway) keys that sign the identity grants workflows verify: id:secret[,id:secret]; the first signs, all verify (rotation); secrets of at least 32 bytes; the embedded stack uses a dev key"`
	TokenPepper string `envconfig:"LABELFLOW_TOKEN_PEPPER" default:"" desc:"(gateway, workforce commands) server-side key of token hashes (HMAC-SHA256), at least 32 bytes; the embedded stack uses a dev pepper"`
	Token       string `envconfig:"LABELFLOW_TOKEN" default:"" desc:"the person's own token, presented by CLI commands that act for finance or ops"`
	// PseudonymKey must never change once clients hold deliveries: their annotators would get new names.
	// PayoutDetailsKey seals people's bank accounts and mobile-money numbers in the store.
	PayoutDetailsKey string `envconfig:"LABELFLOW_PAYOUT_DETAILS_KEY" default:"" desc:"(worker, workforce commands) keys that encrypt people's payout details at rest (AES-256-GCM): id:secret[,id:secret]; the first encrypts, all decrypt (rotation); secrets of at least 32 bytes; needed wherever details are imported or paid; the embedded stack uses a dev key"`
	PseudonymKey     string `envconfig:"LABELFLOW_PSEUDONYM_KEY" default:"" desc:"(worker, workforce pseudonym) key of the annotators' pseudonyms in client files (HMAC-SHA256 of client and person), at least 32 bytes, never changed once clients hold deliveries; the embedded stack uses a dev key"`
}

// Local is this machine: the embedded stack's files and the log level.
type Local struct {
	DataDir  string `envconfig:"LABELFLOW_DATA_DIR" default:".labelflow" desc:"state directory of the embedded stack"`
	BinDir   string `envconfig:"LABELFLOW_BIN_DIR" default:"bin" desc:"where the embedded stack finds temporal and versitygw"`
	LogLevel string `envconfig:"LABELFLOW_LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
}

// Load reads the configuration from the environment and checks each group.
func Load() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	if err := c.Check(); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	if c.Embedded() {
		c.fillDevSecrets()
	}
	return c, nil
}

// Check runs every group's checks and reports the first problem of each group.
func (c Config) Check() error {
	return errors.Join(c.Temporal.check(), c.checkEncryption(), c.checkEmbeddedIsLocal(), c.Worker.check(), c.Projects.check(), c.Payroll.check(), c.checkTrust(), c.checkGateway())
}

func (w Worker) check() error {
	switch w.WorkerRole {
	case "all", "workflows", "activities":
		return nil
	}
	return fmt.Errorf("LABELFLOW_WORKER_ROLE must be all, workflows or activities, got %q", w.WorkerRole)
}

func (p Projects) check() error {
	if p.ChunkSpillBytes < 1 || p.ChunkSpillBytes > 1<<20 {
		return fmt.Errorf("LABELFLOW_CHUNK_SPILL_BYTES must be between 1 and 1048576, got %d", p.ChunkSpillBytes)
	}
	if p.ChunkWindow < 1 {
		return fmt.Errorf("LABELFLOW_CHUNK_WINDOW must be at least 1, got %d", p.ChunkWindow)
	}
	return nil
}

func (p Payroll) check() error {
	switch {
	case p.PayoutProvider == "http" && p.PayoutURL == "":
		return fmt.Errorf("LABELFLOW_PAYOUT_PROVIDER=http needs LABELFLOW_PAYOUT_URL")
	case p.PayoutProvider != "file" && p.PayoutProvider != "http":
		return fmt.Errorf("LABELFLOW_PAYOUT_PROVIDER must be file or http, got %q", p.PayoutProvider)
	}
	if f, err := strconv.ParseFloat(p.FloorMultiplier, 64); err != nil || f < 1 || strings.ContainsAny(p.FloorMultiplier, "eE+-") {
		return fmt.Errorf("LABELFLOW_FLOOR_MULTIPLIER must be a decimal of at least 1 such as 2 or 2.5, got %q", p.FloorMultiplier)
	}
	if _, err := time.LoadLocation(p.MonthTimeZone); err != nil {
		return fmt.Errorf("LABELFLOW_MONTH_TIME_ZONE: %w", err)
	}
	return nil
}

// Embedded reports whether this is the embedded (dev) stack.
func (c Config) Embedded() bool { return c.Stack == StackEmbedded }

// Stacks.
const (
	StackEmbedded   = "embedded"
	StackProduction = "production"
)

// Dev values of secrets: accepted on the embedded stack only.
var devSecrets = map[string]string{
	"LABELFLOW_STORE_SECRET_KEY":   "labelflow-dev-secret",
	"LABELFLOW_GRANT_KEYS":         "dev:labelflow-dev-grant-key-not-for-production",
	"LABELFLOW_TOKEN_PEPPER":       "labelflow-dev-token-pepper",
	"LABELFLOW_PSEUDONYM_KEY":      "labelflow-dev-pseudonym-key-not-for-production",
	"LABELFLOW_PAYOUT_DETAILS_KEY": "dev:labelflow-dev-payout-details-key-not-for-production",
}

// devPayoutDebtor is the embedded stack's account bank transfers are paid from: a published
// example IBAN, owned by nobody LabelFlow pays from.
const devPayoutDebtor = "LabelFlow Demo Ltd;GB33BUKB20201555555555;BUKBGB22"

// fillDevSecrets gives the embedded stack the dev keys it runs on when none are set.
func (c *Config) fillDevSecrets() {
	if c.StoreSecretKey == "" {
		c.StoreSecretKey = devSecrets["LABELFLOW_STORE_SECRET_KEY"]
	}
	if c.GrantKeys == "" {
		c.GrantKeys = devSecrets["LABELFLOW_GRANT_KEYS"]
	}
	if c.TokenPepper == "" {
		c.TokenPepper = devSecrets["LABELFLOW_TOKEN_PEPPER"]
	}
	if c.PseudonymKey == "" {
		c.PseudonymKey = devSecrets["LABELFLOW_PSEUDONYM_KEY"]
	}
	if c.PayoutDetailsKey == "" {
		c.PayoutDetailsKey = devSecrets["LABELFLOW_PAYOUT_DETAILS_KEY"]
	}
	if c.PayoutDebtor == "" {
		c.PayoutDebtor = devPayoutDebtor
	}
}

// Require names a setting a component cannot run without (the worker and the gateway need the
// grant keys; whatever hashes tokens needs the pepper). Production leaves them unset unless the
// host runs that component, so the check happens where they are used.
func Require(name, value string) error {
	if value == "" {
		return fmt.Errorf("configuration: %s is not set; it is required here on a production stack", name)
	}
	return nil
}

// checkTrust refuses a production stack that runs on dev secrets or short keys.
func (c Config) checkTrust() error {
	switch c.Stack {
	case StackEmbedded:
		return nil
	case StackProduction:
	default:
		return fmt.Errorf("LABELFLOW_STACK must be embedded or production, got %q", c.Stack)
	}
	if c.StoreSecretKey == "" {
		return fmt.Errorf("LABELFLOW_STORE_SECRET_KEY is not set; a production stack sets its own")
	}
	for name, got := range map[string]string{"LABELFLOW_STORE_SECRET_KEY": c.StoreSecretKey, "LABELFLOW_GRANT_KEYS": c.GrantKeys, "LABELFLOW_TOKEN_PEPPER": c.TokenPepper, "LABELFLOW_PSEUDONYM_KEY": c.PseudonymKey,
		"LABELFLOW_PAYOUT_DETAILS_KEY": c.PayoutDetailsKey} {
		if got == devSecrets[name] {
			return fmt.Errorf("%s is the embedded stack's dev value; a production stack sets its own", name)
		}
	}
	if c.TokenPepper != "" && len(c.TokenPepper) < 32 {
		return fmt.Errorf("LABELFLOW_TOKEN_PEPPER must be at least 32 bytes in production, got %d", len(c.TokenPepper))
	}
	if c.PseudonymKey != "" && len(c.PseudonymKey) < 32 {
		return fmt.Errorf("LABELFLOW_PSEUDONYM_KEY must be at least 32 bytes in production, got %d", len(c.PseudonymKey))
	}
	if c.Clients == "" {
		return fmt.Errorf("LABELFLOW_CLIENTS must name the clients file in production")
	}
	return nil
}

// Usage prints the table of variables, defaults and meanings.
func Usage() string {
	var c Config
	return usageTable(&c)
}
