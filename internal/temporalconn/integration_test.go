package temporalconn

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/temporalconn/temporaltest"
)

// tlsFront terminates TLS in front of a plaintext frontend: the Temporal CLI's dev server has no
// TLS settings, so this stands where a cluster's TLS frontend would. With mutual set, it refuses
// a client without a certificate signed by the CA during the handshake, before any byte reaches
// the server.
func tlsFront(t *testing.T, p *pki, backend string, mutual bool) (addr string, handshakes func() int) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", p.serverTLS(mutual))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	ok := 0
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if err := conn.(*tls.Conn).Handshake(); err != nil {
					return
				}
				mu.Lock()
				ok++
				mu.Unlock()
				back, err := net.Dial("tcp", backend)
				if err != nil {
					return
				}
				defer back.Close()
				go func() { _, _ = io.Copy(back, conn) }()
				_, _ = io.Copy(conn, back)
			}()
		}
	}()
	return ln.Addr().String(), func() int { mu.Lock(); defer mu.Unlock(); return ok }
}

func dial(ctx context.Context, t config.Temporal) (client.Client, error) {
	o, err := ClientOptions(config.Config{Temporal: t})
	if err != nil {
		return nil, err
	}
	return client.DialContext(ctx, o)
}

var labelflowAttributes = []string{"LabelFlowProject", "LabelFlowClient", "LabelFlowStage"}

// Setup over mutual TLS on a bare server: the first run creates the namespace and registers the
// search attributes, the second changes nothing.
func TestSetupOverMutualTLS(t *testing.T) {
	p := newPKI(t)
	backend := temporaltest.Start(t)
	front, handshakes := tlsFront(t, p, backend, true)
	conn := config.Temporal{TemporalAddress: front, TemporalNamespace: "labelflow", TemporalTLS: true,
		TemporalTLSCA: p.caFile, TemporalTLSCert: p.certFile, TemporalTLSKey: p.keyFile, TemporalTLSServer: serverName}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := dial(ctx, conn)
	if err != nil {
		t.Fatalf("dial over mTLS: %v", err)
	}
	defer c.Close()
	if handshakes() == 0 {
		t.Fatal("connected without a TLS handshake at the front")
	}
	o := SetupOptions{Namespace: "labelflow", Retention: 72 * time.Hour, SearchAttributes: labelflowAttributes, Settle: 90 * time.Second}

	first, err := Setup(ctx, c, o)
	if err != nil {
		t.Fatalf("first setup: %v (%v)", err, first)
	}
	if !first[0].Changed || !strings.Contains(first[0].What, "namespace labelflow created") {
		t.Errorf("first setup did not create the namespace: %v", first)
	}
	if changed := countChanged(first); changed != 4 {
		t.Errorf("first setup changed %d things, want the namespace and 3 attributes: %v", changed, first)
	}
	attrs, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "labelflow"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range labelflowAttributes {
		if attrs.GetCustomAttributes()[name] != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			t.Errorf("%s not registered as Keyword: %v", name, attrs.GetCustomAttributes())
		}
	}
	ns, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "labelflow"})
	if err != nil || ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() != 72*time.Hour {
		t.Errorf("namespace: %v, %v", ns.GetConfig(), err)
	}

	second, err := Setup(ctx, c, o)
	if err != nil {
		t.Fatalf("second setup: %v", err)
	}
	if n := countChanged(second); n != 0 || len(second) != 4 {
		t.Errorf("second setup changed %d things: %v", n, second)
	}
}

// A namespace that exists with a search attribute of another type is reported, not altered.
func TestSetupRefusesAnAttributeOfAnotherType(t *testing.T) {
	backend := temporaltest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := dial(ctx, config.Temporal{TemporalAddress: backend, TemporalNamespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: "default",
		SearchAttributes: map[string]enumspb.IndexedValueType{"LabelFlowStage": enumspb.INDEXED_VALUE_TYPE_TEXT}}); err != nil {
		t.Fatal(err)
	}
	steps, err := Setup(ctx, c, SetupOptions{Namespace: "default", Retention: 24 * time.Hour, SearchAttributes: labelflowAttributes, Settle: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "LabelFlowStage is registered as Text") {
		t.Fatalf("setup = %v, %v", steps, err)
	}
	if steps[0].Changed {
		t.Errorf("the default namespace was created anew: %v", steps)
	}
}

// The front refuses whoever does not present the CA's client certificate, checks the server's
// name, and a client that does not know the CA refuses the server.
func TestMutualTLSRefusals(t *testing.T) {
	p := newPKI(t)
	backend := temporaltest.Start(t)
	front, handshakes := tlsFront(t, p, backend, true)
	good := config.Temporal{TemporalAddress: front, TemporalNamespace: "default", TemporalTLS: true,
		TemporalTLSCA: p.caFile, TemporalTLSCert: p.certFile, TemporalTLSKey: p.keyFile, TemporalTLSServer: serverName}
	for _, tc := range []struct {
		name   string
		change func(*config.Temporal)
		says   string
	}{
		// With TLS 1.3 the client may write before it reads the server's alert: it then sees the
		// connection closed rather than the alert. The front's count of handshakes tells.
		{"no client certificate", func(c *config.Temporal) { c.TemporalTLSCert, c.TemporalTLSKey = "", "" }, ""},
		{"a certificate of another CA", func(c *config.Temporal) { c.TemporalTLSCert, c.TemporalTLSKey = p.otherCertFile, p.otherKeyFile }, ""},
		{"a server the client's CA did not sign", func(c *config.Temporal) { c.TemporalTLSCA = p.otherCAFile }, "certificate signed by unknown authority"},
		{"another server name", func(c *config.Temporal) { c.TemporalTLSServer = "elsewhere.labelflow.test" }, "not elsewhere.labelflow.test"},
		{"plaintext", func(c *config.Temporal) { *c = config.Temporal{TemporalAddress: front, TemporalNamespace: "default"} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := good
			tc.change(&conn)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := dial(ctx, conn)
			if err == nil {
				_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
				c.Close()
			}
			if err == nil {
				t.Fatal("connected")
			}
			if errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("refused for another reason than %q: %v", tc.says, err)
			}
		})
	}
	if n := handshakes(); n != 0 {
		t.Errorf("the front completed %d handshakes with refused clients", n)
	}
}

func countChanged(steps []Step) int {
	return len(slices.DeleteFunc(slices.Clone(steps), func(s Step) bool { return !s.Changed }))
}
