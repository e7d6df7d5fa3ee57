package webtest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/workforce"
)

// TestLaunchAndDeliver launches a small project through the harness, has two people answer it
// through the API and reads what the client got.
func TestLaunchAndDeliver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id, err := stack.Launch(ctx, Launch{ID: "harness-texts", Type: "single-label", Taxonomy: []string{"yes", "no"},
		Items: []Item{{Text: "first"}, {Text: "second"}, {Text: "third", Image: tinyPNG(t)}}, SuiteSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"harness-ann-1", "harness-ann-2"} {
		token, err := stack.Person(ctx, workforce.Person{ID: who, Name: who})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := stack.AnswerSuite(ctx, id, token, Always("yes")); err != nil || n != 3 {
			t.Fatalf("%s answered %d tasks: %v", who, n, err)
		}
	}
	got, err := stack.WaitDelivered(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if string(got[ItemID(i)]) != `"yes"` {
			t.Fatalf("delivered %s = %s, want \"yes\" (all: %v)", ItemID(i), got[ItemID(i)], got)
		}
	}
}

func tinyPNG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 6))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// keyPage shows the keys pressed.
const keyPage = `<!doctype html><meta name="viewport" content="width=device-width"><title>keys</title><p id="out"></p>
<script>
document.addEventListener('keydown', e => { document.getElementById('out').textContent += e.key; });
</script>`

// TestBrowser drives a tab: keys, text, evaluation, screenshots and a throttled network.
func TestBrowser(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, keyPage)
	}))
	defer srv.Close()
	b := NewBrowser(t)
	b.Run(navigate(srv.URL))
	b.Keys("12\r")
	if got := Eval[string](b, `document.getElementById('out').textContent`); got != "12Enter" {
		t.Fatalf("keys seen by the page: %q", got)
	}
	if got := b.Text("#out"); got != "12Enter" {
		t.Fatalf("text = %q", got)
	}
	if w := Eval[int](b, `window.innerWidth`); w != DesktopWidth {
		t.Fatalf("desktop width %d", w)
	}
	b.Shot("keys")
	if _, err := os.Stat(filepath.Join(b.Artifacts, "01-keys.png")); err != nil {
		t.Fatal(err)
	}

	b.Throttle(300*time.Millisecond, 400)
	slow := Eval[float64](b, `(async () => { const t = performance.now(); await fetch('/x', {cache: 'no-store'}); return performance.now() - t; })()`)
	b.Throttle(0, 0)
	fast := Eval[float64](b, `(async () => { const t = performance.now(); await fetch('/x', {cache: 'no-store'}); return performance.now() - t; })()`)
	if slow < 300 || fast >= 300 {
		t.Fatalf("fetch took %.0f ms throttled, %.0f ms not", slow, fast)
	}

	phone := NewBrowser(t).Phone()
	phone.Run(navigate(srv.URL))
	if w := Eval[int](phone, `window.innerWidth`); w != PhoneWidth {
		t.Fatalf("phone width %d", w)
	}
}
