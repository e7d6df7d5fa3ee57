//go:build linux

// Package cluster runs LabelFlow as it runs in production, every part a process of its own on
// this machine: PostgreSQL, a Temporal server built from its Go module with TLS on its frontend,
// an S3 server, workflow workers, activity workers and gateways, each `labelflow` process started
// from the same binary with its settings in LABELFLOW_* variables. Processes can be killed with
// SIGKILL and started again, as an orchestrator would after a crash. The cluster test
// (cluster_test.go, `make cluster-test`) runs a project on it while it kills some of them. It is
// Linux's: it reads /proc, and PostgreSQL comes from Debian's packages.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/base64"
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
	if c.s3, cfg.StoreEndpoint, err = startS3(ctx, filepath.Join(c.opts.BinDir, "versitygw"), c.opts.Dir, c.logDir, cfg); err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	cfg.TemporalAddress, cfg.TemporalNamespace = address, "labelflow"
	cfg.TemporalTLS, cfg.TemporalTLSCA = true, certs.CAFile
	// Histories are encrypted, as in production: every process holds the same key.
	cfg.PayloadKeys = "cluster:" + base64.StdEncoding.EncodeToString(key)
	cfg.Clients, cfg.DeliveryProfiles = "", ""
	cfg.BinDir, cfg.LogLevel = c.opts.BinDir, "warn"
	c.Cfg = demo.LiftLimitsForSimulatedCrowd(cfg)
	return nil
}

// startS3 starts versitygw on a free port with cfg's store credentials, its objects in dir/s3.
func startS3(ctx context.Context, bin, dir, logDir string, cfg config.Config) (*process, string, error) {
	port, err := devstack.FreePort()
	if err != nil {
		return nil, "", err
	}
	data, meta := filepath.Join(dir, "s3"), filepath.Join(dir, "meta")
	for _, d := range []string{data, meta} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, "", err
		}
	}
	address := "127.0.0.1:" + strconv.Itoa(port)
	p := &process{name: "versitygw", logFile: filepath.Join(logDir, "versitygw.log"),
		// Object metadata in a sidecar directory: no need for extended attributes on the disk.
		argv: []string{bin, "--port", address, "posix", "--sidecar", meta, data},
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

// setup runs `labelflow setup` (namespace and search attributes), connects App and creates the
// buckets.
func (c *Cluster) setup(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, c.labelflowBin(), "setup", "--retention", "24h")
	cmd.Env = c.environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("labelflow setup: %w\n%s", err, out)
	}
	c.opts.Log.Info().Str("output", string(out)).Msg("labelflow setup")
	if c.App, err = app.Open(ctx, c.Cfg, c.opts.Log); err != nil {
		return err
	}
	for _, b := range []string{c.Cfg.StoreBucket, demo.IntakeBucket, demo.ClientBucket} {
		if err := c.App.Store.EnsureBucket(ctx, b); err != nil {
			return fmt.Errorf("bucket %s: %w", b, err)
		}
	}
	return nil
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
