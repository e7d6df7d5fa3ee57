package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

func get(t *testing.T, path string, header ...string) *http.Response {
	t.Helper()
	return do(t, http.MethodGet, path, header...)
}

func do(t *testing.T, method, path string, header ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkSecurityHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; " +
			"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s: got %q, want %q", k, got, v)
		}
	}
}

func TestShellIsServedWithSecurityHeadersAndNoCache(t *testing.T) {
	res := get(t, "/")
	if res.StatusCode != 200 {
		t.Fatalf("GET /: %d", res.StatusCode)
	}
	checkSecurityHeaders(t, res)
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache", cc)
	}
	if res.Header.Get("ETag") == "" {
		t.Error("no ETag")
	}
	if b := body(t, res); !bytes.Contains(b, []byte(`src="/ui/js/core.js"`)) {
		t.Errorf("the shell does not load core.js:\n%s", b)
	}
}

func TestAssetsAreCachedForADay(t *testing.T) {
	for path, ct := range map[string]string{
		"/ui/app.css":              "text/css; charset=utf-8",
		"/ui/js/core.js":           "text/javascript; charset=utf-8",
		"/ui/js/work.js":           "text/javascript; charset=utf-8",
		"/ui/messages/en.json":     "application/json; charset=utf-8",
		"/ui/messages/fr.json":     "application/json; charset=utf-8",
		"/ui/messages/../app.css?": "",
	} {
		res := get(t, path)
		if ct == "" {
			if res.StatusCode != 404 {
				t.Errorf("%s: %d, want 404", path, res.StatusCode)
			}
			continue
		}
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", path, res.StatusCode)
			continue
		}
		checkSecurityHeaders(t, res)
		if got := res.Header.Get("Content-Type"); got != ct {
			t.Errorf("%s: Content-Type %q, want %q", path, got, ct)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "max-age=86400" {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
	}
}

func TestGzipWhenAccepted(t *testing.T) {
	plain := get(t, "/ui/js/work.js")
	zipped := get(t, "/ui/js/work.js", "Accept-Encoding", "br, gzip;q=0.8")
	if zipped.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", zipped.Header.Get("Content-Encoding"))
	}
	if plain.Header.Get("Content-Encoding") != "" {
		t.Errorf("plain answer encoded as %q", plain.Header.Get("Content-Encoding"))
	}
	if zipped.Header.Get("Vary") != "Accept-Encoding" || plain.Header.Get("Vary") != "Accept-Encoding" {
		t.Error("no Vary: Accept-Encoding")
	}
	if zipped.Header.Get("ETag") == plain.Header.Get("ETag") {
		t.Error("the gzip and plain forms share an ETag")
	}
	zr, err := gzip.NewReader(bytes.NewReader(body(t, zipped)))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, body(t, plain)) {
		t.Error("gzip body does not decompress to the plain body")
	}
	refused := get(t, "/ui/js/work.js", "Accept-Encoding", "gzip;q=0, identity")
	if refused.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent although q=0 refuses it")
	}
}

func TestETagAnswersNotModified(t *testing.T) {
	first := get(t, "/", "Accept-Encoding", "gzip")
	etag := first.Header.Get("ETag")
	again := get(t, "/", "Accept-Encoding", "gzip", "If-None-Match", etag)
	if again.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match %s: %d, want 304", etag, again.StatusCode)
	}
	if len(body(t, again)) != 0 {
		t.Error("a 304 carries a body")
	}
	checkSecurityHeaders(t, again)
	if other := get(t, "/", "If-None-Match", `"something-else"`); other.StatusCode != 200 {
		t.Errorf("stale ETag: %d, want 200", other.StatusCode)
	}
}

func TestUnknownPathsAreNotFound(t *testing.T) {
	for _, path := range []string{"/ui/nope.js", "/ui/", "/index.html", "/v2/anything"} {
		res := get(t, path)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.StatusCode)
		}
		checkSecurityHeaders(t, res)
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		if err := json.Unmarshal(body(t, res), &e); err != nil || e.Error.Code != "not_found" {
			t.Errorf("%s: error body %v %+v", path, err, e)
		}
	}
	if res := do(t, http.MethodPost, "/"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", res.StatusCode)
	}
	if res := do(t, http.MethodHead, "/ui/app.css"); res.StatusCode != 200 || len(body(t, res)) != 0 {
		t.Errorf("HEAD: %d with a body", res.StatusCode)
	}
}

func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	res := get(t, "/ui/messages/"+lang+".json")
	if res.StatusCode != 200 {
		t.Fatalf("%s catalogue: %d", lang, res.StatusCode)
	}
	var c map[string]string
	if err := json.Unmarshal(body(t, res), &c); err != nil {
		t.Fatalf("%s catalogue: %v", lang, err)
	}
	return c
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func TestCataloguesHaveTheSameKeysAndPlaceholders(t *testing.T) {
	en, fr := catalogue(t, "en"), catalogue(t, "fr")
	for k, v := range en {
		w, ok := fr[k]
		if !ok {
			t.Errorf("fr lacks %q", k)
			continue
		}
		if a, b := placeholders(v), placeholders(w); !slices.Equal(a, b) {
			t.Errorf("%q: placeholders en %v, fr %v", k, a, b)
		}
		if strings.TrimSpace(v) == "" || strings.TrimSpace(w) == "" {
			t.Errorf("%q is empty", k)
		}
	}
	for k := range fr {
		if _, ok := en[k]; !ok {
			t.Errorf("en lacks %q", k)
		}
	}
}

// keyUse finds the literal keys the workbench scripts look up: t('key'), LF.t('key') and the
// catalogue key of LF.nav(id, 'key', ...). Keys built at run time ('hint.' + type) end in a dot.
var keyUse = regexp.MustCompile(`\bt\('([a-z0-9_.-]+)'|LF\.nav\('[^']*',\s*'([a-z0-9_.-]+)'`)

func TestEveryKeyTheWorkbenchUsesIsInTheCatalogue(t *testing.T) {
	en := catalogue(t, "en")
	for _, file := range []string{"static/js/core.js", "static/js/work.js"} {
		src, err := fs.ReadFile(static, file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyUse.FindAllStringSubmatch(string(src), -1) {
			key := m[1] + m[2]
			if strings.HasSuffix(key, ".") {
				continue
			}
			if _, ok := en[key]; !ok {
				t.Errorf("%s uses %q, which the catalogue lacks", file, key)
			}
		}
	}
	// staff.js looks its own keys up under "staff."; the keys it gives LF.nav are whole.
	src, err := fs.ReadFile(static, "static/js/staff.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range keyUse.FindAllStringSubmatch(string(src), -1) {
		key := m[2]
		if m[1] != "" {
			key = "staff." + m[1]
		}
		if strings.HasSuffix(key, ".") {
			continue
		}
		if _, ok := en[key]; !ok {
			t.Errorf("staff.js uses %q, which the catalogue lacks", key)
		}
	}
	// The keys built at run time: one per annotation type, kind of work and language.
	for _, prefix := range []string{"hint.", "type."} {
		for _, typ := range []string{"single-label", "multi-label", "bounding-box", "transcription", "named-entities"} {
			if _, ok := en[prefix+typ]; !ok {
				t.Errorf("the catalogue lacks %q", prefix+typ)
			}
		}
	}
	for _, key := range []string{"hint.arbitrate", "lang.en", "lang.fr", "kind.annotation", "kind.arbitration"} {
		if _, ok := en[key]; !ok {
			t.Errorf("the catalogue lacks %q", key)
		}
	}
}

var (
	jsString = regexp.MustCompile(`'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|` + "`(?:[^`\\\\]|\\\\.)*`")
	// Words separated by a space, one of them capitalised or ending a sentence: prose, not a
	// key, selector, class list or header.
	prose      = regexp.MustCompile(`[A-Za-z]{2,}[,.!?:]? [A-Za-z]{2,}`)
	classList  = regexp.MustCompile(`^[a-z0-9 _:.#\[\]="()-]*$`)
	textAssign = regexp.MustCompile(`\.(textContent|innerText|innerHTML|title|placeholder)\s*=\s*['"]\s*[A-Za-z]`)
)

func TestScriptsHoldNoVisibleEnglish(t *testing.T) {
	files, err := fs.Glob(static, "static/js/*.js")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		src, err := fs.ReadFile(static, file)
		if err != nil {
			t.Fatal(err)
		}
		code := stripComments(string(src))
		for _, lit := range jsString.FindAllString(code, -1) {
			s := lit[1 : len(lit)-1]
			if prose.MatchString(s) && !classList.MatchString(s) {
				t.Errorf("%s: %s looks like text for people; put it in the catalogue", file, lit)
			}
		}
		if m := textAssign.FindAllString(code, -1); m != nil {
			t.Errorf("%s: literal text assigned to elements: %v", file, m)
		}
		if strings.Contains(code, "innerHTML") || strings.Contains(code, "insertAdjacentHTML") {
			t.Errorf("%s builds HTML from strings", file)
		}
	}
}

// stripComments removes // and /* */ comments outside strings, roughly: enough for the scripts
// here, which keep comments on lines of their own or after code.
func stripComments(src string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case quote != 0:
			b.WriteByte(c)
			if c == '\\' && i+1 < len(src) {
				i++
				b.WriteByte(src[i])
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
			b.WriteByte(c)
		case c == '/' && i+1 < len(src) && src[i+1] == '/' && !regexLiteralBefore(src, i):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			b.WriteByte('\n')
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			i += end + 3
		case c == '/' && regexLiteralBefore(src, i):
			// A regular expression literal: copy it whole, quotes inside it are not strings.
			j := i + 1
			for j < len(src) && src[j] != '/' && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			b.WriteString(src[i:min(j+1, len(src))])
			i = j
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// regexLiteralBefore reports whether a slash at i starts a regular expression: it follows an
// operator or an opening bracket rather than a value.
func regexLiteralBefore(src string, i int) bool {
	j := i - 1
	for j >= 0 && (src[j] == ' ' || src[j] == '\t') {
		j--
	}
	return j >= 0 && strings.IndexByte("(,=:[!&|?;{}", src[j]) >= 0 && !(i+1 < len(src) && src[i+1] == '/')
}

func TestShellHasNoInlineCodeOrText(t *testing.T) {
	html := string(body(t, get(t, "/")))
	if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]*\S[^<]*</script>`).MatchString(html) {
		t.Error("index.html has an inline script")
	}
	if regexp.MustCompile(`(?i)\sstyle\s*=|<style|\son[a-z]+\s*=`).MatchString(html) {
		t.Error("index.html has an inline style or event handler")
	}
	for _, src := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(html, -1) {
		if strings.Contains(src[1], "//") {
			t.Errorf("index.html loads %s from elsewhere", src[1])
		}
		if strings.HasPrefix(src[1], "/ui/") && !strings.HasSuffix(src[1], "staff.js") {
			if res := get(t, src[1]); res.StatusCode != 200 {
				t.Errorf("index.html loads %s: %d", src[1], res.StatusCode)
			}
		}
	}
	// Visible text comes from the catalogue: the shell holds none but the product's name.
	text := regexp.MustCompile(`(?s)<title>.*?</title>|<[^>]+>`).ReplaceAllString(html, " ")
	if strings.TrimSpace(text) != "" {
		t.Errorf("index.html holds text %q", strings.TrimSpace(text))
	}
}

// TestPageWeight keeps what a first visit downloads, compressed, under 100 KB: on a 400 kbit/s
// line that is two seconds.
func TestPageWeight(t *testing.T) {
	const budget = 100 << 10
	total := 0
	for _, path := range []string{"/", "/ui/app.css", "/ui/js/core.js", "/ui/js/work.js", "/ui/js/staff.js", "/ui/messages/fr.json"} {
		res := get(t, path, "Accept-Encoding", "gzip")
		if res.StatusCode == 404 && strings.HasSuffix(path, "staff.js") {
			continue
		}
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		n := len(body(t, res))
		t.Logf("%-22s %6d bytes compressed", path, n)
		total += n
	}
	t.Logf("total %d bytes of %d", total, budget)
	if total > budget {
		t.Errorf("the workbench weighs %d bytes compressed, over the %d budget", total, budget)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for header, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=1.0": true, "gzip;q=0": false,
		"gzip; q=0.0": false, "br": false, "*": true, "identity": false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", header)
		if got := acceptsGzip(r); got != want {
			t.Errorf("Accept-Encoding %q: %v, want %v", header, got, want)
		}
	}
}
