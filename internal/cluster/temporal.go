//go:build linux

package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/internal/devstack"
)

// temporalPorts are the TCP ports of the Temporal server's services: gRPC and membership of the
// frontend, history, matching and worker services, the frontend's HTTP API and Prometheus.
type temporalPorts struct {
	frontend, frontendMembership, frontendHTTP int
	history, historyMembership                 int
	matching, matchingMembership               int
	worker, workerMembership                   int
	metrics                                    int
}

// temporalConfig is the server's configuration: PostgreSQL for persistence and visibility, TLS
// on the frontend (Temporal's own services call the frontend over the same TLS), its metrics on
// a Prometheus endpoint.
func temporalConfig(pgPort int, p temporalPorts, shards int, certs frontendTLS, dynamicConfig string) string {
	store := func(db string, conns int) string {
		return fmt.Sprintf(`      sql:
        pluginName: postgres12
        databaseName: %s
        connectAddr: "127.0.0.1:%d"
        connectProtocol: tcp
        user: postgres
        maxConns: %d
        maxIdleConns: %d
        maxConnLifetime: 1h
`, db, pgPort, conns, conns)
	}
	service := func(name string, grpc, membership int, extra string) string {
		return fmt.Sprintf("  %s:\n    rpc:\n      grpcPort: %d\n      membershipPort: %d\n      bindOnLocalHost: true\n%s", name, grpc, membership, extra)
	}
	return fmt.Sprintf(`log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: %d
  datastores:
    default:
%s    visibility:
%sglobal:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "127.0.0.1:%d"
  tls:
    frontend:
      server:
        certFile: %s
        keyFile: %s
      client:
        serverName: localhost
        rootCaFiles: [%s]
services:
%s%s%s%sclusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:%d"
dcRedirectionPolicy:
  policy: noop
publicClient:
  hostPort: "127.0.0.1:%d"
dynamicConfigClient:
  filepath: %s
  pollInterval: 10s
`, shards, store("temporal", 20), store("temporal_visibility", 10), p.metrics, certs.CertFile, certs.KeyFile, certs.CAFile,
		service("frontend", p.frontend, p.frontendMembership, fmt.Sprintf("      httpPort: %d\n", p.frontendHTTP)),
		service("history", p.history, p.historyMembership, ""), service("matching", p.matching, p.matchingMembership, ""),
		service("worker", p.worker, p.workerMembership, ""), p.frontend, p.frontend, dynamicConfig)
}

// temporalDynamicConfig: newly registered search attributes are seen at once (labelflow setup
// registers them just before the first workflow sets them).
const temporalDynamicConfig = `system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
`

// setupTemporalSchema creates Temporal's two databases and brings their schemas to the server's
// version, with the server's own SQL tool and schema files (temporal-server sql-tool), as
// Temporal's auto-setup does.
func setupTemporalSchema(ctx context.Context, bin string, pgPort int) error {
	for _, db := range []struct{ name, schema string }{
		{"temporal", "postgresql/v12/temporal"}, {"temporal_visibility", "postgresql/v12/visibility"},
	} {
		base := []string{"sql-tool", "--plugin", "postgres12", "--ep", "127.0.0.1", "-p", strconv.Itoa(pgPort), "-u", "postgres", "--db", db.name}
		for _, step := range [][]string{{"create"}, {"setup-schema", "-v", "0.0"}, {"update-schema", "--schema-name", db.schema}} {
			cmd := exec.CommandContext(ctx, bin, append(append([]string{}, base...), step...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("temporal-server %s on %s: %w\n%s", step[0], db.name, err, out)
			}
		}
	}
	return nil
}

// startTemporal writes the server's configuration into dir and starts it; it is ready once a
// client that trusts only the cluster's CA gets a healthy answer from the frontend over TLS.
func startTemporal(ctx context.Context, bin, dir, logDir string, pgPort, shards int, certs frontendTLS) (*process, string, int, error) {
	var p temporalPorts
	for _, port := range []*int{&p.frontend, &p.frontendHTTP, &p.history, &p.matching, &p.worker, &p.metrics} {
		var err error
		if *port, err = devstack.FreePort(); err != nil {
			return nil, "", 0, err
		}
	}
	for _, port := range []*int{&p.frontendMembership, &p.historyMembership, &p.matchingMembership, &p.workerMembership} {
		var err error
		if *port, err = freeMembershipPort(); err != nil {
			return nil, "", 0, err
		}
	}
	dynamic := filepath.Join(dir, "dynamicconfig.yaml")
	if err := os.WriteFile(dynamic, []byte(temporalDynamicConfig), 0o644); err != nil {
		return nil, "", 0, err
	}
	cfgFile := filepath.Join(dir, "temporal.yaml")
	if err := os.WriteFile(cfgFile, []byte(temporalConfig(pgPort, p, shards, certs, dynamic)), 0o644); err != nil {
		return nil, "", 0, err
	}
	proc := &process{name: "temporal", argv: []string{bin, "--config", cfgFile}, env: os.Environ(), logFile: filepath.Join(logDir, "temporal.log")}
	if err := proc.start(); err != nil {
		return nil, "", 0, err
	}
	address := fmt.Sprintf("127.0.0.1:%d", p.frontend)
	if err := waitTemporal(ctx, address, certs.CAFile, proc); err != nil {
		proc.stop()
		return nil, "", 0, err
	}
	return proc, address, p.metrics, nil
}

// waitTemporal waits up to two minutes for the frontend to answer a health check over TLS.
func waitTemporal(ctx context.Context, address, caFile string, p *process) error {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	deadline := time.Now().Add(2 * time.Minute)
	var last error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if !p.running() {
			return fmt.Errorf("temporal server exited while starting:\n%s", p.logTail(30))
		}
		last = func() error {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			c, err := client.DialContext(dctx, client.Options{HostPort: address, Namespace: "temporal-system",
				ConnectionOptions: client.ConnectionOptions{TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}})
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.CheckHealth(dctx, &client.CheckHealthRequest{})
			return err
		}()
		if last == nil {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("temporal frontend %s not ready: %v\n%s", address, last, p.logTail(30))
}

// waitTCP waits until address accepts connections, or p exits.
func waitTCP(ctx context.Context, address string, timeout time.Duration, p *process) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if p != nil && !p.running() {
			return fmt.Errorf("%s exited while starting:\n%s", p.name, p.logTail(20))
		}
		if c, err := net.DialTimeout("tcp", address, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	tail := ""
	if p != nil {
		tail = p.logTail(20)
	}
	return fmt.Errorf("nothing listens on %s after %s\n%s", address, timeout, tail)
}

// freeMembershipPort finds a free TCP port below 32768: Temporal's SQL schema keeps membership
// ports in a smallint, and the kernel's ephemeral ports (FreePort's) lie above it.
func freeMembershipPort() (int, error) {
	for range 100 {
		port := 20000 + mathrand.IntN(12000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free TCP port between 20000 and 32000 for Temporal's membership")
}
