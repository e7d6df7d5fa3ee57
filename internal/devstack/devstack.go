// Package devstack runs the servers LabelFlow depends on — a Temporal dev
// server and a versitygw S3 gateway — as child processes, for local
// development, demos and integration tests.
//
// Every server listens on 127.0.0.1 only, keeps its state under
// Options.DataDir, and uses ports chosen per stack, so several stacks can run
// side by side. Child processes live in their own process groups and, on
// Linux, are killed by the kernel if the LabelFlow process dies.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/rs/zerolog"
)

const (
	// DefaultAccessKey is the S3 root access key used when Options.AccessKey is empty.
	DefaultAccessKey = "labelflow"
	// DefaultSecretKey is the S3 root secret key used when Options.SecretKey is empty.
	DefaultSecretKey = "labelflow-dev-secret"

	// TemporalNamespace is the namespace the dev server registers at startup.
	TemporalNamespace = "default"

	// s3Region is the region versitygw serves by default.
	s3Region = "us-east-1"

	temporalReadyTimeout  = 60 * time.Second
	s3ReadyTimeout        = 30 * time.Second
	bucketSetupTimeout    = 30 * time.Second
	stopGracePeriod       = 10 * time.Second
	temporalProbeTimeout  = 5 * time.Second
	temporalProbeInterval = 250 * time.Millisecond
	s3ProbeTimeout        = 2 * time.Second
	s3ProbeInterval       = 100 * time.Millisecond
	dialTimeout           = time.Second
)

// temporalSearchAttributes are the custom search attributes LabelFlow
// workflows are indexed by. They are registered when the namespace is first
// created in a fresh database.
var temporalSearchAttributes = []string{
	"LabelFlowProject=Keyword",
	"LabelFlowClient=Keyword",
	"LabelFlowStage=Keyword",
}

// Options configures Start.
type Options struct {
	// BinDir is where the temporal and versitygw binaries live. A binary
	// missing there is looked up on PATH.
	BinDir string
	// DataDir is the state directory; it is created if needed. The Temporal
	// database (temporal.db) and the S3 data (s3/) live inside it.
	DataDir string
	// TemporalPort and TemporalUIPort are the Temporal frontend gRPC and Web
	// UI ports; 0 picks a free port.
	TemporalPort, TemporalUIPort int
	// Headless disables the Temporal Web UI.
	Headless bool
	// S3Port is the S3 API port; 0 picks a free port.
	S3Port int
	// AccessKey and SecretKey are the S3 root credentials; empty values
	// default to DefaultAccessKey and DefaultSecretKey.
	AccessKey, SecretKey string
	// Buckets are created, if missing, once S3 is up.
	Buckets []string
	// Logger receives the servers' output line by line at debug level, with
	// the field "proc" naming the server, plus lifecycle messages.
	Logger zerolog.Logger
}

// Stack is a running set of LabelFlow development servers.
type Stack struct {
	// TemporalAddress is the Temporal frontend gRPC address (host:port).
	TemporalAddress string
	// TemporalUIURL is the Temporal Web UI base URL; empty when headless.
	TemporalUIURL string
	// S3Endpoint is the S3 API base URL (http://host:port).
	S3Endpoint string
	// AccessKey and SecretKey are the S3 root credentials.
	AccessKey, SecretKey string

	// mu guards temporal and s3, which Restart replaces.
	mu       sync.Mutex
	temporal *proc
	s3       *proc

	// What Restart needs to start a server again as it was.
	opts               Options
	temporalBin, s3Bin string
	dataDir            string
	ports              stackPorts

	stopOnce sync.Once
	stopErr  error
}

// stackPorts are the TCP ports one stack listens on.
type stackPorts struct {
	temporalGRPC, temporalUI, temporalHTTP, temporalMetrics, s3 int
}

// Start launches the Temporal dev server and the S3 gateway, waits until both
// are ready, creates opts.Buckets and returns the running stack. On failure it
// stops whatever it started and returns an error naming the server at fault,
// including the last lines of that server's output.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	began := time.Now()
	if opts.AccessKey == "" {
		opts.AccessKey = DefaultAccessKey
	}
	if opts.SecretKey == "" {
		opts.SecretKey = DefaultSecretKey
	}
	if opts.DataDir == "" {
		return nil, errors.New("devstack: Options.DataDir is required")
	}

	temporalBin, err := findBinary(opts.BinDir, "temporal")
	if err != nil {
		return nil, err
	}
	vgwBin, err := findBinary(opts.BinDir, "versitygw")
	if err != nil {
		return nil, err
	}

	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("devstack: data directory: %w", err)
	}
	s3Dir := filepath.Join(dataDir, "s3")
	// versitygw refuses to start when its root directory does not exist.
	if err := os.MkdirAll(s3Dir, 0o755); err != nil {
		return nil, fmt.Errorf("devstack: creating data directory: %w", err)
	}

	ports, err := allocatePorts(opts)
	if err != nil {
		return nil, err
	}

	s := &Stack{
		TemporalAddress: hostPort(ports.temporalGRPC),
		S3Endpoint:      "http://" + hostPort(ports.s3),
		AccessKey:       opts.AccessKey,
		SecretKey:       opts.SecretKey,
		opts:            opts,
		temporalBin:     temporalBin,
		s3Bin:           vgwBin,
		dataDir:         dataDir,
		ports:           ports,
	}
	if !opts.Headless {
		s.TemporalUIURL = "http://" + hostPort(ports.temporalUI)
	}

	if err := s.startServers(ctx, opts, temporalBin, vgwBin, dataDir, ports); err != nil {
		return nil, err
	}
	opts.Logger.Info().
		Str("temporal", s.TemporalAddress).
		Str("temporal_ui", s.TemporalUIURL).
		Str("s3", s.S3Endpoint).
		Dur("startup", time.Since(began)).
		Msg("LabelFlow dev stack ready")
	return s, nil
}

// startServers starts Temporal and the S3 server side by side; when one fails, the other is
// interrupted and both are stopped, and the error names the server at fault.
func (s *Stack) startServers(ctx context.Context, opts Options, temporalBin, vgwBin, dataDir string, ports stackPorts) error {
	startCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		p   *proc
		err error
	}
	temporalDone := make(chan result, 1)
	s3Done := make(chan result, 1)
	go func() {
		p, err := startTemporal(startCtx, opts, temporalBin, dataDir, ports)
		if err != nil {
			cancel()
		}
		temporalDone <- result{p, err}
	}()
	go func() {
		p, err := startS3(startCtx, opts, vgwBin, dataDir, ports.s3)
		if err != nil {
			cancel()
		}
		s3Done <- result{p, err}
	}()
	t, v := <-temporalDone, <-s3Done
	s.temporal, s.s3 = t.p, v.p
	if t.err == nil && v.err == nil {
		return nil
	}
	_ = stopAll(stopGracePeriod, s.temporal, s.s3)
	if ctx.Err() != nil {
		return fmt.Errorf("devstack: startup canceled: %w", ctx.Err())
	}
	var errs []error
	for _, err := range []error{t.err, v.err} {
		// Skip errors that only say a server was interrupted because the other one failed.
		if err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return errors.Join(t.err, v.err)
	}
	return errors.Join(errs...)
}

// Stop terminates both servers (SIGTERM to each process group, SIGKILL after
// 10s) and waits for them to exit. It reports servers that had already exited
// on their own. Calling Stop again returns the first call's result.
func (s *Stack) Stop() error {
	if s == nil {
		return nil
	}
	s.stopOnce.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.stopErr = stopAll(stopGracePeriod, s.temporal, s.s3)
	})
	return s.stopErr
}

// FreePort returns a TCP port on 127.0.0.1 that is currently free.
//
// On systems that hand out ephemeral ports at random (Linux and most BSDs), the
// port is additionally parked in TIME_WAIT through a short loopback
// connection closed from the listening side: the kernel then will not hand it
// out again for port-0 binds for a while, whereas servers binding it
// explicitly with SO_REUSEADDR (as Go servers do) still can. This keeps
// consecutive calls, and concurrent stacks, from receiving the same port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devstack: finding a free port: %w", err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port

	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		c, err := net.DialTimeout("tcp", l.Addr().String(), dialTimeout)
		if err != nil {
			return 0, fmt.Errorf("devstack: finding a free port: %w", err)
		}
		defer c.Close()
		srv, err := l.Accept()
		if err != nil {
			return 0, fmt.Errorf("devstack: finding a free port: %w", err)
		}
		// Closing the server side first is what leaves it in TIME_WAIT.
		srv.Close()
	}
	return port, nil
}

// allocatePorts resolves every port the stack needs, picking distinct free
// ports for those not set in opts.
func allocatePorts(opts Options) (stackPorts, error) {
	used := map[int]bool{}
	for _, p := range []int{opts.TemporalPort, opts.TemporalUIPort, opts.S3Port} {
		if p != 0 {
			used[p] = true
		}
	}
	pick := func(requested int) (int, error) {
		if requested != 0 {
			return requested, nil
		}
		for range 20 {
			p, err := FreePort()
			if err != nil {
				return 0, err
			}
			if !used[p] {
				used[p] = true
				return p, nil
			}
		}
		return 0, errors.New("devstack: could not find enough distinct free ports")
	}

	var ps stackPorts
	var err error
	if ps.temporalGRPC, err = pick(opts.TemporalPort); err != nil {
		return ps, err
	}
	if !opts.Headless {
		if ps.temporalUI, err = pick(opts.TemporalUIPort); err != nil {
			return ps, err
		}
	}
	if ps.temporalHTTP, err = pick(0); err != nil {
		return ps, err
	}
	if ps.temporalMetrics, err = pick(0); err != nil {
		return ps, err
	}
	if ps.s3, err = pick(opts.S3Port); err != nil {
		return ps, err
	}
	return ps, nil
}

// findBinary locates name in binDir, falling back to PATH.
func findBinary(binDir, name string) (string, error) {
	file := name
	if runtime.GOOS == "windows" {
		file += ".exe"
	}
	if binDir != "" {
		candidate := filepath.Join(binDir, file)
		if fi, err := os.Stat(candidate); err == nil && fi.Mode().IsRegular() &&
			(runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0) {
			return filepath.Abs(candidate)
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return filepath.Abs(p)
	}
	where := "on PATH"
	if binDir != "" {
		where = fmt.Sprintf("in %s or on PATH", binDir)
	}
	return "", fmt.Errorf("devstack: %s binary not found %s; run `make tools`", name, where)
}

// startTemporal starts the Temporal dev server and waits until it serves the
// LabelFlow namespace (and the Web UI, unless headless).
func startTemporal(ctx context.Context, opts Options, bin, dataDir string, ports stackPorts) (*proc, error) {
	// The Temporal CLI reads presets from the user's TEMPORAL_* environment
	// variables and config files. None of those must leak into a dev stack
	// (e.g. a profile pointing at a TLS-enabled cluster would break the
	// readiness probe), so drop the variables and point the legacy env-file
	// option at a file that is never created.
	env := childEnv(func(key string) bool { return strings.HasPrefix(key, "TEMPORAL_") })
	noEnvFile := filepath.Join(dataDir, "temporal-cli-env-unused.yaml")

	args := []string{
		"server", "start-dev",
		"--db-filename", filepath.Join(dataDir, "temporal.db"),
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(ports.temporalGRPC),
		"--http-port", strconv.Itoa(ports.temporalHTTP),
		"--metrics-port", strconv.Itoa(ports.temporalMetrics),
		"--namespace", TemporalNamespace,
	}
	for _, sa := range temporalSearchAttributes {
		args = append(args, "--search-attribute", sa)
	}
	if opts.Headless {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(ports.temporalUI))
	}
	args = append(args, "--log-level", "warn", "--env-file", noEnvFile)

	grpcAddr := hostPort(ports.temporalGRPC)
	probeArgs := []string{
		"operator", "namespace", "describe",
		"--namespace", TemporalNamespace,
		"--address", grpcAddr,
		"--disable-config-file", "--disable-config-env",
		"--env-file", noEnvFile,
	}
	uiAddr := ""
	if !opts.Headless {
		uiAddr = hostPort(ports.temporalUI)
	}

	began := time.Now()
	p, err := startProcess(opts.Logger, "temporal", bin, args, env, dataDir)
	if err != nil {
		return nil, err
	}
	check := func(ctx context.Context) error {
		if err := dialTCP(ctx, grpcAddr); err != nil {
			return err
		}
		if err := runTemporalProbe(ctx, bin, probeArgs, env); err != nil {
			return err
		}
		if uiAddr != "" {
			if err := dialTCP(ctx, uiAddr); err != nil {
				return fmt.Errorf("web UI: %w", err)
			}
		}
		return nil
	}
	if err := waitReady(ctx, p, temporalReadyTimeout, temporalProbeInterval, check); err != nil {
		return p, err
	}
	opts.Logger.Debug().Str("proc", "temporal").Str("address", grpcAddr).
		Dur("startup", time.Since(began)).Msg("ready")
	return p, nil
}

// runTemporalProbe runs one `temporal operator namespace describe`.
func runTemporalProbe(ctx context.Context, bin string, args, env []string) error {
	ctx, cancel := context.WithTimeout(ctx, temporalProbeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.WaitDelay = time.Second
	setProcAttrs(cmd)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		if last := lastLine(out); last != "" {
			return fmt.Errorf("namespace describe: %w: %s", err, last)
		}
		return fmt.Errorf("namespace describe: %w", err)
	}
	return nil
}

// startS3 starts versitygw, waits until it answers S3 requests and creates the
// requested buckets.
func startS3(ctx context.Context, opts Options, bin, dataDir string, port int) (*proc, error) {
	listen := hostPort(port)
	s3Dir := filepath.Join(dataDir, "s3")
	// Only the credentials chosen here may configure the gateway: drop the
	// user's versitygw settings, including the alternative credential
	// variables that would take precedence over ROOT_ACCESS_KEY.
	env := childEnv(func(key string) bool {
		switch key {
		case "ROOT_ACCESS_KEY", "ROOT_ACCESS_KEY_ID", "ROOT_SECRET_KEY", "ROOT_SECRET_ACCESS_KEY",
			"LOGFILE", "WEBHOOK":
			return true
		}
		return strings.HasPrefix(key, "VGW_")
	}, "ROOT_ACCESS_KEY="+opts.AccessKey, "ROOT_SECRET_KEY="+opts.SecretKey)

	client, err := minio.New(listen, &minio.Options{
		Creds:        credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, ""),
		Secure:       false,
		Region:       s3Region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
	if err != nil {
		return nil, fmt.Errorf("devstack: versitygw: creating S3 client: %w", err)
	}
	check := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, s3ProbeTimeout)
		defer cancel()
		_, err := client.ListBuckets(ctx)
		return err
	}

	began := time.Now()
	start := func(extra ...string) (*proc, error) {
		// Keep-alive: without it the gateway closes the connection after every answer, and each
		// request of the platform's many small reads and writes pays a new connection.
		args := []string{"--port", listen, "--keep-alive", "posix"}
		args = append(args, extra...)
		args = append(args, s3Dir)
		p, err := startProcess(opts.Logger, "versitygw", bin, args, env, dataDir)
		if err != nil {
			return nil, err
		}
		return p, waitReady(ctx, p, s3ReadyTimeout, s3ProbeInterval, check)
	}

	p, err := start()
	if err != nil && p != nil && p.exited() && p.out.contains("xattr check failed") {
		// The posix backend keeps object metadata in extended attributes.
		// Some filesystems (e.g. tmpfs on older kernels) lack them; fall
		// back to a metadata sidecar directory there.
		sidecar := filepath.Join(dataDir, "s3-meta")
		opts.Logger.Warn().Str("proc", "versitygw").Str("sidecar", sidecar).
			Msg("data directory does not support extended attributes; keeping S3 metadata in a sidecar directory")
		if mkErr := os.MkdirAll(sidecar, 0o755); mkErr != nil {
			return p, fmt.Errorf("devstack: versitygw: creating sidecar directory: %w", mkErr)
		}
		p, err = start("--sidecar", sidecar)
	}
	if err != nil {
		return p, err
	}

	bctx, cancel := context.WithTimeout(ctx, bucketSetupTimeout)
	defer cancel()
	for _, bucket := range opts.Buckets {
		if err := ensureBucket(bctx, client, bucket); err != nil {
			if ctx.Err() != nil {
				return p, fmt.Errorf("devstack: versitygw: startup canceled: %w", ctx.Err())
			}
			return p, p.failure("%v", err)
		}
	}
	opts.Logger.Debug().Str("proc", "versitygw").Str("address", listen).
		Dur("startup", time.Since(began)).Msg("ready")
	return p, nil
}

// ensureBucket creates bucket unless it already exists.
func ensureBucket(ctx context.Context, client *minio.Client, bucket string) error {
	exists, err := client.BucketExists(ctx, bucket)
	if err != nil {
		return fmt.Errorf("checking bucket %q: %w", bucket, err)
	}
	if exists {
		return nil
	}
	if err := client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: s3Region}); err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "BucketAlreadyOwnedByYou", "BucketAlreadyExists":
			return nil
		}
		return fmt.Errorf("creating bucket %q: %w", bucket, err)
	}
	return nil
}

// waitReady polls check every interval until it succeeds, the process exits,
// timeout elapses or ctx is canceled.
func waitReady(ctx context.Context, p *proc, timeout, interval time.Duration, check func(context.Context) error) error {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Abort an in-flight check as soon as the process exits: something else
	// may own the port, and a probe talking to it would hang until timeout.
	checkCtx, cancelCheck := context.WithCancel(ctx)
	defer cancelCheck()
	go func() {
		select {
		case <-p.done:
			cancelCheck()
		case <-checkCtx.Done():
		}
	}()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()

	var lastErr error
	for {
		err := check(checkCtx)
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-p.done:
			return p.failure("exited before becoming ready")
		case <-ctx.Done():
			if parent.Err() != nil {
				return fmt.Errorf("devstack: %s: startup canceled: %w", p.name, parent.Err())
			}
			return p.failure("not ready after %s: %v", timeout, lastErr)
		case <-ticker.C:
		}
	}
}

// dialTCP checks that something accepts connections on addr.
func dialTCP(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// childEnv returns the current environment without the variables drop
// matches, followed by extra.
func childEnv(drop func(key string) bool, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		if !drop(key) {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func hostPort(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}
