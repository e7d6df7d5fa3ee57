package devstack

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/rs/zerolog"
)

// testBinDir returns LABELFLOW_BIN_DIR, or the repository's bin/ directory.
func testBinDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("LABELFLOW_BIN_DIR"); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..", "bin")
}

// requireServers skips the test when the server binaries are missing, unless
// LABELFLOW_INTEGRATION=1 demands that integration tests run.
func requireServers(t *testing.T) string {
	t.Helper()
	dir := testBinDir(t)
	for _, name := range []string{"temporal", "versitygw"} {
		if _, err := findBinary(dir, name); err != nil {
			if os.Getenv("LABELFLOW_INTEGRATION") == "1" {
				t.Fatalf("LABELFLOW_INTEGRATION=1 but %v", err)
			}
			t.Skipf("skipping dev stack integration test: %v", err)
		}
	}
	return dir
}

func testLogger(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel).With().Timestamp().Logger()
}

// startTestStack starts a stack and registers its shutdown with t.Cleanup.
func startTestStack(t *testing.T, opts Options) *Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("stack started in %s: temporal=%s ui=%q s3=%s", time.Since(began).Round(time.Millisecond),
		s.TemporalAddress, s.TemporalUIURL, s.S3Endpoint)
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

func s3Client(t *testing.T, s *Stack) *minio.Client {
	t.Helper()
	u, err := url.Parse(s.S3Endpoint)
	if err != nil {
		t.Fatalf("parsing S3 endpoint %q: %v", s.S3Endpoint, err)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure: u.Scheme == "https",
		Region: "us-east-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func hostOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parsing %q: %v", rawURL, err)
	}
	return u.Host
}

func requireListening(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("expected %s to accept connections: %v", addr, err)
	}
	_ = c.Close()
}

func requireClosed(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		_ = c.Close()
		t.Fatalf("expected %s to be closed after Stop", addr)
	}
}

func putAndGet(t *testing.T, c *minio.Client, bucket, key string, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.PutObject(ctx, bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/json"}); err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	obj, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("reading %s/%s: %v", bucket, key, err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("object %s/%s: got %q, want %q", bucket, key, got, data)
	}
}

func TestStackStartsServesAndStops(t *testing.T) {
	binDir := requireServers(t)
	dataDir := filepath.Join(t.TempDir(), "state")
	buckets := []string{"labelflow-assets", "labelflow-exports"}

	s := startTestStack(t, Options{
		BinDir:  binDir,
		DataDir: dataDir,
		Buckets: buckets,
		Logger:  testLogger(t),
	})

	if s.AccessKey != DefaultAccessKey || s.SecretKey != DefaultSecretKey {
		t.Errorf("credentials = %q/%q, want defaults", s.AccessKey, s.SecretKey)
	}
	if !strings.HasPrefix(s.TemporalUIURL, "http://127.0.0.1:") {
		t.Errorf("TemporalUIURL = %q, want http://127.0.0.1:<port>", s.TemporalUIURL)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "temporal.db")); err != nil {
		t.Errorf("temporal database not in data dir: %v", err)
	}

	c := s3Client(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, b := range buckets {
		ok, err := c.BucketExists(ctx, b)
		if err != nil || !ok {
			t.Fatalf("BucketExists(%q) = %v, %v; want true", b, ok, err)
		}
	}
	putAndGet(t, c, "labelflow-assets", "projects/p-1/tasks/t-1/annotation.json",
		[]byte(`{"label":"cat","bbox":[1,2,3,4]}`))

	requireListening(t, s.TemporalAddress)
	uiResp, err := http.Get(s.TemporalUIURL)
	if err != nil {
		t.Fatalf("Temporal Web UI: %v", err)
	}
	_ = uiResp.Body.Close()
	if uiResp.StatusCode >= 500 {
		t.Fatalf("Temporal Web UI status = %d", uiResp.StatusCode)
	}

	began := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("stack stopped in %s", time.Since(began).Round(time.Millisecond))
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	requireClosed(t, s.TemporalAddress)
	requireClosed(t, hostOf(t, s.TemporalUIURL))
	requireClosed(t, hostOf(t, s.S3Endpoint))

	// A second stack on the same data directory sees the earlier state.
	s2 := startTestStack(t, Options{
		BinDir:   binDir,
		DataDir:  dataDir,
		Headless: true,
		Buckets:  buckets,
		Logger:   testLogger(t),
	})
	c2 := s3Client(t, s2)
	if _, err := c2.StatObject(ctx, "labelflow-assets", "projects/p-1/tasks/t-1/annotation.json",
		minio.StatObjectOptions{}); err != nil {
		t.Fatalf("object lost across restart: %v", err)
	}
	if err := s2.Stop(); err != nil {
		t.Fatalf("Stop after restart: %v", err)
	}
}

func TestTwoStacksRunSideBySide(t *testing.T) {
	binDir := requireServers(t)

	type started struct {
		s   *Stack
		err error
	}
	results := make(chan started, 2)
	for i := range 2 {
		dataDir := filepath.Join(t.TempDir(), "state")
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			s, err := Start(ctx, Options{
				BinDir:   binDir,
				DataDir:  dataDir,
				Headless: true,
				Buckets:  []string{"labelflow-assets"},
				Logger:   testLogger(t).With().Int("stack", i).Logger(),
			})
			results <- started{s, err}
		}()
	}
	var stacks []*Stack
	var errs []error
	for range 2 {
		r := <-results
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		stacks = append(stacks, r.s)
		t.Cleanup(func() { _ = r.s.Stop() })
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Start: %v", err)
	}

	a, b := stacks[0], stacks[1]
	if a.TemporalAddress == b.TemporalAddress || a.S3Endpoint == b.S3Endpoint {
		t.Fatalf("stacks share addresses: %+v vs %+v", a, b)
	}
	if a.TemporalUIURL != "" || b.TemporalUIURL != "" {
		t.Errorf("headless stacks report UI URLs %q and %q", a.TemporalUIURL, b.TemporalUIURL)
	}
	for _, s := range stacks {
		requireListening(t, s.TemporalAddress)
	}

	ca, cb := s3Client(t, a), s3Client(t, b)
	putAndGet(t, ca, "labelflow-assets", "only-in-a.txt", []byte("a"))
	putAndGet(t, cb, "labelflow-assets", "only-in-b.txt", []byte("b"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cb.StatObject(ctx, "labelflow-assets", "only-in-a.txt", minio.StatObjectOptions{}); err == nil {
		t.Fatal("object written to the first stack is visible in the second")
	}

	for _, s := range stacks {
		if err := s.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		requireClosed(t, s.TemporalAddress)
		requireClosed(t, hostOf(t, s.S3Endpoint))
	}
}

func TestStartReportsServerFailureAndCleansUp(t *testing.T) {
	binDir := requireServers(t)

	// Occupy the Temporal port so the dev server refuses to start.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s3Port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{
		BinDir:       binDir,
		DataDir:      t.TempDir(),
		TemporalPort: busy.Addr().(*net.TCPAddr).Port,
		Headless:     true,
		S3Port:       s3Port,
		Logger:       testLogger(t),
	})
	if err == nil {
		_ = s.Stop()
		t.Fatal("Start succeeded although the Temporal port was taken")
	}
	t.Logf("Start error: %v", err)
	msg := err.Error()
	if !strings.Contains(msg, "temporal") || !strings.Contains(msg, "output") {
		t.Errorf("error should name the server and include its output: %v", err)
	}
	if strings.Contains(msg, "versitygw") {
		t.Errorf("error should not blame the S3 gateway: %v", err)
	}
	requireClosed(t, hostPort(s3Port))
}

func TestStartNamesMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Start(context.Background(), Options{BinDir: t.TempDir(), DataDir: t.TempDir()})
	if err == nil {
		t.Fatal("Start succeeded without server binaries")
	}
	if !strings.Contains(err.Error(), "temporal") || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("error should name the binary and suggest `make tools`: %v", err)
	}
}

func TestFreePortReturnsDistinctUsablePorts(t *testing.T) {
	seen := map[int]bool{}
	for range 20 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if seen[p] {
			t.Fatalf("port %d returned twice", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", hostPort(p))
		if err != nil {
			t.Fatalf("cannot listen on returned port %d: %v", p, err)
		}
		_ = l.Close()
	}
}

func TestLineWriterSplitsLinesAndKeepsTail(t *testing.T) {
	var logged bytes.Buffer
	o := newOutputLog(zerolog.New(&logged), 3)
	w := o.writer()
	for _, chunk := range []string{"one\ntw", "o\r\nthree\n", "four\nfi", "ve"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	o.flush()
	if got, want := strings.Join(o.tail(), ","), "three,four,five"; got != want {
		t.Fatalf("tail = %q, want %q", got, want)
	}
	if n := strings.Count(logged.String(), `"level":"debug"`); n != 5 {
		t.Fatalf("logged %d debug lines, want 5:\n%s", n, logged.String())
	}
}

// A killed server restarts on its ports with its data: an object written before the kill of the
// S3 server is there after the restart, and Temporal serves its namespace again.
func TestKilledServersRestartWithTheirData(t *testing.T) {
	binDir := requireServers(t)
	s := startTestStack(t, Options{BinDir: binDir, DataDir: t.TempDir(), Headless: true, Buckets: []string{"kept"}, Logger: testLogger(t)})
	c := s3Client(t, s)
	putAndGet(t, c, "kept", "before.json", []byte(`{"before":true}`))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, server := range []Server{S3, Temporal} {
		if err := s.Restart(ctx, server); err == nil {
			t.Fatalf("Restart(%s) of a running server succeeded", server)
		}
		if err := s.Kill(server); err != nil {
			t.Fatal(err)
		}
		if err := s.Restart(ctx, server); err != nil {
			t.Fatal(err)
		}
	}
	obj, err := c.GetObject(ctx, "kept", "before.json", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if b, err := io.ReadAll(obj); err != nil || string(b) != `{"before":true}` {
		t.Fatalf("after the restart the object reads %q, %v", b, err)
	}
	requireListening(t, s.TemporalAddress)
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop after restarts: %v", err)
	}
}
