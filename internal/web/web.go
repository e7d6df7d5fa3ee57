// Package web serves the browser workbench: plain files embedded in the binary, compressed once
// at start-up, on the same origin as the JSON API so that the session cookie and a strict content
// security policy are enough to keep it safe.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy allows the page only its own origin: no inline script or style, no
// framing, images also from blobs and data URLs (the box editor draws from them).
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Cache lifetimes: the shell is checked on every load (its ETag makes that cheap) so that a new
// release reaches people at once; assets may be reused for a day.
const (
	shellCache = "no-cache"
	assetCache = "max-age=86400"
)

// asset is one file ready to serve, in plain and gzip form.
type asset struct {
	plain, gz   []byte
	etag        string // of the plain bytes; the gzip form's ends in -gz
	contentType string
	cache       string
}

var (
	loadOnce sync.Once
	assets   map[string]*asset // URL path → asset
	loadErr  error
)

// Handler serves GET / (the app shell) and GET /ui/... (its assets); any other path is not found.
func Handler() http.Handler {
	loadOnce.Do(func() { assets, loadErr = load(static) })
	if loadErr != nil {
		// The files are embedded at build time: failing to read them is a broken build.
		panic("web: " + loadErr.Error())
	}
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "only GET and HEAD are served here")
		return
	}
	a, ok := assets[r.URL.Path]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no such file: "+r.URL.Path)
		return
	}
	body, etag := a.plain, a.etag
	h.Set("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		body, etag = a.gz, a.etag[:len(a.etag)-1]+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", a.cache)
	h.Set("ETag", etag)
	if matches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

// acceptsGzip reads Accept-Encoding, honouring an explicit q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// matches reports whether an If-None-Match header names etag (weak or strong) or is *.
func matches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == etag || tag == "*" {
			return true
		}
	}
	return false
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// load reads every embedded file into its URL: static/index.html at /, the rest under /ui/.
func load(files fs.FS) (map[string]*asset, error) {
	out := map[string]*asset{}
	err := fs.WalkDir(files, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(name, "static/")
		data, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		url, cache := "/ui/"+rel, assetCache
		if rel == "index.html" {
			url, cache = "/", shellCache
		}
		a, err := newAsset(rel, data, cache)
		if err != nil {
			return err
		}
		out[url] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out["/"] == nil {
		return nil, fmt.Errorf("static/index.html is missing")
	}
	return out, nil
}

func newAsset(rel string, data []byte, cache string) (*asset, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return &asset{plain: data, gz: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:12]) + `"`,
		contentType: contentType(rel), cache: cache}, nil
}

func contentType(rel string) string {
	switch path.Ext(rel) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json":
		return "application/json; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(rel)); t != "" {
		return t
	}
	return "application/octet-stream"
}
