package webtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/labelflow/labelflow/internal/workforce"
)

// UIBenchOptions shape `labelflow bench ui`.
type UIBenchOptions struct {
	Items int    // items labeled in the browser, 200 by default
	Dir   string // state directory of the embedded stack
	// Log, when set, receives a line per step.
	Log io.Writer
}

// UIBenchResult is what the workbench benchmark measures.
type UIBenchResult struct {
	Items int
	// PageBytes is what the browser received (compressed, headers included) from opening the
	// workbench to the first task shown, item media excluded; Requests counts those requests.
	PageBytes int64
	Requests  int
	// FirstTask and FirstTaskSlow3G are from the start of the navigation to the first task in the
	// page, with a cold cache, unthrottled and on emulated slow 3G.
	FirstTask, FirstTaskSlow3G time.Duration
	// KeyToNext are the times from a key press to the next item in the page, one per item.
	KeyToNext []time.Duration
	// Keys is how many keys were pressed to label every item.
	Keys int
	// Delivered is how many items the client received with the label whose key was pressed.
	Delivered int
}

// Slow 3G as the benchmark emulates it.
const (
	Slow3GLatency = 400 * time.Millisecond
	Slow3GKbit    = 400
)

// Median and P95 of the key-to-next-item times.
func (r UIBenchResult) Median() time.Duration { return percentile(r.KeyToNext, 50) }
func (r UIBenchResult) P95() time.Duration    { return percentile(r.KeyToNext, 95) }

// KeysPerItem is the keys pressed per item labeled.
func (r UIBenchResult) KeysPerItem() float64 {
	if r.Items == 0 {
		return 0
	}
	return float64(r.Keys) / float64(r.Items)
}

// percentile is the nearest-rank p-th percentile of d.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

// BenchUI starts the embedded stack, launches a single-label project of o.Items items, signs an
// annotator in to the workbench in headless Chromium and labels every item with the keyboard,
// measuring the page as a person on a phone network would meet it.
func BenchUI(ctx context.Context, o UIBenchOptions) (UIBenchResult, error) {
	if o.Items == 0 {
		o.Items = 200
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	logf("starting the embedded stack")
	s, err := StartStack(ctx, o.Dir)
	if err != nil {
		return UIBenchResult{}, err
	}
	defer s.Stop()
	return benchOn(ctx, s, "bench-ui", o.Items, logf)
}

// benchOn runs the benchmark on a running stack with a project of n items.
func benchOn(ctx context.Context, s *Stack, id string, n int, logf func(string, ...any)) (UIBenchResult, error) {
	var res UIBenchResult
	project, token, err := benchProject(ctx, s, id, n)
	if err != nil {
		return res, err
	}
	b, stop := NewBrowserFor(ctx)
	defer stop()
	if err := b.SignInErr(s.URL, token); err != nil {
		return res, err
	}
	workURL := s.URL + "/#/work/" + project
	// A first visit waits for the new project's chunk to start and leases the first suite; the
	// measured visits then get that suite back at once, as a person reloading the page would.
	logf("waiting for the first task at %s", workURL)
	if _, err := coldLoad(b, workURL, false); err != nil {
		return res, err
	}
	logf("opening %s with a cold cache", workURL)
	load, err := coldLoad(b, workURL, false)
	if err != nil {
		return res, err
	}
	res.PageBytes, res.Requests, res.FirstTask = load.bytes, load.requests, load.firstTask
	logf("opening it again on slow 3G (%s RTT, %d kbit/s down and up)", Slow3GLatency, Slow3GKbit)
	slow, err := coldLoad(b, workURL, true)
	if err != nil {
		return res, err
	}
	res.FirstTaskSlow3G = slow.firstTask

	logf("labeling %d items with the keyboard", n)
	if err := labelAll(b, n, &res); err != nil {
		return res, err
	}
	logf("a second annotator gives the same answers through the API; checking the delivery")
	if err := checkDelivery(ctx, s, project, n); err != nil {
		return res, err
	}
	res.Delivered = n
	return res, nil
}

// benchTaxonomy is the benchmark project's classes; the key pressed for item i is 1+i%3.
var benchTaxonomy = []string{"positive", "negative", "neutral"}

// checkDelivery has a second annotator agree with every answer given in the browser and checks
// that the client receives, for every item, the class whose key was pressed.
func checkDelivery(ctx context.Context, s *Stack, project string, n int) error {
	token, err := s.Person(ctx, workforce.Person{ID: "bench-annotator-2", Name: "Bench Annotator 2", Languages: []string{"en"}})
	if err != nil {
		return err
	}
	for done := 0; done < n; {
		k, err := s.AnswerSuite(ctx, project, token, func(t Task) any { return benchTaxonomy[t.Item%3] })
		if err != nil {
			return err
		}
		done += k
	}
	got, err := s.WaitDelivered(ctx, project)
	if err != nil {
		return err
	}
	for i := range n {
		if want := `"` + benchTaxonomy[i%3] + `"`; string(got[ItemID(i)]) != want {
			return fmt.Errorf("item %s delivered as %s, but key %d (%s) was pressed for it", ItemID(i), got[ItemID(i)], 1+i%3, want)
		}
	}
	return nil
}

// benchProject launches the benchmark's project and registers its annotator.
func benchProject(ctx context.Context, s *Stack, id string, n int) (project, token string, err error) {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{Text: fmt.Sprintf("Review %d: the kettle arrived on time and boils water quickly.", i+1)}
	}
	project, err = s.Launch(ctx, Launch{ID: id, Type: "single-label", Taxonomy: benchTaxonomy,
		Items: items, SuiteSize: 10, Lease: 15 * time.Minute})
	if err != nil {
		return "", "", err
	}
	token, err = s.Person(ctx, workforce.Person{ID: "bench-annotator", Name: "Bench Annotator", Languages: []string{"en"}})
	return project, token, err
}

// loadResult is one cold load of the workbench.
type loadResult struct {
	bytes     int64
	requests  int
	firstTask time.Duration
}

// firstTaskJS runs before the page's own scripts and records when a task is first in the page,
// in milliseconds from the start of the navigation.
const firstTaskJS = `(() => {
	const seen = () => {
		if (window.__lfFirstTask === undefined && document.querySelector('#task[data-item]')) {
			window.__lfFirstTask = performance.now();
		}
		return window.__lfFirstTask !== undefined;
	};
	const mo = new MutationObserver(() => { if (seen()) mo.disconnect(); });
	mo.observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-item']});
})();`

// coldLoad opens url with the browser cache off, optionally on slow 3G, and measures the time
// to the first task and the bytes received until then.
func coldLoad(b *Browser, url string, slow3G bool) (loadResult, error) {
	var r loadResult
	ctx, cancel := context.WithTimeout(b.Ctx, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), setCache(false)); err != nil {
		return r, err
	}
	if slow3G {
		if err := chromedp.Do(ctx, throttle(Slow3GLatency, Slow3GKbit)); err != nil {
			return r, err
		}
		defer chromedp.Do(b.Ctx, throttle(0, 0), setCache(true))
	} else {
		defer chromedp.Do(b.Ctx, setCache(true))
	}
	script, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: firstTaskJS})
	if err != nil {
		return r, err
	}
	defer chromedp.Call(b.Ctx, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams(script))
	traffic := newTrafficMeter()
	lctx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	if err := chromedp.Listen(lctx, traffic.observe); err != nil {
		return r, err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return r, err
	}
	ms, err := chromedp.Run(ctx, chromedp.Poll[float64](`window.__lfFirstTask`, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil {
		return r, fmt.Errorf("no task (#task[data-item]) shown at %s: %w", url, err)
	}
	stopListening()
	r.bytes, r.requests = traffic.total()
	r.firstTask = time.Duration(ms * float64(time.Millisecond))
	return r, nil
}

// setCache turns the browser cache on or off for the tab.
func setCache(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: !on})
		return err
	})
}

// trafficMeter adds up the bytes of finished requests, item media excluded.
type trafficMeter struct {
	mu       sync.Mutex
	media    map[network.RequestID]bool
	bytes    int64
	requests int
}

func newTrafficMeter() *trafficMeter { return &trafficMeter{media: map[network.RequestID]bool{}} }

// observe runs in the tab's event loop: it only records.
func (m *trafficMeter) observe(ev any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		if strings.Contains(e.Request.URL, "/v1/media/") {
			m.media[e.RequestID] = true
		}
	case *network.EventLoadingFinished:
		if !m.media[e.RequestID] {
			m.bytes += int64(e.EncodedDataLength)
			m.requests++
		}
	}
}

func (m *trafficMeter) total() (int64, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes, m.requests
}

// keyTimerJS counts key presses and, for each, the time until the next task (or the end of
// the work) is in the page.
const keyTimerJS = `(() => {
	const where = () => {
		const t = document.querySelector('#task[data-item]');
		if (t) return t.dataset.suite + '/' + t.dataset.item;
		return document.querySelector('#no-work') ? 'no-work' : '';
	};
	const bench = window.__lfBench = {keys: 0, pressed: null, times: [], shown: 0, at: where()};
	document.addEventListener('keydown', () => { bench.keys++; bench.pressed = performance.now(); }, true);
	new MutationObserver(() => {
		const now = where();
		if (!now || now === bench.at) return;
		bench.at = now;
		bench.shown++;
		if (bench.pressed !== null) {
			bench.times.push(performance.now() - bench.pressed);
			bench.pressed = null;
		}
	}).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-item', 'data-suite']});
})();`

// benchState is what keyTimerJS has measured.
type benchState struct {
	Keys  int       `json:"keys"`
	Times []float64 `json:"times"`
	Shown int       `json:"shown"`
	At    string    `json:"at"`   // suite/item, or no-work
	Item  string    `json:"item"` // the item shown, "" when none
}

// labelAll labels n items with one digit key each (1+item%3), falling back on Enter when a
// digit alone does not move to the next item, and reads the page's timings.
func labelAll(b *Browser, n int, res *UIBenchResult) error {
	if err := b.Do(chromedp.WaitVisible(chromedp.CSS("#task[data-item]")), chromedp.Evaluate[chromedp.Void](keyTimerJS)); err != nil {
		return err
	}
	for i := range n {
		before, err := readBench(b)
		if err != nil {
			return err
		}
		var item int
		if _, err := fmt.Sscanf(before.Item, "%d", &item); err != nil {
			return fmt.Errorf("no task to label after %d items (page at %q)", i, before.At)
		}
		digit := string(rune('1' + item%3))
		if err := pressUntilNext(b, before.Shown, digit, "\r"); err != nil {
			return fmt.Errorf("item %d (%s): %w", i+1, before.At, err)
		}
	}
	st, err := readBench(b)
	if err != nil {
		return err
	}
	res.Items, res.Keys = n, st.Keys
	for _, ms := range st.Times {
		res.KeyToNext = append(res.KeyToNext, time.Duration(ms*float64(time.Millisecond)))
	}
	return nil
}

// pressUntilNext presses each key in turn until the page shows another task than the shown-th.
func pressUntilNext(b *Browser, shown int, keys ...string) error {
	for _, k := range keys {
		if err := b.Do(chromedp.KeyEvent(k)); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](fmt.Sprintf(`window.__lfBench.shown > %d`, shown),
			chromedp.WithPollingInterval(5*time.Millisecond), chromedp.WithPollingTimeout(0)))
		cancel()
		if err == nil {
			return nil
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
	return fmt.Errorf("the next item never came after pressing %q", keys)
}

func readBench(b *Browser) (benchState, error) {
	ctx, cancel := context.WithTimeout(b.Ctx, ActionTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[benchState](
		`({...window.__lfBench, item: document.querySelector('#task[data-item]')?.dataset.item ?? ''})`))
}

// PrintUIBench writes the result as `labelflow bench ui` prints it.
func PrintUIBench(w io.Writer, r UIBenchResult) {
	fmt.Fprintf(w, `bench ui: one annotator labels %d single-label items in headless Chromium
  page weight to first task   %.1f KiB in %d requests (compressed, headers included, cold cache, item media excluded)
  time to first task          %s unthrottled, %s on slow 3G (%s RTT, %d kbit/s down and up)
  key press to next item      median %s, p95 %s (%d items)
  key presses per item        %.2f
  delivered                   %d of %d items with the label of the key pressed (a second annotator agreeing through the API)
`, r.Items, float64(r.PageBytes)/1024, r.Requests, ms(r.FirstTask), ms(r.FirstTaskSlow3G), Slow3GLatency, Slow3GKbit,
		ms(r.Median()), ms(r.P95()), len(r.KeyToNext), r.KeysPerItem(), r.Delivered, r.Items)
}

// ms rounds d for display.
func ms(d time.Duration) time.Duration {
	if d < 10*time.Millisecond {
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
