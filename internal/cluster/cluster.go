//go:build linux

// Package cluster runs LabelFlow as it runs in production, every part a process of its own on
// this machine: PostgreSQL, a Temporal server built from its Go module with TLS on its frontend,
// an S3 server, workflow workers, activity workers and gateways, each `labelflow` process started
// from the same binary with its settings in LABELFLOW_* variables: the production configuration,
// with keys made for the cluster (production.go). Processes can be killed with
// SIGKILL and started again, as an orchestrator would after a crash. The cluster test
// (cluster_test.go, `make cluster-test`) runs a project on it while it kills some of them. It is
// Linux's: it reads /proc, and PostgreSQL comes from Debian's packages.
package cluster

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/devstack"
)

// Options shape a cluster.
type Options struct {
	// BinDir holds labelflow, temporal-server and versitygw.
	BinDir string
	// Dir holds the cluster's state and its processes' logs (logs/<process>.log).
	Dir string
	// HistoryShards is the Temporal server's numHistoryShards (4 when zero).
	HistoryShards int
	Log           zerolog.Logger
}

// Cluster is a running cluster: the servers, the LabelFlow processes started with StartMember,
// and App, a connection of its own to Temporal and the store, as an operator's CLI has.
type Cluster struct {
	// Cfg is the configuration every LabelFlow process runs with, less its own listen address.
	Cfg config.Config
	App *app.App
	// TemporalMetricsURL is the Temporal server's Prometheus endpoint.
	TemporalMetricsURL string
	// Staff are the ops and finance people of the roster, with their tokens.
	Staff Staff
	// ConfigCheck is what `labelflow config --check` printed in the processes' environment.
	ConfigCheck string

	opts                   Options
	logDir                 string
	postgres, temporal, s3 *process
	members                []*Member
}

// Start starts PostgreSQL, Temporal (schema set up by its own tool) and the S3 server, runs
// `labelflow setup`, and connects App. It starts no LabelFlow process: StartMember does.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.HistoryShards == 0 {
		o.HistoryShards = 4
	}
	c := &Cluster{opts: o, logDir: filepath.Join(o.Dir, "logs")}
	// PostgreSQL runs as its own user, who must be able to reach its directory below Dir.
	if err := os.MkdirAll(c.logDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chmod(o.Dir, 0o755); err != nil {
		return nil, err
	}
	if err := c.startServers(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.setup(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// startServers starts PostgreSQL, Temporal and the S3 server, and chooses the configuration of
// the LabelFlow processes that reach them.
func (c *Cluster) startServers(ctx context.Context) error {
	certs, err := newFrontendTLS(c.opts.Dir)
	if err != nil {
		return err
	}
	pgPort, err := devstack.FreePort()
	if err != nil {
		return err
	}
	if c.postgres, err = startPostgres(ctx, filepath.Join(c.opts.Dir, "postgresql"), c.logDir, pgPort); err != nil {
		return err
	}
	temporalBin := filepath.Join(c.opts.BinDir, "temporal-server")
	if err := setupTemporalSchema(ctx, temporalBin, pgPort); err != nil {
		return err
	}
	var address string
	var metricsPort int
	if c.temporal, address, metricsPort, err = startTemporal(ctx, temporalBin, c.opts.Dir, c.logDir, pgPort, c.opts.HistoryShards, certs); err != nil {
		return err
	}
	c.TemporalMetricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	// Every key is made now, for this cluster: none of the embedded stack's dev values remain.
	if cfg, err = productionTrust(cfg, c.opts.Dir); err != nil {
		return err
	}
	versitygw := filepath.Join(c.opts.BinDir, "versitygw")
	if c.s3, cfg.StoreEndpoint, err = startS3(ctx, versitygw, c.opts.Dir, c.logDir, cfg); err != nil {
		return err
	}
	client, err := newAccount()
	if err != nil {
		return err
	}
	if err := createClientBucket(ctx, versitygw, cfg, client, demo.ClientBucket); err != nil {
		return err
	}
	if cfg, err = writeClientFiles(cfg, c.opts.Dir, demo.IntakeBucket, demo.ClientBucket, cfg.StoreEndpoint, client); err != nil {
		return err
	}
	cfg.TemporalAddress, cfg.TemporalNamespace = address, "labelflow"
	cfg.TemporalTLS, cfg.TemporalTLSCA = true, certs.CAFile
	cfg.BinDir, cfg.LogLevel = c.opts.BinDir, "warn"
	c.Cfg = demo.LiftLimitsForSimulatedCrowd(cfg)
	if err := c.Cfg.Check(); err != nil {
		return fmt.Errorf("the cluster's production configuration: %w", err)
	}
	return nil
}

// createClientBucket gives the client an account of its own on the S3 server, apart from the
// platform store's keys, and creates its delivery bucket, owned by that account.
func createClientBucket(ctx context.Context, bin string, cfg config.Config, client account, bucket string) error {
	for _, args := range [][]string{
		{"create-user", "--access", client.AccessKey, "--secret", client.SecretKey, "--role", "user"},
		{"create-bucket", "--owner", client.AccessKey, "--bucket", bucket},
	} {
		cmd := exec.CommandContext(ctx, bin, append([]string{"admin", "--endpoint-url", cfg.StoreEndpoint}, args...)...)
		// The root account's keys go in the environment, not on the command line.
		cmd.Env = []string{"ADMIN_ACCESS_KEY=" + cfg.StoreAccessKey, "ADMIN_SECRET_KEY=" + cfg.StoreSecretKey, "PATH=" + os.Getenv("PATH")}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("versitygw admin %s: %w\n%s", args[0], err, out)
		}
	}
	return nil
}

// startS3 starts versitygw on a free port with cfg's store credentials as its root account, its
// objects in dir/s3 and its accounts (the client's) in dir/iam.
func startS3(ctx context.Context, bin, dir, logDir string, cfg config.Config) (*process, string, error) {
	port, err := devstack.FreePort()
	if err != nil {
		return nil, "", err
	}
	data, meta, iam := filepath.Join(dir, "s3"), filepath.Join(dir, "meta"), filepath.Join(dir, "iam")
	for _, d := range []string{data, meta, iam} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, "", err
		}
	}
	address := "127.0.0.1:" + strconv.Itoa(port)
	p := &process{name: "versitygw", logFile: filepath.Join(logDir, "versitygw.log"),
		// Object metadata in a sidecar directory: no need for extended attributes on the disk.
		argv: []string{bin, "--port", address, "--iam-dir", iam, "posix", "--sidecar", meta, data},
		env:  []string{"ROOT_ACCESS_KEY=" + cfg.StoreAccessKey, "ROOT_SECRET_KEY=" + cfg.StoreSecretKey, "PATH=" + os.Getenv("PATH")}}
	if err := p.start(); err != nil {
		return nil, "", err
	}
	if err := waitTCP(ctx, address, 30*time.Second, p); err != nil {
		p.stop()
		return nil, "", err
	}
	return p, "http://" + address, nil
}

// setup runs `labelflow setup` (namespace and search attributes), connects App, creates the
// platform and intake buckets, runs `labelflow config --check`, and imports the staff.
func (c *Cluster) setup(ctx context.Context) error {
	out, err := c.labelflow(ctx, "setup", "--retention", "24h")
	if err != nil {
		return fmt.Errorf("labelflow setup: %w\n%s", err, out)
	}
	c.opts.Log.Info().Str("output", out).Msg("labelflow setup")
	if c.App, err = app.Open(ctx, c.Cfg, c.opts.Log); err != nil {
		return err
	}
	for _, b := range []string{c.Cfg.StoreBucket, demo.IntakeBucket} {
		if err := c.App.Store.EnsureBucket(ctx, b); err != nil {
			return fmt.Errorf("bucket %s: %w", b, err)
		}
	}
	if err := c.checkConfig(ctx); err != nil {
		return err
	}
	return c.importStaff(ctx)
}

func (c *Cluster) labelflowBin() string { return filepath.Join(c.opts.BinDir, "labelflow") }

// environ is the environment of a LabelFlow process: the cluster's configuration, and extra.
func (c *Cluster) environ(extra ...string) []string {
	env := append(demo.Environ(c.Cfg), "PATH="+os.Getenv("PATH"), "HOME="+os.Getenv("HOME"))
	return append(env, extra...)
}

// Roles of the LabelFlow processes.
const (
	RoleWorkflows  = "workflows"
	RoleActivities = "activities"
	RoleAll        = "all"
	RoleGateway    = "gateway"
)

// Member is one LabelFlow process of the cluster: a worker of a role, or a gateway.
type Member struct {
	*process
	Role string
	// URL is where its /readyz and /metrics are: the worker's health listener, or the gateway.
	URL string
}

// StartMember starts a LabelFlow process of role, named name, and waits until it is ready.
func (c *Cluster) StartMember(ctx context.Context, name, role string) (*Member, error) {
	port, err := devstack.FreePort()
	if err != nil {
		return nil, err
	}
	address := "127.0.0.1:" + strconv.Itoa(port)
	m := &Member{Role: role, URL: "http://" + address}
	var argv, extra []string
	if role == RoleGateway {
		argv = []string{c.labelflowBin(), "gateway"}
		extra = []string{"LABELFLOW_GATEWAY_LISTEN=" + address, "LABELFLOW_GATEWAY_URL=" + m.URL}
	} else {
		argv = []string{c.labelflowBin(), "worker"}
		extra = []string{"LABELFLOW_WORKER_ROLE=" + role, "LABELFLOW_WORKER_HEALTH_LISTEN=" + address}
	}
	m.process = &process{name: name, argv: argv, env: c.environ(extra...), logFile: filepath.Join(c.logDir, name+".log")}
	if err := m.start(); err != nil {
		return nil, err
	}
	c.members = append(c.members, m)
	return m, m.WaitReady(ctx)
}

// WaitReady waits up to a minute for the process's /readyz to answer 200.
func (m *Member) WaitReady(ctx context.Context) error {
	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if !m.running() {
			return fmt.Errorf("%s exited while starting:\n%s", m.name, m.logTail(20))
		}
		if resp, err := hc.Get(m.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after a minute:\n%s", m.name, m.logTail(20))
}

// Kill ends the process with SIGKILL.
func (m *Member) Kill() error { return m.kill() }

// Restart starts the process again, as it was started before, and returns without waiting.
func (m *Member) Restart() error { return m.start() }

// Name is the process's name, that of its log file.
func (m *Member) Name() string { return m.name }

// PeakRSS is the highest peak resident set read from the process, in bytes.
func (m *Member) PeakRSS() int64 { m.sample(); return m.peak() }

// CPUSeconds is the CPU time the process used over all its runs.
func (m *Member) CPUSeconds() float64 { return m.cpuSeconds() }

// StopMembers stops every LabelFlow process, leaving the servers running.
func (c *Cluster) StopMembers() {
	for _, m := range c.members {
		m.stop()
	}
	c.members = nil
}

// ServerPeakRSS is the highest peak resident set of each server, in bytes.
func (c *Cluster) ServerPeakRSS() map[string]int64 {
	out := map[string]int64{}
	for _, p := range []*process{c.postgres, c.temporal, c.s3} {
		if p != nil {
			p.sample()
			out[p.name] = p.peak()
		}
	}
	return out
}

// ServerCPUSeconds is the CPU time each server has used so far.
func (c *Cluster) ServerCPUSeconds() map[string]float64 {
	out := map[string]float64{}
	for _, p := range []*process{c.postgres, c.temporal, c.s3} {
		if p != nil {
			out[p.name] = p.cpuSeconds()
		}
	}
	return out
}

// Stop stops the LabelFlow processes, then the servers.
func (c *Cluster) Stop() {
	c.StopMembers()
	if c.App != nil {
		c.App.Close()
	}
	for _, p := range []*process{c.s3, c.temporal, c.postgres} {
		if p != nil {
			p.stop()
		}
	}
}
