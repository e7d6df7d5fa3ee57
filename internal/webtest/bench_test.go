package webtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(201-i)*time.Millisecond)
	}
	if got := percentile(d, 50); got != 100*time.Millisecond {
		t.Fatalf("median %s", got)
	}
	if got := percentile(d, 95); got != 190*time.Millisecond {
		t.Fatalf("p95 %s", got)
	}
	if percentile(nil, 95) != 0 || percentile(d[:1], 95) != 200*time.Millisecond {
		t.Fatal("percentile of none or one")
	}
}

// fakeWorkbench shows a task after one API call, loads a large image from /v1/media/, and moves
// to the next item on a digit key; a new suite every ten items.
const fakeWorkbench = `<!doctype html><div id="app"></div><img src="/v1/media/big">
<script>
let i = 0;
function show() {
	const t = document.createElement('div');
	t.id = 'task'; t.dataset.suite = 's' + Math.floor(i / 10); t.dataset.item = String(i % 10);
	document.getElementById('app').replaceChildren(t);
}
fetch('/v1/session').then(r => r.text()).then(show);
document.addEventListener('keydown', e => { if (e.key >= '1' && e.key <= '9') { i++; setTimeout(show, 2); } });
</script>`

// TestBenchMeasures runs the benchmark's measurements on a page that behaves like the workbench.
func TestBenchMeasures(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/media/big":
			w.Header().Set("Content-Type", "image/png")
			fmt.Fprint(w, strings.Repeat("x", 200_000))
		case "/v1/session":
			fmt.Fprint(w, `{}`)
		default:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, fakeWorkbench)
		}
	}))
	defer srv.Close()
	b := NewBrowser(t)
	load, err := coldLoad(b, srv.URL+"/", false)
	if err != nil {
		t.Fatal(err)
	}
	if load.firstTask <= 0 || load.requests < 2 || load.bytes < int64(len(fakeWorkbench)) || load.bytes > 100_000 {
		t.Fatalf("cold load: %+v (the media's 200 kB must not count)", load)
	}
	slow, err := coldLoad(b, srv.URL+"/", true)
	if err != nil {
		t.Fatal(err)
	}
	if slow.firstTask < 2*Slow3GLatency {
		t.Fatalf("slow 3G first task after %s, want at least two round trips", slow.firstTask)
	}
	t.Logf("cold load %+v, on slow 3G %s", load, slow.firstTask)
	var res UIBenchResult
	if err := labelAll(b, 25, &res); err != nil {
		t.Fatal(err)
	}
	if res.Keys != 25 || len(res.KeyToNext) != 25 || res.KeysPerItem() != 1 || res.Median() <= 0 {
		t.Fatalf("labeling: %d keys, %d times, median %s", res.Keys, len(res.KeyToNext), res.Median())
	}
	var out strings.Builder
	PrintUIBench(&out, res)
	if !strings.Contains(out.String(), "key presses per item        1.00") {
		t.Fatal(out.String())
	}
}

// TestBenchOnWorkbench runs `labelflow bench ui` on the real workbench with a small project:
// one key per item, and the client receives the label of each key pressed.
func TestBenchOnWorkbench(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := benchOn(ctx, stack, "bench-ui-test", 12, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if res.KeysPerItem() != 1 || len(res.KeyToNext) != 12 || res.Delivered != 12 || res.PageBytes == 0 || res.FirstTaskSlow3G <= res.FirstTask {
		t.Fatalf("bench: %+v", res)
	}
	var out strings.Builder
	PrintUIBench(&out, res)
	t.Log(out.String())
}
