package faultproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// echo is a backend that records what it receives and answers with a recognisable response.
type echo struct {
	mu   sync.Mutex
	reqs []seen
}

type seen struct {
	method, host, uri string
	header            http.Header
	body              []byte
}

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.reqs = append(e.reqs, seen{r.Method, r.Host, r.RequestURI, r.Header.Clone(), b})
	e.mu.Unlock()
	sum := sha256.Sum256(b)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	w.Header().Set("X-Amz-Request-Id", "req-"+r.Method)
	w.Header().Add("X-Multi", "a")
	w.Header().Add("X-Multi", "b")
	w.Header().Set("Content-Type", "application/octet-stream")
	if r.URL.Query().Get("status") == "created" {
		w.WriteHeader(http.StatusCreated)
	}
	fmt.Fprintf(w, "%s %s %d bytes", r.Method, r.URL.Path, len(b))
}

func (e *echo) all() []seen {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]seen(nil), e.reqs...)
}

func start(t *testing.T, f Faults) (*Proxy, *echo) {
	t.Helper()
	e := &echo{}
	backend := httptest.NewServer(e)
	t.Cleanup(backend.Close)
	p, err := Start(backend.URL, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p, e
}

// freshClient opens a new connection per request, so that a dropped connection is never
// silently retried by the transport on another one.
func freshClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
}

func do(t *testing.T, c *http.Client, method, u, body string) (*http.Response, []byte, error) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b, nil
}

func TestPassThroughUnchanged(t *testing.T) {
	p, e := start(t, Faults{})
	pu, _ := url.Parse(p.URL)

	body := strings.Repeat("0123456789", 1000)
	req, _ := http.NewRequest(http.MethodPut, p.URL+"/bucket/some%2Fkey.jsonl?status=created&x-id=PutObject", strings.NewReader(body))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	req.Header.Set("X-Amz-Date", "20260101T000000Z")
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	req.Header.Set("User-Agent", "delivery-test/1")
	resp, err := freshClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	if resp.StatusCode != http.StatusCreated {
		t.Errorf("status %d", resp.StatusCode)
	}
	if string(got) != "PUT /bucket/some/key.jsonl 10000 bytes" {
		t.Errorf("body %q", got)
	}
	sum := sha256.Sum256([]byte(body))
	if resp.Header.Get("ETag") != `"`+hex.EncodeToString(sum[:8])+`"` || resp.Header.Get("X-Amz-Request-Id") != "req-PUT" ||
		strings.Join(resp.Header.Values("X-Multi"), ",") != "a,b" || resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("response headers %v", resp.Header)
	}

	reqs := e.all()
	if len(reqs) != 1 {
		t.Fatalf("backend saw %d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPut || r.uri != "/bucket/some%2Fkey.jsonl?status=created&x-id=PutObject" {
		t.Errorf("forwarded %s %s", r.method, r.uri)
	}
	if r.host != pu.Host {
		t.Errorf("Host %q, want the proxy's %q as the client sent it", r.host, pu.Host)
	}
	if string(r.body) != body {
		t.Errorf("body changed: %d bytes", len(r.body))
	}
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256", "X-Forwarded-For", "User-Agent"} {
		if r.header.Get(h) != req.Header.Get(h) {
			t.Errorf("header %s = %q, want %q", h, r.header.Get(h), req.Header.Get(h))
		}
	}

	// An explicit Host (virtual-hosted style) goes through as sent.
	req, _ = http.NewRequest(http.MethodGet, p.URL+"/k", nil)
	req.Host = "bucket.s3.example:9000"
	resp, err = freshClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := e.all()[1].host; h != "bucket.s3.example:9000" {
		t.Errorf("Host %q", h)
	}
	if n, a, b, c := p.Stats(); n != 2 || a+b+c != 0 {
		t.Errorf("stats %d %d %d %d", n, a, b, c)
	}
}

func TestFailFirstThenEvery(t *testing.T) {
	p, e := start(t, Faults{FailFirst: 2, Every: 3})
	c := freshClient()
	var statuses []int
	for i := 1; i <= 10; i++ {
		resp, body, err := do(t, c, http.MethodPut, fmt.Sprintf("%s/obj/%d", p.URL, i), fmt.Sprintf("payload-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, resp.StatusCode)
		switch resp.StatusCode {
		case 503:
			if !bytes.Contains(body, []byte("<Code>SlowDown</Code>")) {
				t.Errorf("503 body %q", body)
			}
		case 500:
			if !bytes.Contains(body, []byte("<Code>InternalError</Code>")) {
				t.Errorf("500 body %q", body)
			}
		case 200:
			if want := fmt.Sprintf("PUT /obj/%d %d bytes", i, len(fmt.Sprintf("payload-%d", i))); string(body) != want {
				t.Errorf("request %d: body %q, want %q", i, body, want)
			}
		}
	}
	want := []int{503, 503, 200, 200, 500, 200, 200, 500, 200, 200}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	var paths []string
	for _, r := range e.all() {
		paths = append(paths, r.uri)
	}
	if got := strings.Join(paths, " "); got != "/obj/3 /obj/4 /obj/6 /obj/7 /obj/9 /obj/10" {
		t.Errorf("backend saw %s", got)
	}
	if n, s503, s500, d := p.Stats(); n != 10 || s503 != 2 || s500 != 2 || d != 0 {
		t.Errorf("stats %d %d %d %d", n, s503, s500, d)
	}
}

func TestDropEveryOnlyMethods(t *testing.T) {
	p, e := start(t, Faults{DropEvery: 2, Methods: []string{"put"}})
	c := freshClient()
	type step struct {
		method string
		drop   bool
	}
	// Eligible PUTs are numbered 1, 2, 3, 4; GETs are never faulted nor counted.
	steps := []step{{"PUT", false}, {"GET", false}, {"PUT", true}, {"GET", false}, {"GET", false}, {"PUT", false}, {"PUT", true}}
	for i, s := range steps {
		resp, _, err := do(t, c, s.method, fmt.Sprintf("%s/o/%d", p.URL, i), "data")
		if s.drop {
			if err == nil {
				t.Errorf("step %d: dropped request got status %d", i, resp.StatusCode)
			}
			continue
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if resp.StatusCode != 200 {
			t.Errorf("step %d: status %d", i, resp.StatusCode)
		}
	}
	if got := len(e.all()); got != 5 {
		t.Errorf("backend saw %d requests, want 5", got)
	}
	if n, s503, s500, d := p.Stats(); n != 7 || s503 != 0 || s500 != 0 || d != 2 {
		t.Errorf("stats %d %d %d %d", n, s503, s500, d)
	}
}

func TestMethodsFilterFailFirst(t *testing.T) {
	p, _ := start(t, Faults{FailFirst: 1, Methods: []string{"PUT"}})
	c := freshClient()
	if resp, _, err := do(t, c, "GET", p.URL+"/a", ""); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: %v %v", resp, err)
	}
	if resp, _, err := do(t, c, "PUT", p.URL+"/a", "x"); err != nil || resp.StatusCode != 503 {
		t.Fatalf("first PUT: %v %v", resp, err)
	}
	if resp, _, err := do(t, c, "PUT", p.URL+"/a", "x"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("second PUT: %v %v", resp, err)
	}
}

func TestDropWinsOverEvery(t *testing.T) {
	p, _ := start(t, Faults{Every: 2, DropEvery: 4})
	c := freshClient()
	var got []string
	for i := 0; i < 8; i++ {
		resp, _, err := do(t, c, "PUT", p.URL+"/x", "b")
		if err != nil {
			got = append(got, "drop")
			continue
		}
		got = append(got, fmt.Sprint(resp.StatusCode))
	}
	if s := strings.Join(got, " "); s != "200 500 200 drop 200 500 200 drop" {
		t.Errorf("got %s", s)
	}
	if n, s503, s500, d := p.Stats(); n != 8 || s503 != 0 || s500 != 2 || d != 2 {
		t.Errorf("stats %d %d %d %d", n, s503, s500, d)
	}
}

func TestConcurrentCounting(t *testing.T) {
	p, e := start(t, Faults{FailFirst: 5, Every: 4})
	c := &http.Client{}
	const n = 60
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/c/%d", p.URL, i), strings.NewReader("body"))
			resp, err := c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			counts[resp.StatusCode]++
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	// 5 × 503, then among the remaining 55 every 4th: 13 × 500.
	if counts[503] != 5 || counts[500] != 13 || counts[200] != 42 {
		t.Errorf("statuses %v", counts)
	}
	if got := len(e.all()); got != 42 {
		t.Errorf("backend saw %d", got)
	}
	if r, s503, s500, d := p.Stats(); r != n || s503 != 5 || s500 != 13 || d != 0 {
		t.Errorf("stats %d %d %d %d", r, s503, s500, d)
	}
}

func TestLargeBodiesStream(t *testing.T) {
	p, e := start(t, Faults{})
	big := bytes.Repeat([]byte("labelflow-"), 800_000) // 8 MB
	req, _ := http.NewRequest(http.MethodPut, p.URL+"/big", bytes.NewReader(big))
	resp, err := freshClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := e.all()[0].body; !bytes.Equal(got, big) {
		t.Errorf("backend got %d bytes, want %d", len(got), len(big))
	}
}

func TestUpstreamDown(t *testing.T) {
	backend := httptest.NewServer(http.NotFoundHandler())
	target := backend.URL
	backend.Close()
	p, err := Start(target, Faults{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	resp, _, err := do(t, freshClient(), "GET", p.URL+"/", "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestStartRejectsBadTargets(t *testing.T) {
	for _, target := range []string{"", "127.0.0.1:9000", "ftp://x", "http://"} {
		if p, err := Start(target, Faults{}); err == nil {
			p.Close()
			t.Errorf("Start(%q) accepted", target)
		}
	}
	if p, err := Start("http://127.0.0.1:1", Faults{Every: -1}); err == nil {
		p.Close()
		t.Error("negative count accepted")
	}
}

func TestLoseFirstActsAndLosesTheAnswer(t *testing.T) {
	var lost []string
	var mu sync.Mutex
	f := Faults{LoseFirst: 1, Methods: []string{"POST"}, OnLost: func(r *http.Request) {
		mu.Lock()
		lost = append(lost, r.URL.Path)
		mu.Unlock()
	}}
	p, e := start(t, f)
	c := freshClient()
	if _, _, err := do(t, c, "POST", p.URL+"/approve", "yes"); err == nil {
		t.Fatal("the first POST got an answer; want it lost")
	}
	if got := e.all(); len(got) != 1 || string(got[0].body) != "yes" {
		t.Fatalf("the server saw %+v, want the lost POST with its body", got)
	}
	resp, _, err := do(t, c, "POST", p.URL+"/approve", "again")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the second POST: %v %v", resp, err)
	}
	if _, _, err := do(t, c, "GET", p.URL+"/status", ""); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lost) != 1 || lost[0] != "/approve" || p.Lost() != 1 {
		t.Fatalf("lost %v (counted %d), want one /approve", lost, p.Lost())
	}
}

func TestBytesPerSecondPacesBodies(t *testing.T) {
	p, e := start(t, Faults{BytesPerSecond: 20 << 10})
	body := strings.Repeat("x", 30<<10)
	began := time.Now()
	resp, _, err := do(t, freshClient(), "PUT", p.URL+"/obj", body)
	took := time.Since(began)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT: %v %v", resp, err)
	}
	// 30 KiB at 20 KiB/s: the last 14 KiB wait at least 0.7 s beyond the first read.
	if took < 700*time.Millisecond || took > 10*time.Second {
		t.Fatalf("30 KiB at 20 KiB/s took %s", took)
	}
	if got := e.all(); len(got) != 1 || len(got[0].body) != len(body) {
		t.Fatal("the body did not arrive whole")
	}
}
