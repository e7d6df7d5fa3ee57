package webtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/labelflow/labelflow/internal/role"
)

// lowContrastJS lists the visible text of the page whose colour does not stand out enough from
// the background it is drawn on (WCAG 2 AA: 4.5:1, or 3:1 for large text: 24 px, or 18.66 px
// bold). The background is every ancestor's background colour composited over white, the text's
// colour is faded by the opacity of its element and ancestors. Text of disabled controls is
// exempt, as WCAG exempts inactive components.
const lowContrastJS = `(() => {
	const parse = s => {
		let m = s.match(/^rgba?\(([^)]*)\)/);
		if (m) {
			const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
			return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
		}
		m = s.match(/^color\(srgb ([^)]*)\)/);
		if (m) {
			const p = m[1].split(/[\s\/]+/).filter(Boolean).map(Number);
			return {r: p[0] * 255, g: p[1] * 255, b: p[2] * 255, a: p.length > 3 ? p[3] : 1};
		}
		return null;
	};
	const over = (top, under) => ({r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
		b: top.b * top.a + under.b * (1 - top.a), a: 1});
	const lum = c => {
		const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
	};
	const ratio = (x, y) => { const a = lum(x), b = lum(y); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
	const background = el => {
		const layers = [];
		for (let e = el; e; e = e.parentElement) {
			const c = parse(getComputedStyle(e).backgroundColor);
			if (c && c.a > 0) layers.push(c);
			if (c && c.a >= 1) break;
		}
		let bg = {r: 255, g: 255, b: 255, a: 1};
		for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
		return bg;
	};
	const opacity = el => { let o = 1; for (let e = el; e; e = e.parentElement) o *= +getComputedStyle(e).opacity; return o; };
	const hex = c => '#' + [c.r, c.g, c.b].map(v => Math.round(v).toString(16).padStart(2, '0')).join('');
	const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.classList.length ? '.' + [...el.classList].join('.') : '');
	const out = [], seen = new Set();
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	for (let n = walk.nextNode(); n; n = walk.nextNode()) {
		const el = n.parentElement;
		if (!el || seen.has(el) || !n.textContent.trim()) continue;
		seen.add(el);
		const s = getComputedStyle(el);
		const r = el.getBoundingClientRect();
		if (s.visibility !== 'visible' || r.width <= 1 || r.height <= 1 || !el.getClientRects().length) continue;
		if (el.closest('button:disabled, select:disabled, input:disabled, textarea:disabled, [aria-disabled="true"]')) continue;
		const fg = parse(s.color);
		if (!fg) continue;
		const bg = background(el);
		fg.a *= opacity(el);
		const got = ratio(over(fg, bg), bg);
		const size = parseFloat(s.fontSize), bold = +s.fontWeight >= 700;
		const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
		if (got < need) out.push(name(el) + ' "' + n.textContent.trim().slice(0, 40) + '": ' + hex(over(fg, bg)) + ' on ' + hex(bg) +
			' is ' + got.toFixed(2) + ':1, needs ' + need + ':1');
	}
	return out;
})()`

// checkContrast fails the test for each text of the page that is not readable enough.
func checkContrast(t *testing.T, b *Browser, screen string) {
	t.Helper()
	if low := Eval[[]string](b, lowContrastJS); len(low) > 0 {
		b.Shot("contrast-" + screen)
		t.Errorf("%s: text with too little contrast:\n  %s", screen, strings.Join(low, "\n  "))
	}
}

// TestTextContrastOnTheMainScreens: the text of the sign-in, feed, work, instructions, nothing to
// do, earnings, finance, ops and roster screens has WCAG AA contrast against its background.
func TestTextContrastOnTheMainScreens(t *testing.T) {
	project := launch(t, Launch{ID: "web-contrast", Type: "single-label", Taxonomy: []string{"clear", "blurred"},
		Items: items([]string{"The text is clear.", "The text is faint."}), SuiteSize: 2})
	token := worker(t, "web-contrast-a1", "Adjoa Boateng", role.Annotator, project)
	b := NewBrowser(t)
	b.Run(chromedp.Navigate(stack.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#signin-token")))
	checkContrast(t, b, "sign-in")

	b.SignIn(stack.URL, token)
	b.WaitVisible(`[data-project="` + project + `"] button.start`)
	checkContrast(t, b, "feed")
	openWork(b, project)
	checkContrast(t, b, "work")
	b.Run(click("#show-instructions"), chromedp.WaitVisible(chromedp.CSS("#instructions")))
	checkContrast(t, b, "instructions")
	b.Run(click("#show-instructions"))
	b.Keys("1")
	b.Keys("2")
	b.WaitVisible("#no-work") // both items answered: the page says when to come back
	checkContrast(t, b, "no-work")
	goTo(b, "#/earnings")
	b.WaitVisible("#earnings-month")
	checkContrast(t, b, "earnings")

	month := payrollMonth(t)
	fin := NewBrowser(t)
	fin.SignIn(stack.URL, staffPerson(t, "finance-contrast", role.Finance, "en"))
	fin.WaitVisible(fmt.Sprintf(`.payroll-month[data-month=%q]`, month))
	checkContrast(t, fin, "finance")
	goTo(fin, "#/finance/"+month)
	fin.WaitVisible("#country-summary")
	checkContrast(t, fin, "payroll-month")

	ops := NewBrowser(t)
	ops.SignIn(stack.URL, staffPerson(t, "ops-contrast", role.Ops, "en"))
	card := fmt.Sprintf(`.ops-project[data-project=%q]`, project)
	goTo(ops, "#/ops")
	ops.WaitVisible(card)
	checkContrast(t, ops, "ops")
	goTo(ops, "#/ops/"+project)
	ops.WaitVisible("#pause")
	checkContrast(t, ops, "ops-project")
	goTo(ops, "#/roster")
	ops.WaitVisible(`.person[data-person="web-contrast-a1"]`)
	checkContrast(t, ops, "roster")
}
