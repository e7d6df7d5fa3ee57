package egress

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBlockedAddresses(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want string // "" = public
	}{
		{"169.254.169.254", "metadata"},
		{"fd00:ec2::254", "metadata"},
		{"127.0.0.1", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"fc00::1", "private"},
		{"169.254.10.10", "link-local"},
		{"fe80::1", "link-local"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"239.1.2.3", "multicast"},
		{"ff05::1", "multicast"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"255.255.255.255", "reserved"},
		{"8.8.8.8", ""},
		{"172.32.0.1", ""},
		{"2606:4700::1111", ""},
	} {
		why, blocked := Blocked(netip.MustParseAddr(tc.ip))
		if blocked != (tc.want != "") || !strings.Contains(why, tc.want) {
			t.Errorf("%s: blocked=%v (%q), want %q", tc.ip, blocked, why, tc.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	prod, dev := Guard{}, Guard{AllowPrivate: true}
	for _, tc := range []struct {
		url       string
		prod, dev string // "" = accepted; else part of the error
	}{
		{"https://hooks.acme.example/labelflow", "", ""},
		{"https://s3.eu-west-1.amazonaws.com", "", ""},
		{"http://hooks.acme.example/x", "must be https", ""},
		{"https://169.254.169.254/latest/meta-data/", "metadata", ""},
		{"https://127.0.0.1:9000", "loopback", ""},
		{"https://[::1]:9000", "loopback", ""},
		{"https://localhost:9000", "loopback", ""},
		{"https://api.localhost", "loopback", ""},
		{"https://10.0.0.5", "private", ""},
		{"https://2130706433/", "numeric", ""},
		{"https://0x7f.1/", "numeric", ""},
		{"https://127.1/", "numeric", ""},
		{"https://user:pass@hooks.acme.example/", "user name or password", "user name or password"},
		{"ftp://hooks.acme.example/", "https://", "https://"},
		{"https:///nohost", "no host", "no host"},
	} {
		for _, g := range []struct {
			guard Guard
			want  string
		}{{prod, tc.prod}, {dev, tc.dev}} {
			err := g.guard.CheckURL(tc.url)
			if (err == nil) != (g.want == "") || err != nil && (!strings.Contains(err.Error(), g.want) || !errors.Is(err, ErrRefused)) {
				t.Errorf("%s (allow private %v): %v, want %q", tc.url, g.guard.AllowPrivate, err, g.want)
			}
		}
	}
}

// counter is a real server that counts the requests it receives.
func counter(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestProductionRefusesLoopbackAtDial(t *testing.T) {
	srv, hits := counter(t, nil)
	u, _ := url.Parse(srv.URL)
	c := Guard{}.HTTPClient(5 * time.Second)
	// By address and by a name that resolves to loopback: the check is on the dialled address.
	for _, target := range []string{srv.URL, "http://localhost:" + u.Port()} {
		_, err := c.Post(target, "application/json", strings.NewReader("{}"))
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "loopback") {
			t.Fatalf("%s: %v, want a loopback refusal", target, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback server received %d requests", hits.Load())
	}
	// The embedded stack reaches it.
	resp, err := Guard{AllowPrivate: true}.HTTPClient(5 * time.Second).Get(srv.URL)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("embedded stack: %v", err)
	}
	resp.Body.Close()
}

func TestRedirectToLoopbackIsRefused(t *testing.T) {
	inside, insideHits := counter(t, nil)
	// A public endpoint (here: the one address the guard is told to let through) that answers
	// with a redirect to a loopback service.
	outside, outsideHits := counter(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/admin", http.StatusFound)
	})
	g := Guard{exempt: netip.MustParseAddrPort(outside.Listener.Addr().String())}
	_, err := g.HTTPClient(5*time.Second).Post(outside.URL, "application/json", strings.NewReader("{}"))
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("redirect to loopback: %v", err)
	}
	if outsideHits.Load() != 1 || insideHits.Load() != 0 {
		t.Fatalf("requests: outside %d, inside %d; the redirect was followed", outsideHits.Load(), insideHits.Load())
	}
	// Even where private addresses are allowed, a redirect never moves a call to another host.
	_, err = Guard{AllowPrivate: true}.HTTPClient(5*time.Second).Post(outside.URL, "application/json", strings.NewReader("{}"))
	if !errors.Is(err, ErrRefused) || insideHits.Load() != 0 {
		t.Fatalf("redirect to another host with private addresses allowed: %v, inside hit %d times", err, insideHits.Load())
	}
}

func TestSameHostRedirectsAreCapped(t *testing.T) {
	var srv *httptest.Server
	srv, hits := counter(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/final" {
			return
		}
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	c := Guard{AllowPrivate: true}.HTTPClient(5 * time.Second)
	_, err := c.Get(srv.URL + "/start")
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "redirects") || hits.Load() != MaxRedirects {
		t.Fatalf("redirect loop: %v after %d requests", err, hits.Load())
	}
	resp, err := c.Get(srv.URL + "/final")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("plain request: %v", err)
	}
	resp.Body.Close()
}
