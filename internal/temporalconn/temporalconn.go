// Package temporalconn builds the options every LabelFlow process reaches Temporal with, from the
// LABELFLOW_TEMPORAL_* and payload encryption settings: the frontend's address and the namespace,
// TLS with a private CA and a server name, mTLS client certificates, an API key (Temporal Cloud),
// and the data converter that encrypts payloads. Each setting that cannot be used is reported by
// name when the process starts, not at its first call.
package temporalconn

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"

	"go.temporal.io/sdk/client"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/codec"
)

// ClientOptions are the client options cfg describes, without a logger. The worker takes its
// data converter from the client, so whatever a process writes to Temporal is encrypted alike.
func ClientOptions(cfg config.Config) (client.Options, error) {
	o := client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace}
	var err error
	if o.ConnectionOptions.TLS, err = TLSConfig(cfg.Temporal); err != nil {
		return o, err
	}
	if cfg.TemporalAPIKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	c, err := Codec(cfg)
	if err != nil {
		return o, err
	}
	if c != nil {
		o.DataConverter = codec.DataConverter(c)
		o.FailureConverter = codec.FailureConverter(o.DataConverter)
	}
	return o, nil
}

// Codec is the payload codec of cfg's keys; nil where no keys are set (payloads in clear).
func Codec(cfg config.Config) (*codec.Codec, error) {
	keys, err := codec.LoadKeys(cfg.PayloadKeys, cfg.PayloadKeysFile)
	if err != nil || keys == nil {
		return nil, configErr(err)
	}
	c, err := codec.New(keys)
	return c, configErr(err)
}

// TLSConfig is the TLS configuration of t; nil when TLS is off.
func TLSConfig(t config.Temporal) (*tls.Config, error) {
	if !t.TemporalTLS {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.TemporalTLSServer}
	if t.TemporalTLSCA != "" {
		pool, err := caPool(t.TemporalTLSCA)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = pool
	}
	if t.TemporalTLSCert != "" || t.TemporalTLSKey != "" {
		pair, err := newKeyPair(t.TemporalTLSCert, t.TemporalTLSKey)
		if err != nil {
			return nil, err
		}
		conf.GetClientCertificate = pair.get
	}
	return conf, nil
}

func caPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, configErr(fmt.Errorf("LABELFLOW_TEMPORAL_TLS_CA: %w", err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, configErr(fmt.Errorf("LABELFLOW_TEMPORAL_TLS_CA %s holds no PEM certificate", file))
	}
	return pool, nil
}

// keyPair is the client certificate, read again at each handshake: certificates issued for days
// (cert-manager, Vault) are renewed in place while the process runs. A renewal caught half
// written keeps the last good pair.
type keyPair struct {
	certFile, keyFile string
	mu                sync.Mutex
	last              *tls.Certificate
}

func newKeyPair(certFile, keyFile string) (*keyPair, error) {
	k := &keyPair{certFile: certFile, keyFile: keyFile}
	for _, f := range []struct{ name, file string }{{"LABELFLOW_TEMPORAL_TLS_CERT", certFile}, {"LABELFLOW_TEMPORAL_TLS_KEY", keyFile}} {
		if _, err := os.Stat(f.file); err != nil {
			return nil, configErr(fmt.Errorf("%s: %w", f.name, err))
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, configErr(fmt.Errorf("LABELFLOW_TEMPORAL_TLS_CERT and LABELFLOW_TEMPORAL_TLS_KEY: %w", err))
	}
	k.last = &cert
	return k, nil
}

func (k *keyPair) get(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if cert, err := tls.LoadX509KeyPair(k.certFile, k.keyFile); err == nil {
		k.last = &cert
	}
	return k.last, nil
}

// configErr marks an error as the configuration's, as config.Load does.
func configErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("configuration: %w", err)
}
