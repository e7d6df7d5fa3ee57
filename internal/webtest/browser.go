package webtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Viewports of the desktop and the phone browser.
const (
	DesktopWidth, DesktopHeight = 1280, 800
	PhoneWidth, PhoneHeight     = 360, 740
)

// ActionTimeout bounds each b.Run, so that a page that never shows what a test waits for fails
// that test instead of the whole run.
var ActionTimeout = 20 * time.Second

// Browser is one headless Chromium tab with its own cookies and storage.
type Browser struct {
	// Ctx is the chromedp context of the tab; it has no deadline (b.Run adds one per call).
	Ctx context.Context
	// Artifacts is where Shot writes screenshots.
	Artifacts string

	t      testing.TB // nil outside tests
	cancel func()
}

// errNoChromium says why browser tests cannot run.
var errNoChromium = errors.New("no chromium: install it with `apt-get install -y chromium` (make test does when run as root)")

// ChromiumPath is the browser the tests drive: LABELFLOW_CHROMIUM when set, else Debian's
// /usr/bin/chromium, else chromium or chromium-browser on PATH. It fails when there is none.
func ChromiumPath() (string, error) {
	if p := os.Getenv("LABELFLOW_CHROMIUM"); p != "" {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errNoChromium
}

// allocatorOptions start headless Chromium; without a sandbox only when running as root, where
// Chromium refuses to start with one.
func allocatorOptions(path string) []chromedp.ExecAllocatorOption {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(DesktopWidth, DesktopHeight),
		chromedp.Flag("lang", "en-US"),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	return opts
}

// startBrowser starts a Chromium process that lives as long as ctx.
func startBrowser(ctx context.Context) (context.Context, func(), error) {
	path, err := ChromiumPath()
	if err != nil {
		return nil, nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, allocatorOptions(path)...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		return nil, nil, fmt.Errorf("start %s: %w", path, err)
	}
	return bctx, func() { cancelBrowser(); cancelAlloc() }, nil
}

// shared is the Chromium process of a test binary: every NewBrowser opens a tab in a browser
// context of its own in it, which is as separate as another browser and much cheaper.
var shared struct {
	sync.Mutex
	ctx  context.Context
	stop func()
}

// CloseBrowsers stops the shared Chromium process, if one was started. TestMain calls it.
func CloseBrowsers() {
	shared.Lock()
	defer shared.Unlock()
	if shared.stop != nil {
		shared.stop()
		shared.ctx, shared.stop = nil, nil
	}
}

func sharedBrowser() (context.Context, error) {
	shared.Lock()
	defer shared.Unlock()
	if shared.ctx != nil {
		return shared.ctx, nil
	}
	ctx, stop, err := startBrowser(context.Background())
	if err != nil {
		return nil, err
	}
	shared.ctx, shared.stop = ctx, stop
	return ctx, nil
}

// NewBrowser opens a fresh desktop tab (1280×800, no cookies) for the test; it closes when the
// test ends. Screenshots go to <repo>/test-artifacts/<TestName>/.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	parent, err := sharedBrowser()
	if err != nil {
		t.Fatal(err)
	}
	b, err := openTab(parent, filepath.Join(RepoRoot(), "test-artifacts", safeName(t.Name())))
	if err != nil {
		t.Fatal(err)
	}
	b.t = t
	t.Cleanup(b.cancel)
	return b
}

// NewBrowserFor starts a Chromium process of its own for use outside tests, with screenshots
// under <repo>/test-artifacts/<name of the program>. The returned func stops it.
func NewBrowserFor(ctx context.Context) (*Browser, func()) {
	bctx, stop, err := startBrowser(ctx)
	if err != nil {
		return &Browser{Ctx: failedContext(ctx, err)}, func() {}
	}
	b, err := openTab(bctx, filepath.Join(RepoRoot(), "test-artifacts", safeName(filepath.Base(os.Args[0]))))
	if err != nil {
		stop()
		return &Browser{Ctx: failedContext(ctx, err)}, func() {}
	}
	return b, func() { b.cancel(); stop() }
}

// failedContext is a cancelled context carrying err, so that the first action of a browser that
// could not start reports why.
func failedContext(parent context.Context, err error) context.Context {
	ctx, cancel := context.WithCancelCause(parent)
	cancel(err)
	return ctx
}

// openTab opens a tab in a new browser context of the browser of parent.
func openTab(parent context.Context, artifacts string) (*Browser, error) {
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	// The first action binds the tab to ctx: it must run without a deadline.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(DesktopWidth, DesktopHeight)); err != nil {
		cancel()
		return nil, fmt.Errorf("open a tab: %w", err)
	}
	return &Browser{Ctx: ctx, Artifacts: artifacts, cancel: cancel}, nil
}

// Phone makes the tab a 360×740 touch phone.
func (b *Browser) Phone() *Browser {
	b.Run(chromedp.EmulateViewport(PhoneWidth, PhoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch))
	return b
}

// Do runs the actions in order with ActionTimeout and returns the first error. If ctx carries a
// cause (a browser that could not start), that is the error.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) error {
	if err := context.Cause(b.Ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(b.Ctx, ActionTimeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// Run runs the actions in order; an error saves a screenshot and fails the test.
func (b *Browser) Run(actions ...chromedp.Action[chromedp.Void]) {
	if b.t != nil {
		b.t.Helper()
	}
	if err := b.Do(actions...); err != nil {
		b.fail(err)
	}
}

// fail ends the test with err, after a screenshot of the page as it was.
func (b *Browser) fail(err error) {
	if b.t == nil {
		panic(err)
	}
	b.t.Helper()
	if path, shotErr := b.save("failure"); shotErr == nil {
		b.t.Fatalf("%v (page: %s)", err, path)
	}
	b.t.Fatal(err)
}

// SignIn opens the workbench at baseURL and signs in with token, waiting until the sign-in form
// is gone and the sign-out button is there.
func (b *Browser) SignIn(baseURL, token string) {
	if b.t != nil {
		b.t.Helper()
	}
	if err := b.SignInErr(baseURL, token); err != nil {
		b.fail(err)
	}
}

// SignInErr is SignIn returning its error.
func (b *Browser) SignInErr(baseURL, token string) error {
	err := b.Do(
		chromedp.Navigate(strings.TrimSuffix(baseURL, "/")+"/"),
		chromedp.WaitVisible(chromedp.CSS("#signin-token")),
		chromedp.SendKeys(chromedp.CSS("#signin-token"), token),
		chromedp.Click(chromedp.CSS("#signin-submit")),
		chromedp.Poll[chromedp.Void](signedInJS, chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	return nil
}

// signedInJS is true once the sign-in form is gone and the sign-out button is in the page.
const signedInJS = `(() => {
	const f = document.querySelector('#signin-token');
	return (!f || f.offsetParent === null) && !!document.querySelector('#signout');
})()`

// Shot saves a PNG of the viewport as <Artifacts>/<nn>-<name>.png.
func (b *Browser) Shot(name string) {
	if b.t != nil {
		b.t.Helper()
	}
	if _, err := b.save(name); err != nil {
		b.fail(err)
	}
}

// save writes a screenshot and returns its path.
func (b *Browser) save(name string) (string, error) {
	ctx, cancel := context.WithTimeout(b.Ctx, ActionTimeout)
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	if err := os.MkdirAll(b.Artifacts, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(b.Artifacts, fmt.Sprintf("%02d-%s.png", nextShot(b.Artifacts), safeName(name)))
	return path, os.WriteFile(path, img, 0o644)
}

// shots numbers the screenshots of each artifacts directory in the order they are taken, across
// the browsers of a test.
var shots struct {
	sync.Mutex
	n map[string]int
}

// nextShot is the number of the next screenshot in dir. The first one of a run empties dir, so
// that it holds only this run's screenshots.
func nextShot(dir string) int {
	shots.Lock()
	defer shots.Unlock()
	if shots.n == nil {
		shots.n = map[string]int{}
	}
	if shots.n[dir] == 0 {
		clearPNGs(dir)
	}
	shots.n[dir]++
	return shots.n[dir]
}

// clearPNGs removes the screenshots of an earlier run from dir.
func clearPNGs(dir string) {
	old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, f := range old {
		os.Remove(f)
	}
}

// Throttle emulates a slow network: latency added to every request and the same bandwidth down
// and up. Throttle(0, 0) lifts it.
func (b *Browser) Throttle(latency time.Duration, kbitPerSec int) {
	if b.t != nil {
		b.t.Helper()
	}
	if err := b.Do(throttle(latency, kbitPerSec)); err != nil {
		b.fail(err)
	}
}

// throttle is the action of Throttle.
func throttle(latency time.Duration, kbitPerSec int) chromedp.Action[chromedp.Void] {
	rate := float64(kbitPerSec) * 1000 / 8
	if kbitPerSec <= 0 {
		rate = -1
	}
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{
				Latency: float64(latency.Milliseconds()), DownloadThroughput: rate, UploadThroughput: rate,
			}},
		})
		return err
	})
}

// Keys sends key presses to the focused element of the page ("\r" is Enter, kb.* names others).
func (b *Browser) Keys(keys string) {
	if b.t != nil {
		b.t.Helper()
	}
	b.Run(chromedp.KeyEvent(keys))
}

// Text is the visible text of the first element matching the CSS selector sel.
func (b *Browser) Text(sel string) string {
	if b.t != nil {
		b.t.Helper()
	}
	ctx, cancel := context.WithTimeout(b.Ctx, ActionTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fail(fmt.Errorf("text of %s: %w", sel, err))
	}
	return s
}

// WaitVisible waits until an element matching the CSS selector sel is visible.
func (b *Browser) WaitVisible(sel string) {
	if b.t != nil {
		b.t.Helper()
	}
	b.Run(chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Eval evaluates a JavaScript expression in the page and decodes its value into T.
func Eval[T any](b *Browser, expression string) T {
	if b.t != nil {
		b.t.Helper()
	}
	ctx, cancel := context.WithTimeout(b.Ctx, ActionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail(fmt.Errorf("evaluate %.80q: %w", expression, err))
	}
	return v
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName makes a test or screenshot name a file name.
func safeName(s string) string {
	return strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_")
}

// navigate opens url in the tab.
func navigate(url string) chromedp.Action[chromedp.Void] { return chromedp.Navigate(url) }
