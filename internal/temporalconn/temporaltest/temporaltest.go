// Package temporaltest starts a bare Temporal dev server for tests: the default namespace only,
// none of LabelFlow's search attributes, as a cluster is before `labelflow setup`.
package temporaltest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/internal/devstack"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
)

// Start starts a bare dev server for t, stopped when t ends, and returns its frontend address.
func Start(t testing.TB) string {
	t.Helper()
	bin := devstacktest.Binaries(t)
	dir := t.TempDir()
	ports := make([]int, 3)
	for i := range ports {
		p, err := devstack.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(filepath.Join(bin, "temporal"), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
		"--port", strconv.Itoa(ports[0]), "--http-port", strconv.Itoa(ports[1]), "--metrics-port", strconv.Itoa(ports[2]),
		"--db-filename", filepath.Join(dir, "temporal.db"), "--log-level", "warn",
		"--env-file", filepath.Join(dir, "no-env.yaml"), "--disable-config-file", "--disable-config-env")
	cmd.Env = withoutTemporalVariables()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	if err := waitServing(addr, done); err != nil {
		t.Fatalf("bare Temporal dev server on %s: %v\n%s", addr, err, out.String())
	}
	return addr
}

// waitServing waits until the server describes its default namespace.
func waitServing(addr string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var last error
	for {
		last = describeDefault(ctx, addr)
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return last
		case <-ctx.Done():
			return last
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func describeDefault(ctx context.Context, addr string) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: addr})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
	return err
}

// withoutTemporalVariables keeps the user's TEMPORAL_* presets out of the server.
func withoutTemporalVariables() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEMPORAL_") {
			env = append(env, kv)
		}
	}
	return env
}
