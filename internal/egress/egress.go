// Package egress guards the platform's outbound connections to addresses a client names
// (webhook URLs, delivery endpoints). A spec could otherwise point them at the platform's own
// network: the cloud metadata service, the object store, Temporal, anything on loopback or a
// private range. The guard checks the address actually dialled, after name resolution, so a
// redirect or a name that resolves differently at dial time (DNS rebinding) is caught too.
//
// The embedded stack (and LABELFLOW_EGRESS_ALLOW_PRIVATE) allows private addresses: there,
// everything runs on loopback.
package egress

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrRefused marks a connection or URL refused by the guard. Retrying cannot help.
var ErrRefused = errors.New("egress refused")

// Guard decides which addresses outbound calls may reach. The zero value refuses every address
// that is not public.
type Guard struct {
	// AllowPrivate lets calls reach loopback, private and link-local addresses (the embedded
	// stack, or LABELFLOW_EGRESS_ALLOW_PRIVATE).
	AllowPrivate bool
	// exempt is one address let through despite the rules; only tests set it, to reach a local
	// server and watch what happens next.
	exempt netip.AddrPort
}

// Named ranges that are never a client's endpoint. Metadata addresses come first so that the
// reason names them.
var refusedRanges = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("169.254.169.254/32"), "the cloud metadata service"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "the cloud metadata service"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT address"},
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use translation address"},
}

// Blocked reports whether ip is outside what a public endpoint may be, and why.
func Blocked(ip netip.Addr) (why string, blocked bool) {
	ip = ip.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	for _, r := range refusedRanges {
		if r.prefix.Contains(ip) {
			return r.what, true
		}
	}
	switch {
	case !ip.IsValid():
		return "not an address", true
	case ip.IsUnspecified():
		return "an unspecified address", true
	case ip.IsLoopback():
		return "a loopback address", true
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address", true
	case ip.IsPrivate():
		return "a private address", true
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address", true
	}
	return "", false
}

// CheckAddr refuses a dialled address ("ip:port") the guard does not allow.
func (g Guard) CheckAddr(address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read the address %q: %v", ErrRefused, address, err)
	}
	if g.AllowPrivate || (g.exempt.IsValid() && ap == g.exempt) {
		return nil
	}
	if why, blocked := Blocked(ap.Addr()); blocked {
		return fmt.Errorf("%w: %s is %s; client endpoints must be public", ErrRefused, ap.Addr(), why)
	}
	return nil
}

// Control is a net.Dialer Control function: it runs after name resolution, on the address the
// socket is about to connect to.
func (g Guard) Control(_, address string, _ syscall.RawConn) error {
	return g.CheckAddr(address)
}

// Dialer returns a dialer that refuses what the guard refuses.
func (g Guard) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: g.Control}
}

// Transport returns an HTTP transport whose every connection passes the guard. It ignores the
// proxy settings of the environment: a proxy would resolve and connect on the guard's behalf.
func (g Guard) Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	d := g.Dialer()
	t.DialContext = d.DialContext
	return t
}

// MaxRedirects is how many same-host redirects an HTTP client of the guard follows.
const MaxRedirects = 3

// HTTPClient returns a client for calls to client endpoints: guarded connections, and redirects
// followed only to the same scheme, host and port, at most MaxRedirects of them. Clients are
// shared per guard and timeout, so that their connections are reused.
func (g Guard) HTTPClient(timeout time.Duration) *http.Client {
	key := clientKey{g, timeout}
	if c, ok := clients.Load(key); ok {
		return c.(*http.Client)
	}
	c, _ := clients.LoadOrStore(key, &http.Client{Timeout: timeout, Transport: g.Transport(), CheckRedirect: sameHostRedirects})
	return c.(*http.Client)
}

type clientKey struct {
	guard   Guard
	timeout time.Duration
}

var clients sync.Map // clientKey → *http.Client

func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= MaxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrRefused, MaxRedirects)
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host) {
		return fmt.Errorf("%w: the endpoint redirected from %s://%s to %s://%s; redirects to another host are not followed",
			ErrRefused, first.Scheme, first.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// CheckURL refuses a URL that may not be called: not http(s), credentials in it, and, unless
// private addresses are allowed, plain http or a host that is a loopback, private or otherwise
// non-public address written out (names are checked when they are dialled).
func (g Guard) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: not a URL: %v", ErrRefused, err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%w: must be an https:// URL, got scheme %q", ErrRefused, u.Scheme)
	case u.User != nil:
		return fmt.Errorf("%w: must not carry a user name or password (credentials live in the delivery profiles file)", ErrRefused)
	case u.Hostname() == "":
		return fmt.Errorf("%w: has no host", ErrRefused)
	}
	if g.AllowPrivate {
		return nil
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%w: must be https:// (plain http is allowed only on the embedded stack)", ErrRefused)
	}
	return checkHost(u.Hostname())
}

// checkHost refuses a host written as a non-public address, or a name that is one by definition.
func checkHost(host string) error {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("%w: host %s is loopback; client endpoints must be public", ErrRefused, host)
	}
	if ip, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		if why, blocked := Blocked(ip); blocked {
			return fmt.Errorf("%w: host %s is %s; client endpoints must be public", ErrRefused, host, why)
		}
		return nil
	}
	// 2130706433, 0x7f.1 or 127.1 are addresses to some resolvers; no real host name looks so.
	if numericHost.MatchString(h) {
		return fmt.Errorf("%w: host %s looks like a numeric address; give a host name or a dotted IPv4 address", ErrRefused, host)
	}
	return nil
}

var numericHost = regexp.MustCompile(`^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*$`)
