package gateway

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Bounds on what one client can make the server hold that are not settings.
const (
	maxHeaderBytes = 16 << 10
	maxHeaderWait  = 10 * time.Second
	// handlingTime bounds a request's work once it is read: a claim may try a few chunks, each
	// with one Update of at most updateTimeout.
	handlingTime = 4 * updateTimeout
)

// NewServer builds the gateway's HTTP server, the one both the embedded stack and `labelflow
// gateway` run. Its timeouts keep a slow or idle client from holding a connection:
// LABELFLOW_GATEWAY_READ_TIMEOUT to send a request, headers and body, and twice that idle
// between requests. Serve it on Listen's listener, which caps the connections.
func NewServer(g *Gateway) *http.Server {
	read := g.app.Cfg.GatewayReadTimeout
	return &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: min(read, maxHeaderWait),
		ReadTimeout:       read,
		WriteTimeout:      read + handlingTime,
		IdleTimeout:       2 * read,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// Listen opens the gateway's listener on addr. It holds at most maxConns connections at once
// (LABELFLOW_GATEWAY_MAX_CONNS); more wait in the system's accept queue, unserved, until one
// closes, so a flood of connections costs the gateway no more memory than maxConns do.
func Listen(addr string, maxConns int) (net.Listener, error) {
	if maxConns < 1 {
		return nil, fmt.Errorf("gateway: at least 1 connection must be allowed, got %d", maxConns)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return netutil.LimitListener(ln, maxConns), nil
}
