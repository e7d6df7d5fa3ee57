package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// check refuses Temporal connection settings that contradict each other. Files are read where
// the connection is made (internal/temporalconn), which names the setting of a file it cannot use.
func (t Temporal) check() error {
	switch {
	case t.TemporalAddress == "":
		return errors.New("LABELFLOW_TEMPORAL_ADDRESS is empty; give the frontend's host:port")
	case t.TemporalNamespace == "":
		return errors.New("LABELFLOW_TEMPORAL_NAMESPACE is empty")
	case t.TemporalAPIKey != "" && !t.TemporalTLS:
		return errors.New("LABELFLOW_TEMPORAL_API_KEY is set but LABELFLOW_TEMPORAL_TLS is not true: an API key is never sent in clear")
	case t.TemporalTLSCert != "" && t.TemporalTLSKey == "":
		return errors.New("LABELFLOW_TEMPORAL_TLS_CERT is set without LABELFLOW_TEMPORAL_TLS_KEY: a client certificate needs its private key")
	case t.TemporalTLSKey != "" && t.TemporalTLSCert == "":
		return errors.New("LABELFLOW_TEMPORAL_TLS_KEY is set without LABELFLOW_TEMPORAL_TLS_CERT: a private key needs its client certificate")
	}
	if !t.TemporalTLS {
		for _, s := range []struct{ name, value string }{
			{"LABELFLOW_TEMPORAL_TLS_CA", t.TemporalTLSCA}, {"LABELFLOW_TEMPORAL_TLS_CERT", t.TemporalTLSCert}, {"LABELFLOW_TEMPORAL_TLS_SERVER_NAME", t.TemporalTLSServer},
		} {
			if s.value != "" {
				return fmt.Errorf("%s is set but LABELFLOW_TEMPORAL_TLS is not true; set LABELFLOW_TEMPORAL_TLS=true to connect over TLS", s.name)
			}
		}
	}
	return nil
}

// minCodecSecret is the shortest accepted codec server secret.
const minCodecSecret = 32

// checkEncryption: a production stack encrypts payloads unless told otherwise, in so many words.
func (c Config) checkEncryption() error {
	keys := c.PayloadKeys != "" || c.PayloadKeysFile != ""
	switch {
	case c.PayloadKeys != "" && c.PayloadKeysFile != "":
		return errors.New("LABELFLOW_PAYLOAD_KEYS and LABELFLOW_PAYLOAD_KEYS_FILE are both set; give the keys one way")
	case keys && c.PayloadPlaintext:
		return errors.New("LABELFLOW_PAYLOAD_PLAINTEXT=true contradicts the payload keys that are set; unset one of them")
	case c.Stack == StackProduction && !keys && !c.PayloadPlaintext:
		return errors.New("a production stack encrypts workflow payloads: set LABELFLOW_PAYLOAD_KEYS or LABELFLOW_PAYLOAD_KEYS_FILE (or LABELFLOW_PAYLOAD_PLAINTEXT=true to keep client data in clear in Temporal's histories)")
	case c.CodecSecret != "" && len(c.CodecSecret) < minCodecSecret:
		return fmt.Errorf("LABELFLOW_CODEC_SECRET must be at least %d bytes, got %d", minCodecSecret, len(c.CodecSecret))
	}
	return nil
}

// checkEmbeddedIsLocal refuses the embedded stack's dev secrets and dev profile anywhere but on
// this machine: the embedded stack is the default, so a process pointed at a real cluster without
// LABELFLOW_STACK=production would otherwise run there on secrets everyone knows.
func (c Config) checkEmbeddedIsLocal() error {
	if !c.Embedded() {
		return nil
	}
	if !loopback(c.TemporalAddress) {
		return fmt.Errorf("LABELFLOW_TEMPORAL_ADDRESS %s is not on this machine, but LABELFLOW_STACK is embedded (the default, with dev secrets): set LABELFLOW_STACK=production and its secrets", c.TemporalAddress)
	}
	if u, err := url.Parse(c.StoreEndpoint); err != nil || !loopback(u.Host) {
		return fmt.Errorf("LABELFLOW_STORE_ENDPOINT %s is not on this machine, but LABELFLOW_STACK is embedded (the default, with dev secrets): set LABELFLOW_STACK=production and its secrets", c.StoreEndpoint)
	}
	return nil
}

// loopback reports whether a host or host:port names this machine.
func loopback(hostPort string) bool {
	host := hostPort
	if h, _, err := net.SplitHostPort(hostPort); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CodecOriginList is the codec server's allowed browser origins: the setting, or else the
// Temporal UI's origin.
func (c Config) CodecOriginList() []string {
	var out []string
	for _, o := range strings.Split(c.CodecOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, strings.TrimSuffix(o, "/"))
		}
	}
	if len(out) > 0 {
		return out
	}
	if u, err := url.Parse(c.TemporalUIURL); err == nil && u.Scheme != "" && u.Host != "" {
		return []string{u.Scheme + "://" + u.Host}
	}
	return nil
}
