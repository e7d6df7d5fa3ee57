package temporalconn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/codec"
)

func TestTLSFileMistakesNameTheirSetting(t *testing.T) {
	p := newPKI(t)
	missing := p.dir + "/missing.pem"
	for _, tc := range []struct {
		name string
		t    config.Temporal
		says string
	}{
		{"missing CA", config.Temporal{TemporalTLS: true, TemporalTLSCA: missing}, "LABELFLOW_TEMPORAL_TLS_CA: open"},
		{"CA not PEM", config.Temporal{TemporalTLS: true, TemporalTLSCA: p.garbageFile}, "LABELFLOW_TEMPORAL_TLS_CA " + p.garbageFile + " holds no PEM certificate"},
		{"missing certificate", config.Temporal{TemporalTLS: true, TemporalTLSCert: missing, TemporalTLSKey: p.keyFile}, "LABELFLOW_TEMPORAL_TLS_CERT: stat"},
		{"missing key", config.Temporal{TemporalTLS: true, TemporalTLSCert: p.certFile, TemporalTLSKey: missing}, "LABELFLOW_TEMPORAL_TLS_KEY: stat"},
		{"key of another certificate", config.Temporal{TemporalTLS: true, TemporalTLSCert: p.certFile, TemporalTLSKey: p.otherKeyFile}, "private key does not match public key"},
		{"certificate not PEM", config.Temporal{TemporalTLS: true, TemporalTLSCert: p.garbageFile, TemporalTLSKey: p.keyFile}, "LABELFLOW_TEMPORAL_TLS_CERT and LABELFLOW_TEMPORAL_TLS_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TLSConfig(tc.t)
			if err == nil || !strings.Contains(err.Error(), tc.says) || !strings.HasPrefix(err.Error(), "configuration: ") {
				t.Errorf("TLSConfig = %v, want a configuration error saying %q", err, tc.says)
			}
		})
	}
	if c, err := TLSConfig(config.Temporal{}); c != nil || err != nil {
		t.Errorf("TLS off = %v, %v", c, err)
	}
}

func TestClientOptions(t *testing.T) {
	p := newPKI(t)
	cfg := config.Config{Temporal: config.Temporal{TemporalAddress: "temporal:7233", TemporalNamespace: "labelflow",
		TemporalTLS: true, TemporalTLSCA: p.caFile, TemporalTLSCert: p.certFile, TemporalTLSKey: p.keyFile, TemporalTLSServer: serverName, TemporalAPIKey: "cloud-key"}}
	o, err := ClientOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.HostPort != "temporal:7233" || o.Namespace != "labelflow" || o.ConnectionOptions.TLS == nil || o.ConnectionOptions.TLS.ServerName != serverName ||
		o.ConnectionOptions.TLS.RootCAs == nil || o.ConnectionOptions.TLS.GetClientCertificate == nil || o.Credentials == nil {
		t.Errorf("options = %+v", o)
	}
	if o.DataConverter != nil {
		t.Error("a data converter without payload keys")
	}
	cfg.PayloadKeys = "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32))
	if o, err = ClientOptions(cfg); err != nil || o.DataConverter == nil || o.FailureConverter == nil {
		t.Fatalf("with payload keys: %+v, %v", o, err)
	}
	p1, _ := o.DataConverter.ToPayload("answer")
	if !codec.Encrypted(p1) {
		t.Error("the client's data converter does not encrypt")
	}
	cfg.PayloadKeys = "k1:short"
	if _, err := ClientOptions(cfg); err == nil || !strings.Contains(err.Error(), "configuration: LABELFLOW_PAYLOAD_KEYS") {
		t.Errorf("a bad payload key: %v", err)
	}
}

// frontend is a stand-in Temporal frontend over TLS that records the authorization header of
// each call: what Temporal Cloud checks the API key in.
type frontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	mu    sync.Mutex
	auths []string
}

func (f *frontend) GetSystemInfo(ctx context.Context, _ *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	f.record(ctx)
	return &workflowservice.GetSystemInfoResponse{}, nil
}

func (f *frontend) DescribeNamespace(ctx context.Context, _ *workflowservice.DescribeNamespaceRequest) (*workflowservice.DescribeNamespaceResponse, error) {
	f.record(ctx)
	return &workflowservice.DescribeNamespaceResponse{}, nil
}

func (f *frontend) record(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auths = append(f.auths, strings.Join(md.Get("authorization"), ","))
}

func TestAPIKeyTravelsOverTLS(t *testing.T) {
	p := newPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fe := &frontend{}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(p.serverTLS(false))))
	workflowservice.RegisterWorkflowServiceServer(srv, fe)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)

	key := make([]byte, 24)
	_, _ = rand.Read(key)
	apiKey := base64.RawURLEncoding.EncodeToString(key)
	cfg := config.Config{Temporal: config.Temporal{TemporalAddress: ln.Addr().String(), TemporalNamespace: "labelflow.acct",
		TemporalTLS: true, TemporalTLSCA: p.caFile, TemporalTLSServer: serverName, TemporalAPIKey: apiKey}}
	o, err := ClientOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "labelflow.acct"}); err != nil {
		t.Fatal(err)
	}
	fe.mu.Lock()
	defer fe.mu.Unlock()
	if len(fe.auths) < 2 {
		t.Fatalf("the frontend saw %d calls", len(fe.auths))
	}
	for i, a := range fe.auths {
		if a != "Bearer "+apiKey {
			t.Errorf("call %d carried authorization %q, want the API key", i, a)
		}
	}
}
