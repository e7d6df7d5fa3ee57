package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDecodeJSONTakesOneValueAndNothingElse(t *testing.T) {
	type item struct {
		Item   int    `json:"item"`
		Answer string `json:"answer"`
	}
	type body struct {
		Answers []item `json:"answers"`
	}
	cases := []struct {
		name, body string
		status     int
		mentions   string
	}{
		{"one object", `{"answers": [{"item": 1, "answer": "positive"}]}`, 200, ""},
		{"trailing whitespace", "{\"answers\": []}\n  \n", 200, ""},
		{"trailing garbage", `{"answers": []}garbage`, 400, "after the JSON value"},
		{"a second value", `{"answers": []}{"answers": []}`, 400, "after the JSON value"},
		{"unknown field", `{"answers": [], "bonus": 100}`, 400, `unknown field "bonus"`},
		{"wrong type, named with its path", `{"answers": [{"item": "three"}]}`, 400, "answers.item"},
		{"empty", ``, 400, "empty"},
		{"cut short", `{"answers": [`, 400, "middle"},
		{"not JSON", `answers=1`, 400, "not JSON at byte"},
		{"too large", `{"answers": [], "x": "` + strings.Repeat("a", 200) + `"}`, 413, "larger than 100 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
			var v body
			ok := decodeJSON(rec, req, 100, &v)
			if ok != (c.status == 200) {
				t.Fatalf("decodeJSON = %v, answer %d %s", ok, rec.Code, rec.Body)
			}
			if c.status == 200 {
				return
			}
			var e ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != c.status || !strings.Contains(e.Error.Message, c.mentions) {
				t.Fatalf("answer %d %s; want %d mentioning %q", rec.Code, rec.Body, c.status, c.mentions)
			}
		})
	}
}

func TestClientKeyIsThePeerAddress(t *testing.T) {
	for remote, want := range map[string]string{
		"203.0.113.7:5123":           "203.0.113.7",
		"[::ffff:203.0.113.7]:5123":  "203.0.113.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::9]:443": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:80":          "fe80::/64",
		"not an address":             "not an address",
		"198.51.100.1:1, 10.0.0.1:2": "198.51.100.1:1, 10.0.0.1:2",
		"[2001:db8:9::1]:1":          "2001:db8:9::/64",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", "192.0.2.99") // never trusted
		if got := clientKey(r); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", remote, got, want)
		}
	}
}

func TestTooManyRoundsTheWaitUp(t *testing.T) {
	for wait, want := range map[time.Duration]string{time.Millisecond: "1", 200 * time.Millisecond: "1", 1001 * time.Millisecond: "2", 3 * time.Second: "3"} {
		rec := httptest.NewRecorder()
		tooMany(rec, wait, "you")
		var e ErrorBody
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
		if rec.Code != 429 || rec.Header().Get("Retry-After") != want || e.Error.Code != "rate_limited" {
			t.Errorf("wait %s: %d Retry-After %q %s; want 429, %s, rate_limited", wait, rec.Code, rec.Header().Get("Retry-After"), rec.Body, want)
		}
	}
}
