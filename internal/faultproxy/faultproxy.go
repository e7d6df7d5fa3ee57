// Package faultproxy is an HTTP reverse proxy that injects faults, to test that deliveries to
// object stores survive failing servers.
//
// Faults are decided by a request counter, never at random, so a test knows exactly which
// requests fail. Everything that is not faulted is forwarded unchanged: method, path, query,
// headers (the Host header included, so that SigV4 signatures computed by the client for the
// proxy's address still verify on the server behind it), body, and the response's status,
// headers and body, both bodies streamed.
package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Faults says which requests fail. Only requests whose method is in Methods (all requests when
// Methods is empty) are eligible, and they are numbered 1, 2, 3, ... in arrival order:
//
//   - eligible requests 1..FailFirst get 503 Service Unavailable;
//   - the next LoseFirst eligible requests reach the server and their answers are lost;
//   - after those, counting again from 1, every DropEvery-th eligible request has its body read
//     and its connection closed without any response;
//   - and every Every-th eligible request (same count, when not dropped) gets 500 Internal
//     Server Error.
//
// For example FailFirst 2, Every 3 fails eligible requests 1 and 2 with 503, then 5, 8, 11, ...
// with 500. Faulted responses carry an S3-style XML error body (SlowDown, InternalError), and the
// request body is read before they are sent.
//
// Go's HTTP client silently resends a GET, HEAD, OPTIONS or TRACE whose reused keep-alive
// connection is closed without a response; the proxy counts the resent request as a new one.
type Faults struct {
	FailFirst int // the first N eligible requests get 503
	// LoseFirst: the next N eligible requests after those reach the server, which acts on them,
	// and their answers are lost: the connection closes without a response.
	LoseFirst int
	// OnLost, when set, is called for each such request once the server has answered, before
	// the connection closes.
	OnLost func(*http.Request)
	// BytesPerSecond, when positive, is the speed of the link: request bodies, faulted or not,
	// are read no faster, all connections sharing it.
	BytesPerSecond int
	Every          int      // then every Nth eligible request gets 500 (0 = never)
	DropEvery      int      // then every Nth eligible request is dropped after its body is read (0 = never)
	Methods        []string // only these methods are faulted (case-insensitive); empty = all
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	URL string // http://127.0.0.1:port

	faults Faults
	srv    *http.Server
	ln     net.Listener
	rp     *httputil.ReverseProxy
	done   chan struct{}

	mu                                          sync.Mutex
	requests, eligible, n503, n500, drops, lost int
	link                                        *link
}

// Start listens on a free 127.0.0.1 port and forwards to target (http://host:port, optionally
// with a base path that is prefixed to request paths).
func Start(target string, f Faults) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: target: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q must be an http(s) URL with a host", target)
	}
	if f.FailFirst < 0 || f.LoseFirst < 0 || f.Every < 0 || f.DropEvery < 0 || f.BytesPerSecond < 0 {
		return nil, errors.New("faultproxy: fault counts must not be negative")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Pass bodies as the server encodes them: no transparent gzip on the way back.
	transport.DisableCompression = true
	p := &Proxy{
		URL:    "http://" + ln.Addr().String(),
		faults: f,
		ln:     ln,
		done:   make(chan struct{}),
	}
	if f.BytesPerSecond > 0 {
		p.link = &link{rate: f.BytesPerSecond}
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// Keep the Host the client sent (and signed), not the target's.
			pr.Out.Host = pr.In.Host
			// Forwarding headers the client itself sent go through as they are.
			for _, h := range forwardingHeaders {
				if v, ok := pr.In.Header[h]; ok {
					pr.Out.Header[h] = v
				}
			}
		},
		Transport:     transport,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// forwardingHeaders are dropped by httputil.ReverseProxy before Rewrite; the proxy restores
// them so that it adds nothing and removes nothing of its own.
var forwardingHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}

type fault int

const (
	pass fault = iota
	fail503
	fail500
	drop
	lose
)

// decide counts r and says what happens to it.
func (p *Proxy) decide(r *http.Request) fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if !p.eligibleMethod(r.Method) {
		return pass
	}
	p.eligible++
	n := p.eligible
	f := p.faults
	if n <= f.FailFirst {
		p.n503++
		return fail503
	}
	if n <= f.FailFirst+f.LoseFirst {
		p.lost++
		return lose
	}
	m := n - f.FailFirst - f.LoseFirst
	if f.DropEvery > 0 && m%f.DropEvery == 0 {
		p.drops++
		return drop
	}
	if f.Every > 0 && m%f.Every == 0 {
		p.n500++
		return fail500
	}
	return pass
}

func (p *Proxy) eligibleMethod(method string) bool {
	if len(p.faults.Methods) == 0 {
		return true
	}
	for _, m := range p.faults.Methods {
		if strings.EqualFold(m, method) {
			return true
		}
	}
	return false
}

// ServeHTTP handles one request to the proxy.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.link != nil && r.Body != nil && r.Body != http.NoBody {
		r.Body = &slowBody{ReadCloser: r.Body, link: p.link}
	}
	switch p.decide(r) {
	case fail503:
		drain(r)
		writeS3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate. (injected fault)")
	case fail500:
		drain(r)
		writeS3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again. (injected fault)")
	case drop:
		drain(r)
		closeConn(w)
	case lose:
		p.rp.ServeHTTP(&discarded{header: http.Header{}}, r)
		if p.faults.OnLost != nil {
			p.faults.OnLost(r)
		}
		closeConn(w)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// closeConn closes the request's connection without a response.
func closeConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// Only HTTP/2 lacks hijacking; abort the stream instead.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// discarded takes the server's answer to a request whose answer is lost.
type discarded struct{ header http.Header }

func (d *discarded) Header() http.Header         { return d.header }
func (d *discarded) Write(b []byte) (int, error) { return len(b), nil }
func (d *discarded) WriteHeader(int)             {}

// link paces the bytes of every connection through one shared rate.
type link struct {
	rate int
	mu   sync.Mutex
	free time.Time // when the link has sent every byte handed to it so far
}

// linkChunk bounds one read, so that the pace stays smooth and connections take turns.
const linkChunk = 16 << 10

// wait blocks until n more bytes have crossed the link.
func (l *link) wait(n int) {
	l.mu.Lock()
	now := time.Now()
	if l.free.Before(now) {
		l.free = now
	}
	l.free = l.free.Add(time.Duration(n) * time.Second / time.Duration(l.rate))
	until := l.free
	l.mu.Unlock()
	time.Sleep(time.Until(until))
}

// slowBody is a request body read at the link's speed.
type slowBody struct {
	io.ReadCloser
	link *link
}

func (b *slowBody) Read(p []byte) (int, error) {
	if len(p) > linkChunk {
		p = p[:linkChunk]
	}
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.link.wait(n)
	}
	return n, err
}

func drain(r *http.Request) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

// Lost returns how many requests reached the server and had their answers lost.
func (p *Proxy) Lost() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost
}

// Stats returns how many requests arrived and how many were faulted, by kind.
func (p *Proxy) Stats() (requests, injected503, injected500, dropped int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests, p.n503, p.n500, p.drops
}

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	<-p.done
	return err
}
