// Package demo runs LabelFlow on the embedded stack: a real Temporal dev server and a real S3
// server as child processes, with the worker and the gateway in this process. `labelflow dev`,
// `labelflow demo` and the integration tests all start it the same way.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/app"
	"github.com/labelflow/labelflow/internal/devstack"
	"github.com/labelflow/labelflow/internal/gateway"
)

// IntakeBucket holds client datasets in the platform store; ClientBucket stands in for a
// client's own bucket.
const (
	IntakeBucket = "labelflow-intake"
	ClientBucket = "client-acme"
)

// Env is a running embedded stack.
type Env struct {
	Cfg        config.Config
	Stack      *devstack.Stack
	App        *app.App
	GatewayURL string

	cancel context.CancelFunc
	done   chan error
	server *http.Server
	// Worker is the worker child process, when one was asked for.
	Worker *exec.Cmd
}

// StackOptions choose ports; zero picks free ones.
type StackOptions struct {
	DataDir      string
	TemporalPort int
	UIPort       int
	S3Port       int
	GatewayAddr  string // host:port; "" picks a free port
	Headless     bool
	// WorkerCommand, when set, runs the worker as a child process (so that its memory can be
	// measured on its own) instead of inside this process.
	WorkerCommand []string
}

// Start launches the servers, the worker and the gateway, and rewrites cfg to point at them.
func Start(ctx context.Context, cfg config.Config, o StackOptions, log zerolog.Logger) (*Env, error) {
	st, err := devstack.Start(ctx, devstack.Options{
		BinDir: cfg.BinDir, DataDir: o.DataDir, TemporalPort: o.TemporalPort, TemporalUIPort: o.UIPort,
		Headless: o.Headless, S3Port: o.S3Port, AccessKey: cfg.StoreAccessKey, SecretKey: cfg.StoreSecretKey,
		Buckets: []string{cfg.StoreBucket, IntakeBucket, ClientBucket}, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	cfg.TemporalAddress = st.TemporalAddress
	cfg.TemporalUIURL = st.TemporalUIURL
	cfg.StoreEndpoint = st.S3Endpoint
	if o.GatewayAddr == "" {
		port, err := devstack.FreePort()
		if err != nil {
			st.Stop()
			return nil, err
		}
		o.GatewayAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	cfg.GatewayListen = o.GatewayAddr
	cfg.GatewayURL = "http://" + o.GatewayAddr
	a, err := app.Open(ctx, cfg, log)
	if err != nil {
		st.Stop()
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	e := &Env{Cfg: cfg, Stack: st, App: a, GatewayURL: cfg.GatewayURL, cancel: cancel, done: make(chan error, 1)}
	if len(o.WorkerCommand) > 0 {
		if err := e.startWorkerProcess(rctx, o.WorkerCommand); err != nil {
			e.Stop()
			return nil, err
		}
	} else {
		go func() { e.done <- a.RunWorker(rctx) }()
	}
	g, err := gateway.New(a)
	if err != nil {
		e.Stop()
		return nil, err
	}
	ln, err := gateway.Listen(o.GatewayAddr, cfg.GatewayMaxConns)
	if err != nil {
		e.Stop()
		return nil, err
	}
	e.server = gateway.NewServer(g)
	go func() {
		if err := e.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("gateway stopped")
		}
	}()
	return e, nil
}

// LiftLimitsForSimulatedCrowd returns cfg with the gateway's per-person and per-address request
// limits lifted. They are made for people; a simulated crowd works without pause, all from this
// host, and under them a demo, a bench or a test would measure the limits, not the engine. The
// gateway's own tests try the limits.
func LiftLimitsForSimulatedCrowd(cfg config.Config) config.Config {
	cfg.GatewayRatePerToken, cfg.GatewayRatePerIP = "100000/s,100000", "100000/s,100000"
	return cfg
}

// Stop shuts down gateway, worker and servers.
func (e *Env) Stop() {
	if e.server != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = e.server.Shutdown(sctx)
		cancel()
	}
	e.cancel()
	select {
	case <-e.done:
	case <-time.After(15 * time.Second):
	}
	e.App.Close()
	_ = e.Stack.Stop()
}

// DataDir returns a per-run state directory below base.
func DataDir(base, name string) string {
	return filepath.Join(base, name)
}

func (e *Env) startWorkerProcess(ctx context.Context, command []string) error {
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Env = append(os.Environ(),
		"LABELFLOW_TEMPORAL_ADDRESS="+e.Cfg.TemporalAddress,
		"LABELFLOW_STORE_ENDPOINT="+e.Cfg.StoreEndpoint,
		"LABELFLOW_LOG_LEVEL=warn",
	)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start worker process: %w", err)
	}
	e.Worker = cmd
	go func() { e.done <- cmd.Wait() }()
	return nil
}
