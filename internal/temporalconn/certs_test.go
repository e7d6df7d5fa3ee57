package temporalconn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pki is a private CA with a server certificate for serverName and a client certificate, all
// written as PEM files in a test's directory.
type pki struct {
	dir                        string
	caFile, certFile, keyFile  string // the CA, and the client's certificate and key
	server                     tls.Certificate
	pool                       *x509.CertPool
	otherCAFile, otherCertFile string // a CA and a client certificate that have nothing to do with it
	otherKeyFile, garbageFile  string
	serverName                 string
	caKey                      *ecdsa.PrivateKey
	caCert                     *x509.Certificate
}

const serverName = "temporal.labelflow.test"

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), serverName: serverName}
	p.caCert, p.caKey = newCA(t, "LabelFlow test CA")
	p.pool = x509.NewCertPool()
	p.pool.AddCert(p.caCert)
	p.caFile = p.writeCert(t, "ca.pem", p.caCert.Raw)

	serverDER, serverKey := p.issue(t, p.caCert, p.caKey, serverName, x509.ExtKeyUsageServerAuth)
	p.server = tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}

	clientDER, clientKey := p.issue(t, p.caCert, p.caKey, "labelflow-worker", x509.ExtKeyUsageClientAuth)
	p.certFile, p.keyFile = p.writeCert(t, "client.pem", clientDER), p.writeKey(t, "client-key.pem", clientKey)

	otherCA, otherKey := newCA(t, "someone else's CA")
	p.otherCAFile = p.writeCert(t, "other-ca.pem", otherCA.Raw)
	otherDER, otherClientKey := p.issue(t, otherCA, otherKey, "intruder", x509.ExtKeyUsageClientAuth)
	p.otherCertFile, p.otherKeyFile = p.writeCert(t, "other.pem", otherDER), p.writeKey(t, "other-key.pem", otherClientKey)

	p.garbageFile = filepath.Join(p.dir, "garbage.pem")
	if err := os.WriteFile(p.garbageFile, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func (p *pki) issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func (p *pki) writeCert(t *testing.T, name string, der []byte) string {
	t.Helper()
	return p.write(t, name, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func (p *pki) writeKey(t *testing.T, name string, key *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, name, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func (p *pki) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	file := filepath.Join(p.dir, name)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// serverTLS is the frontend's side: its certificate, offering HTTP/2 (gRPC), and, when mutual,
// demanding a client certificate signed by the CA.
func (p *pki) serverTLS(mutual bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.server}, NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS12}
	if mutual {
		c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, p.pool
	}
	return c
}
