package gateway_test

// The gateway under abuse, tried as an attacker would, over loopback against the embedded stack
// (real Temporal, real S3 server, the worker). Each test serves its own gateway, with the limits
// it needs, over the one shared stack; clients speak from distinct loopback addresses
// (127.0.0.0/8 is all loopback) so that each has its own per-address allowance. Timings go to
// the log; assertions use generous bounds.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/logging"
	"github.com/labelflow/labelflow/internal/simulate"
)

// shared is the embedded stack of this package's integration tests, started by the first test
// that needs it and stopped by TestMain.
var shared struct {
	once sync.Once
	env  *demo.Env
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.env != nil {
		shared.env.Stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func stack(t *testing.T) *demo.Env {
	t.Helper()
	bin := devstacktest.Binaries(t)
	shared.once.Do(func() {
		cfg, err := config.Load()
		if err != nil {
			shared.err = err
			return
		}
		cfg.BinDir = bin
		if shared.dir, err = os.MkdirTemp("", "labelflow-gateway-"); err != nil {
			shared.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.env, shared.err = demo.Start(ctx, cfg, demo.StackOptions{DataDir: shared.dir, Headless: true}, logging.New("warn", nil))
	})
	if shared.err != nil {
		t.Fatal("start embedded stack:", shared.err)
	}
	return shared.env
}

// served is a gateway of the test's own, on the shared stack.
type served struct {
	g   *gateway.Gateway
	url string
	env *demo.Env
}

// serve starts a gateway exactly as `labelflow gateway` does (gateway.New, Listen, NewServer),
// with the stack's configuration changed by tune.
func serve(t *testing.T, tune func(*config.Config)) served {
	t.Helper()
	env := stack(t)
	a := *env.App
	if tune != nil {
		tune(&a.Cfg)
	}
	g, err := gateway.New(&a)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := gateway.Listen("127.0.0.1:0", a.Cfg.GatewayMaxConns)
	if err != nil {
		t.Fatal(err)
	}
	srv := gateway.NewServer(g)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return served{g: g, url: "http://" + ln.Addr().String(), env: env}
}

// clientFrom speaks from a loopback address of its own.
func clientFrom(ip string, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 32}}
}

// answer is what the gateway said to one request.
type answer struct {
	status     int
	code, msg  string
	retryAfter string
	body       []byte
}

func send(c *http.Client, method, url, token string, body []byte) (answer, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if a.body, err = io.ReadAll(resp.Body); err != nil {
		return a, err
	}
	if resp.StatusCode >= 400 {
		var e gateway.ErrorBody
		if err := json.Unmarshal(a.body, &e); err != nil {
			return a, fmt.Errorf("%s %s: HTTP %d with a body that is not the JSON error: %.200s", method, url, a.status, a.body)
		}
		a.code, a.msg = e.Error.Code, e.Error.Message
	}
	return a, nil
}

func mustSend(t *testing.T, c *http.Client, method, url, token string, body []byte) answer {
	t.Helper()
	a, err := send(c, method, url, token, body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// people registers n simulated annotators of project and returns them with their tokens.
func people(t *testing.T, env *demo.Env, project string, n int) []simulate.Person {
	t.Helper()
	crowd, err := simulate.Crowd(simulate.Options{Project: project, Annotators: n, Languages: []string{"en"}})
	if err != nil {
		t.Fatal(err)
	}
	permit, err := simulate.Allow(env.Cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := simulate.Register(context.Background(), permit, env.App.Roster, crowd); err != nil {
		t.Fatal(err)
	}
	return crowd
}

// memory reports the heap in use and the process's resident set.
func memory() string {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	rss := "?"
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
				rss = strings.TrimSpace(v)
			}
		}
	}
	return fmt.Sprintf("heap in use %.1f MiB, RSS %s", float64(m.HeapInuse)/(1<<20), rss)
}

// Connections beyond the cap wait unserved, so a flood of idle connections holds no more than
// the cap; once the flood is dropped, people are served again.
func TestIdleConnectionFloodIsCapped(t *testing.T) {
	const maxConns, flood = 64, 400
	s := serve(t, func(c *config.Config) {
		c.GatewayMaxConns = maxConns
		c.GatewayReadTimeout = 3 * time.Second
	})
	t.Logf("before the flood: %s", memory())
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range flood {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.url, "http://"), 5*time.Second)
		if err != nil {
			t.Fatalf("flood connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}
	t.Logf("%d idle connections open: %s", flood, memory())

	start := time.Now()
	if a, err := send(clientFrom("127.0.1.1", time.Second), "GET", s.url+"/healthz", "", nil); err == nil {
		t.Fatalf("a request was served (HTTP %d) while %d idle connections held all %d places", a.status, flood, maxConns)
	}
	t.Logf("during the flood a request got no answer within %s", time.Since(start).Round(time.Millisecond))

	for _, c := range conns {
		c.Close()
	}
	conns = nil
	start = time.Now()
	a, err := send(clientFrom("127.0.1.2", 10*time.Second), "GET", s.url+"/healthz", "", nil)
	if err != nil || a.status != 200 {
		t.Fatalf("after the flood was dropped: %+v, %v", a, err)
	}
	t.Logf("after the flood: served in %s; %s", time.Since(start).Round(time.Millisecond), memory())
}

// A body sent a byte a second is cut off by the read timeout, not waited for.
func TestSlowBodyIsCutOff(t *testing.T) {
	const readTimeout = 3 * time.Second
	s := serve(t, func(c *config.Config) { c.GatewayReadTimeout = readTimeout })
	person := people(t, s.env, "gw-slow", 1)[0]
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const bodyLen = 100
	start := time.Now()
	fmt.Fprintf(conn, "POST /v1/projects/gw-slow/suites/c000000-s00000/submit HTTP/1.1\r\nHost: gateway\r\n"+
		"Authorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", person.Token, bodyLen)
	var sent atomic.Int64
	go func() {
		for range bodyLen - 1 {
			time.Sleep(time.Second)
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
			sent.Add(1)
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(readTimeout + 15*time.Second))
	answer, err := io.ReadAll(conn) // until the gateway closes the connection
	took := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was still open after %s", took.Round(time.Millisecond))
	}
	t.Logf("closed after %s, %d of %d body bytes sent; answer %q", took.Round(time.Millisecond), sent.Load()+1, bodyLen, firstLine(answer))
	if limit := readTimeout + 4*time.Second; took > limit {
		t.Errorf("the slow body held the connection %s, more than %s", took.Round(time.Millisecond), limit)
	}
	if sent.Load()+1 >= bodyLen {
		t.Error("the whole body was sent before the connection closed")
	}
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\r\n"))
	return string(line)
}

// One person claiming as fast as they can is told to wait: only their allowance reaches
// Temporal, and the others' claims keep their pace.
func TestClaimFloodFromOneTokenIsThrottled(t *testing.T) {
	const project, flood = "gw-flood", 300
	s := serve(t, nil) // the default limits: 5/s, burst 20, per person
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, _, err := demo.LaunchProject(ctx, s.env, demo.RunOptions{ProjectID: project, Items: 200, Seed: 5, ChunkSize: 100}); err != nil {
		t.Fatal(err)
	}
	crowd := people(t, s.env, project, 5)
	attacker, others := crowd[0], crowd[1:]
	claim := s.url + "/v1/projects/" + project + "/claim"
	waitForWork(t, clientFrom("127.0.2.1", 30*time.Second), claim, others[0].Token)

	var (
		done     = make(chan struct{})
		mu       sync.Mutex
		before   []time.Duration // the others' claims before the flood
		during   []time.Duration
		flooding atomic.Bool
		wg       sync.WaitGroup
	)
	for i, p := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clientFrom(fmt.Sprintf("127.0.2.%d", 10+i), 30*time.Second)
			for {
				select {
				case <-done:
					return
				case <-time.After(250 * time.Millisecond): // 4 a second, within their allowance
				}
				start := time.Now()
				a, err := send(c, "POST", claim, p.Token, nil)
				if err != nil || a.status != 200 {
					t.Errorf("%s, claiming at an honest pace during the flood: %+v %v", p.ID, a, err)
					return
				}
				mu.Lock()
				if flooding.Load() {
					during = append(during, time.Since(start))
				} else {
					before = append(before, time.Since(start))
				}
				mu.Unlock()
			}
		}()
	}

	time.Sleep(1500 * time.Millisecond)
	flooding.Store(true)
	// The attacker claims as fast as 8 connections allow, at least flood times and for 2 s.
	attackerClient := clientFrom("127.0.2.2", 30*time.Second)
	var sent, passed, limited atomic.Int64
	start := time.Now()
	var fw sync.WaitGroup
	for range 8 {
		fw.Add(1)
		go func() {
			defer fw.Done()
			for sent.Add(1) <= flood || time.Since(start) < 2*time.Second {
				a, err := send(attackerClient, "POST", claim, attacker.Token, nil)
				switch {
				case err != nil:
					t.Error(err)
					return
				case a.status == http.StatusTooManyRequests:
					if secs, err := strconv.Atoi(a.retryAfter); err != nil || secs < 1 || a.code != "rate_limited" {
						t.Errorf("429 with Retry-After %q and code %q", a.retryAfter, a.code)
					}
					limited.Add(1)
				default:
					passed.Add(1)
				}
			}
		}()
	}
	fw.Wait()
	elapsed := time.Since(start)
	time.Sleep(time.Second) // the others go on a little after the flood
	close(done)
	wg.Wait()

	// What the per-person allowance lets through: the burst, then 5 a second.
	allowance := 20 + int64(5*elapsed.Seconds()) + 2
	total := passed.Load() + limited.Load()
	t.Logf("flood of %d claims in %s: %d answered (reached Temporal), %d refused with 429; allowance %d",
		total, elapsed.Round(time.Millisecond), passed.Load(), limited.Load(), allowance)
	if passed.Load() > allowance {
		t.Errorf("%d of the flood's claims were answered, more than the allowance of %d", passed.Load(), allowance)
	}
	if total < flood || limited.Load() < total/2 {
		t.Errorf("only %d of %d claims were refused with 429", limited.Load(), total)
	}
	if len(during) < len(others) {
		t.Fatalf("the others made only %d claims during the flood", len(during))
	}
	t.Logf("the others' claims before the flood: %s; during it: %s", percentiles(before), percentiles(during))
	// Generous: a shared machine under load slows every claim, flood or not.
	if p99 := percentile(during, 99); p99 > 10*time.Second {
		t.Errorf("the others' claims had a p99 of %s during the flood", p99)
	}
}

func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Sorted(slices.Values(d))
	if len(s) == 0 {
		return 0
	}
	return s[(len(s)*p+99)/100-1]
}

func percentiles(d []time.Duration) string {
	return fmt.Sprintf("%d claims, median %s, p99 %s", len(d), percentile(d, 50).Round(time.Millisecond), percentile(d, 99).Round(time.Millisecond))
}

// waitForWork claims until the project offers a suite (it is chunking first; on a busy machine
// its first status query may time out).
func waitForWork(t *testing.T, c *http.Client, claim, token string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; {
		a := mustSend(t, c, "POST", claim, token, nil)
		var cr gateway.ClaimResponse
		if a.status == 200 && json.Unmarshal(a.body, &cr) == nil && cr.Suite != nil {
			return
		}
		if a.status != 200 && a.status != http.StatusTooManyRequests && a.status < 500 {
			t.Fatalf("claim while waiting for work: %+v", a)
		}
		if time.Now().After(deadline) {
			t.Fatal("no work offered within two minutes of launch")
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// Guessing tokens from one address is cut off after the sign-in burst, and however many tokens
// or addresses are tried, the limiters remember no more than their cap.
func TestBadTokenFloodIsThrottledAndForgotten(t *testing.T) {
	const tokens = 2000
	s := serve(t, nil) // the default limits: 10 failed sign-ins, then 1 a second, per address
	person := people(t, s.env, "gw-tokens", 1)[0]
	me := s.url + "/v1/me"

	c := clientFrom("127.0.3.1", 30*time.Second)
	var unauthorized, limited atomic.Int64
	start := time.Now()
	parallel(t, tokens, 8, func(i int) error {
		a, err := send(c, "GET", me, fmt.Sprintf("guess-%06d-%x", i, time.Now().UnixNano()), nil)
		switch {
		case err != nil:
			return err
		case a.status == http.StatusUnauthorized:
			unauthorized.Add(1)
		case a.status == http.StatusTooManyRequests && a.retryAfter != "" && a.code == "rate_limited":
			limited.Add(1)
		default:
			return fmt.Errorf("guess %d: %+v", i, a)
		}
		return nil
	})
	elapsed := time.Since(start)
	// The burst, then one a second; guesses in flight together are each looked up, then paid for.
	allowance := 10 + int64(elapsed.Seconds()) + 8
	t.Logf("%d guesses from one address in %s: %d looked up (401), %d refused (429); allowance %d",
		tokens, elapsed.Round(time.Millisecond), unauthorized.Load(), limited.Load(), allowance)
	if unauthorized.Load() > allowance {
		t.Errorf("%d guesses were looked up, more than the allowance of %d", unauthorized.Load(), allowance)
	}
	// The person, from their own address, is not locked out by someone else's guessing.
	if a := mustSend(t, clientFrom("127.0.3.2", 10*time.Second), "GET", me, person.Token, nil); a.status != 200 {
		t.Fatalf("a person with a good token after the flood: %+v", a)
	}
	perIP, signIn, perPerson := s.g.LimiterSizes()
	t.Logf("limiters remember %d addresses, %d sign-in addresses, %d people", perIP, signIn, perPerson)
	if perIP > 2 || signIn > 1 || perPerson > 1 {
		t.Errorf("after %d tokens from two addresses the limiters remember %d, %d and %d keys: tokens became keys", tokens, perIP, signIn, perPerson)
	}

	// From many addresses, the limiters stay at their cap.
	const addresses, capped = 500, 100
	s.g.CapLimiters(capped)
	clients := make([]*http.Client, addresses)
	for i := range clients {
		clients[i] = clientFrom(fmt.Sprintf("127.0.%d.%d", 4+i/250, 1+i%250), 30*time.Second)
		defer clients[i].CloseIdleConnections()
	}
	parallel(t, tokens, 8, func(i int) error {
		a, err := send(clients[i%addresses], "GET", me, fmt.Sprintf("many-%06d", i), nil)
		if err == nil && a.status != http.StatusUnauthorized && a.status != http.StatusTooManyRequests {
			err = fmt.Errorf("guess %d from address %d: %+v", i, i%addresses, a)
		}
		return err
	})
	perIP, signIn, perPerson = s.g.LimiterSizes()
	t.Logf("after %d tokens from %d addresses the limiters remember %d, %d and %d keys (cap %d); %s",
		tokens, addresses, perIP, signIn, perPerson, capped, memory())
	if perIP > capped || signIn > capped || perPerson > capped {
		t.Errorf("limiters remember %d, %d and %d keys, over their cap of %d", perIP, signIn, perPerson, capped)
	}
}

// parallel runs n calls of f on workers goroutines and fails t on the first error.
func parallel(t *testing.T, n, workers int, f func(i int) error) {
	t.Helper()
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		t.Fatal(first)
	}
}

// Malformed ids are refused at once, naming the field, before the token is even looked up (so an
// unknown token still gets 400), and leave nothing in the caches or the sign-in limiter.
func TestMalformedIDsAreRefusedBeforeAnyLookup(t *testing.T) {
	s := serve(t, nil)
	c := clientFrom("127.0.5.1", 10*time.Second)
	long := strings.Repeat("a", 1000)
	cases := []struct{ method, path, field string }{
		{"GET", "/v1/projects/%00", "project"},
		{"POST", "/v1/projects/%00/claim", "project"},
		{"POST", "/v1/projects/" + long + "/claim", "project"},
		{"GET", "/v1/projects/Acme%20Reviews", "project"},
		{"POST", "/v1/projects/acme/suites/c0-s0%00/submit", "suite"},
		{"POST", "/v1/projects/acme/suites/" + long + "/submit", "suite"},
		{"GET", "/v1/me/statements/2026-13", "month"},
		{"GET", "/v1/me/statements/..%2f..%2fsecrets/items", "month"},
	}
	for _, tc := range cases {
		start := time.Now()
		a := mustSend(t, c, tc.method, s.url+tc.path, "nobody-has-this-token-0123", []byte(`{"answers": []}`))
		took := time.Since(start)
		t.Logf("%s %.60s: %d %s in %s", tc.method, tc.path, a.status, a.code, took.Round(time.Microsecond))
		if a.status != 400 || a.code != "invalid_request" || !strings.HasPrefix(a.msg, tc.field+":") || len(a.msg) > 300 {
			t.Errorf("%s %.60s: %d %s %q; want 400 invalid_request naming %s, briefly", tc.method, tc.path, a.status, a.code, a.msg, tc.field)
		}
		if took > 2*time.Second {
			t.Errorf("%s %.60s took %s", tc.method, tc.path, took)
		}
	}
	specs, running := s.g.CacheSizes()
	_, signIn, _ := s.g.LimiterSizes()
	if specs != 0 || running != 0 || signIn != 0 {
		t.Errorf("after malformed ids: %d specs and %d chunk lists cached, %d sign-in addresses; want none", specs, running, signIn)
	}

	// Well-formed ids of no project are answered 404 and are not cached either.
	person := people(t, s.env, "gw-ids", 1)[0]
	for i := range 15 {
		a := mustSend(t, c, "GET", fmt.Sprintf("%s/v1/projects/no-such-project-%d", s.url, i), person.Token, nil)
		if a.status != 404 || a.code != "not_found" {
			t.Fatalf("unknown project: %+v", a)
		}
	}
	if specs, running := s.g.CacheSizes(); specs != 0 || running != 0 {
		t.Errorf("unknown projects were cached: %d specs, %d chunk lists", specs, running)
	}
}

// A submission's body is one JSON value and nothing more: what follows it is refused, not
// ignored, and so is a body over the cap.
func TestSubmitBodyWithTrailingDataIsRefused(t *testing.T) {
	s := serve(t, nil)
	person := people(t, s.env, "gw-body", 1)[0]
	c := clientFrom("127.0.6.1", 10*time.Second)
	submit := s.url + "/v1/projects/gw-body/suites/c000000-s00000/submit"
	for _, tc := range []struct {
		body, code, mentions string
	}{
		{`{"answers": [{"item": 0, "answer": "positive"}]}garbage`, "invalid_request", "after the JSON value"},
		{`{"answers": []} {"answers": [{"item": 0, "answer": "negative"}]}`, "invalid_request", "after the JSON value"},
		{`{"answers": [], "worker": "someone-else"}`, "invalid_request", `unknown field "worker"`},
		{`{"answers": [], "pad": "` + strings.Repeat("x", 1<<20) + `"}`, "too_large", "larger than"},
	} {
		a := mustSend(t, c, "POST", submit, person.Token, []byte(tc.body))
		if a.code != tc.code || !strings.Contains(a.msg, tc.mentions) {
			t.Errorf("body %.60q: %d %s %q; want %s mentioning %q", tc.body, a.status, a.code, a.msg, tc.code, tc.mentions)
		}
	}
}
