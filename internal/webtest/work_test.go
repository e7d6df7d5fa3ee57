package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
)

// The annotator and reviewer workbench in a real browser: the feed, every editor, arbitration,
// leases, reload, French and a phone. Each project requires a skill of its own, so that a feed
// shows only the project of its test.

// worker registers a person with the skill of the test's project, waits until the project is in
// their feed and returns their token.
func worker(t *testing.T, id, name, personRole, project string, languages ...string) string {
	t.Helper()
	token := person(t, id, name, personRole, project, languages...)
	waitInFeed(t, token, project)
	return token
}

// person registers a person with one skill and returns their token.
func person(t *testing.T, id, name, personRole, skill string, languages ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if len(languages) == 0 {
		languages = []string{"en"}
	}
	token, err := stack.Person(ctx, workforce.Person{ID: id, Name: name, Role: personRole, Skills: []string{skill}, Languages: languages})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// launch starts a project that requires its own id as a skill.
func launch(t *testing.T, l Launch) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l.RequiredSkills = append(l.RequiredSkills, l.ID)
	id, err := stack.Launch(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// delivered waits for the project's delivery and returns each item's label.
func delivered(t *testing.T, project string) map[string]json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got, err := stack.WaitDelivered(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// waitInFeed waits until the project is in the person's feed: a project just launched joins
// feeds once its spec is stored and the shared list of projects is next refreshed.
func waitInFeed(t *testing.T, token, project string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequest(http.MethodGet, stack.URL+"/v1/projects", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var feed struct {
			Projects []struct {
				ID string `json:"id"`
			} `json:"projects"`
		}
		err = json.NewDecoder(resp.Body).Decode(&feed)
		resp.Body.Close()
		for _, p := range feed.Projects {
			if err == nil && p.ID == project {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("project %s never came into the feed", project)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// answerByAPI gives the other annotator's answers through the API, as a second person would.
func answerByAPI(t *testing.T, project, token string, answer func(Task) any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if _, err := stack.AnswerSuite(ctx, project, token, answer); err != nil {
		t.Fatal(err)
	}
}

// until waits for a JavaScript expression to be true in the page.
func until(b *Browser, expression string) {
	b.t.Helper()
	b.Run(chromedp.Poll[chromedp.Void](expression, chromedp.WithPollingInterval(20*time.Millisecond)))
}

// watchPage fails the test, when it ends, if the page threw an exception or logged an error
// other than a failed request (a content security policy violation, a script error).
func watchPage(t *testing.T, b *Browser) {
	t.Helper()
	var mu sync.Mutex
	var problems []string
	err := chromedp.Listen(b.Ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *cdpruntime.EventExceptionThrown:
			d := e.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			problems = append(problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError && e.Entry.Source != cdplog.EntrySourceNetwork {
				problems = append(problems, fmt.Sprintf("%s error: %s", e.Entry.Source, e.Entry.Text))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Error(p)
		}
	})
}

// openWork opens the project's work screen and waits for its first task: a project just
// launched may offer none for a few seconds, and the page asks again on its own.
func openWork(b *Browser, project string) {
	b.t.Helper()
	b.Run(chromedp.Navigate(stack.URL+"/#/work/"+project), chromedp.WaitVisible(chromedp.CSS("#task[data-item]")))
}

// startFromFeed starts the project from the feed with the keyboard alone: its start button has
// the focus (the feed gives it to the first project; other tests' projects may come first in
// this shared stack) and Enter starts it. It waits for the first task.
func startFromFeed(b *Browser, project string) {
	b.t.Helper()
	start := chromedp.CSS(`[data-project="` + project + `"] button.start`)
	b.Run(chromedp.WaitVisible(start), chromedp.Focus(start))
	b.Keys("\r")
	b.WaitVisible("#task[data-item]")
}

// shownTask is the task on screen.
type shownTask struct {
	Item  int    `json:"item"`
	Suite string `json:"suite"`
	Kind  string `json:"kind"`
	Text  string `json:"text"`
}

func (s shownTask) key() string { return fmt.Sprintf("%s/%d", s.Suite, s.Item) }

const shownTaskJS = `(() => {
	const t = document.querySelector('#task[data-item]');
	if (!t) return null;
	const text = t.querySelector('.item-text, #ner-text');
	return {item: +t.dataset.item, suite: t.dataset.suite, kind: t.dataset.kind, text: text ? text.textContent : ''};
})()`

// nextTask waits until a task other than after is on screen and returns it, or returns false
// once #no-work says there is nothing left.
func nextTask(b *Browser, after string) (shownTask, bool) {
	b.t.Helper()
	until(b, fmt.Sprintf(`(() => { const t = %s; return (t && (t.suite + '/' + t.item) !== %q) || !!document.querySelector('#no-work'); })()`,
		shownTaskJS, after))
	t := Eval[*shownTask](b, shownTaskJS)
	if t == nil || t.key() == after {
		return shownTask{}, false
	}
	return *t, true
}

// itemOf finds the index of the item whose text the task shows.
func itemOf(t *testing.T, texts []string, task shownTask) int {
	t.Helper()
	i := slices.Index(texts, task.Text)
	if i < 0 {
		t.Fatalf("task %s shows %q, no item of the project", task.key(), task.Text)
	}
	return i
}

// labelWithKeys labels every task offered with one digit key each and returns how many.
func labelWithKeys(t *testing.T, b *Browser, texts []string, digit func(item int) string) int {
	t.Helper()
	n, at := 0, ""
	for {
		task, ok := nextTask(b, at)
		if !ok {
			return n
		}
		b.Keys(digit(itemOf(t, texts, task)))
		at, n = task.key(), n+1
	}
}

func items(texts []string) []Item {
	out := make([]Item, len(texts))
	for i, s := range texts {
		out[i] = Item{Text: s}
	}
	return out
}

func jsonString(s string) json.RawMessage { b, _ := json.Marshal(s); return b }

// TestSingleLabelByKeyboardWithArbitration: two annotators label a project with one key per
// item, disagreeing on two items; a reviewer, who sees the two answers and no name, picks one for
// each; the client gets exactly what was typed and picked.
func TestSingleLabelByKeyboardWithArbitration(t *testing.T) {
	taxonomy := []string{"positive", "negative", "neutral"}
	texts := []string{"Review 1: arrived on time.", "Review 2: broke in a week.", "Review 3: it is a kettle.",
		"Review 4: lovely colour.", "Review 5: fine, I suppose.", "Review 6: the lid sticks but it works."}
	first := []int{0, 1, 2, 0, 0, 1}
	second := []int{0, 1, 2, 0, 2, 0} // items 4 and 5 disputed
	picked := map[int]int{4: 0, 5: 0} // the reviewer sides with the first on 4, the second on 5
	project := launch(t, Launch{ID: "web-keys", Type: "single-label", Taxonomy: taxonomy, Items: items(texts), SuiteSize: 6,
		Instructions: "Is the review positive, negative or neutral?"})
	annotators := []struct{ id, name string }{{"web-keys-a1", "Amani Kiptoo"}, {"web-keys-a2", "Chiamaka Obi"}}

	for n, labels := range [][]int{first, second} {
		token := worker(t, annotators[n].id, annotators[n].name, role.Annotator, project)
		b := NewBrowser(t)
		watchPage(t, b)
		watchPage(t, b)
		b.SignIn(stack.URL, token)
		b.WaitVisible(`[data-project="` + project + `"] button.start`)
		if n == 0 {
			b.Shot("feed")
		}
		startFromFeed(b, project)
		if n == 0 {
			b.Shot("single-label")
		}
		done := labelWithKeys(t, b, texts, func(i int) string { return fmt.Sprint(labels[i] + 1) })
		if done != len(texts) {
			t.Fatalf("annotator %d labeled %d items, want %d", n+1, done, len(texts))
		}
		if n == 0 {
			b.Shot("no-more-work")
		}
	}

	reviewer := worker(t, "web-keys-r1", "Rehema Mwangi", role.Reviewer, project)
	b := NewBrowser(t)
	watchPage(t, b)
	b.SignIn(stack.URL, reviewer)
	startFromFeed(b, project)
	at, arbitrated := "", 0
	for {
		task, ok := nextTask(b, at)
		if !ok {
			break
		}
		if task.Kind != "arbitrate" {
			t.Fatalf("the reviewer was given %s work", task.Kind)
		}
		until(b, `document.querySelectorAll('.candidate').length === 2`)
		page := Eval[string](b, `document.documentElement.outerHTML + document.body.innerText`)
		for _, a := range annotators {
			if strings.Contains(page, a.id) || strings.Contains(page, a.name) {
				t.Fatalf("arbitration shows %q or %q", a.id, a.name)
			}
		}
		if arbitrated == 0 {
			b.Shot("arbitration")
		}
		i := itemOf(t, texts, task)
		want := taxonomy[[][]int{first, second}[picked[i]][i]]
		k := Eval[int](b, fmt.Sprintf(`[...document.querySelectorAll('.candidate .answer-label')].findIndex(e => e.textContent === %q)`, want))
		if k < 0 {
			t.Fatalf("item %d: no candidate says %q", i, want)
		}
		b.Keys(fmt.Sprint(k + 1))
		at, arbitrated = task.key(), arbitrated+1
	}
	if arbitrated != len(picked) {
		t.Fatalf("the reviewer arbitrated %d items, want %d", arbitrated, len(picked))
	}

	got := delivered(t, project)
	for i := range texts {
		want := taxonomy[first[i]]
		if p, ok := picked[i]; ok {
			want = taxonomy[[][]int{first, second}[p][i]]
		}
		if string(got[ItemID(i)]) != string(jsonString(want)) {
			t.Errorf("item %d delivered %s, want %q", i, got[ItemID(i)], want)
		}
	}
}

// boxImage is a test picture with two shapes to box.
func boxImage(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{R: 40, G: 90, B: 140, A: 255}
			if x > w/8 && x < w/2 && y > h/8 && y < h/2 {
				c = color.RGBA{R: 220, G: 60, B: 40, A: 255}
			}
			if x > w/2 && y > h/2 && x < w-10 && y < h-10 {
				c = color.RGBA{R: 240, G: 200, B: 60, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type drawnBox struct {
	Label                    string
	Left, Top, Width, Height float64
}

// drawBox drags the mouse over the image from (x0, y0) to (x1, y1), in image pixels, as a
// person would: pressed, a few moves, released.
func drawBox(b *Browser, x0, y0, x1, y1 float64) {
	b.t.Helper()
	type canvas struct{ X, Y, Zoom float64 }
	c := Eval[canvas](b, `(() => { const c = document.querySelector('#canvas'); const r = c.getBoundingClientRect();
		return {x: r.left, y: r.top, zoom: +c.dataset.zoom}; })()`)
	at := func(x, y float64) (float64, float64) { return c.X + x*c.Zoom, c.Y + y*c.Zoom }
	sx, sy := at(x0, y0)
	actions := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(chromedp.MousePressed, sx, sy, chromedp.ButtonLeft, chromedp.ClickCount(1))}
	for step := 1; step <= 5; step++ {
		f := float64(step) / 5
		x, y := at(x0+(x1-x0)*f, y0+(y1-y0)*f)
		actions = append(actions, chromedp.MouseEvent(chromedp.MouseMoved, x, y, chromedp.ButtonLeft))
	}
	ex, ey := at(x1, y1)
	actions = append(actions, chromedp.MouseEvent(chromedp.MouseReleased, ex, ey, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	b.Run(actions...)
}

// TestBoxesDrawnWithTheMouse: an annotator draws boxes with the mouse, choosing the class with a
// number key; the delivered COCO boxes are the drawn pixels.
func TestBoxesDrawnWithTheMouse(t *testing.T) {
	const w, h = 320, 240
	want := [][]drawnBox{
		{{"car", 40, 30, 160, 120}},
		{{"car", 12, 10, 88, 70}, {"person", 150, 100, 150, 120}},
	}
	project := launch(t, Launch{ID: "web-boxes", Type: "bounding-box", Taxonomy: []string{"car", "person"},
		Items: []Item{{Image: boxImage(t, w, h)}, {Image: boxImage(t, w, h)}}, SuiteSize: 2})
	token := worker(t, "web-boxes-a1", "Baraka Otieno", role.Annotator, project)
	b := NewBrowser(t)
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	openWork(b, project)

	at, drawn := "", map[int]bool{}
	for {
		task, ok := nextTask(b, at)
		if !ok {
			break
		}
		until(b, `(() => { const c = document.querySelector('#canvas'); const i = c && c.querySelector('img');
			return !!i && i.complete && i.naturalWidth > 0 && +c.dataset.zoom > 0; })()`)
		for _, bx := range want[task.Item] {
			// Draw, then give the new box (selected once drawn) its class with a number key.
			drawBox(b, bx.Left, bx.Top, bx.Left+bx.Width, bx.Top+bx.Height)
			b.Keys(map[string]string{"car": "1", "person": "2"}[bx.Label])
		}
		if n := Eval[int](b, `document.querySelectorAll('#canvas .box').length`); n != len(want[task.Item]) {
			t.Fatalf("item %d: %d boxes on the image, want %d", task.Item, n, len(want[task.Item]))
		}
		if len(drawn) == 1 {
			b.Shot("boxes")
		}
		drawn[task.Item] = true
		b.Keys("\r")
		at = task.key()
	}
	if len(drawn) != len(want) {
		t.Fatalf("drew on %d images, want %d", len(drawn), len(want))
	}

	other := worker(t, "web-boxes-a2", "Wanjiru Kamau", role.Annotator, project)
	answerByAPI(t, project, other, func(task Task) any {
		boxes := []map[string]any{}
		for _, bx := range want[task.Item] {
			boxes = append(boxes, map[string]any{"label": bx.Label, "left": bx.Left, "top": bx.Top, "width": bx.Width, "height": bx.Height})
		}
		return map[string]any{"boxes": boxes}
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data, err := stack.DeliveredCOCO(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	var coco struct {
		Images []struct {
			ID       int    `json:"id"`
			FileName string `json:"file_name"`
		} `json:"images"`
		Categories []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"categories"`
		Annotations []struct {
			ImageID    int        `json:"image_id"`
			CategoryID int        `json:"category_id"`
			BBox       [4]float64 `json:"bbox"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(data, &coco); err != nil {
		t.Fatal(err)
	}
	category := map[int]string{}
	for _, c := range coco.Categories {
		category[c.ID] = c.Name
	}
	got := map[int][]drawnBox{}
	for _, a := range coco.Annotations {
		img := coco.Images[a.ImageID-1]
		var item int
		if _, err := fmt.Sscanf(img.FileName[strings.LastIndex(img.FileName, "/")+1:], "%04d.png", &item); err != nil {
			t.Fatalf("image %s: %v", img.FileName, err)
		}
		got[item] = append(got[item], drawnBox{category[a.CategoryID], a.BBox[0], a.BBox[1], a.BBox[2], a.BBox[3]})
	}
	for item, boxes := range want {
		if len(got[item]) != len(boxes) {
			t.Fatalf("item %d: delivered %+v, want %+v", item, got[item], boxes)
		}
		for _, wb := range boxes {
			if !slices.ContainsFunc(got[item], func(g drawnBox) bool {
				return g.Label == wb.Label && math.Abs(g.Left-wb.Left) <= 1 && math.Abs(g.Top-wb.Top) <= 1 &&
					math.Abs(g.Width-wb.Width) <= 1 && math.Abs(g.Height-wb.Height) <= 1
			}) {
				t.Errorf("item %d: delivered %+v, want %+v within 1 px", item, got[item], wb)
			}
		}
	}
}

type span struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Label string `json:"label"`
}

// charCentre is where the character at offset is on screen.
func charCentre(b *Browser, offset int) (float64, float64) {
	b.t.Helper()
	type point struct{ X, Y float64 }
	p := Eval[point](b, fmt.Sprintf(`(() => { const r = document.querySelector('#ner-text [data-offset="%d"]').getBoundingClientRect();
		return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()`, offset))
	return p.X, p.Y
}

// selectWithMouse drags from the character at from to the one at to (both included).
func selectWithMouse(b *Browser, from, to int) {
	b.t.Helper()
	x0, y0 := charCentre(b, from)
	x1, y1 := charCentre(b, to)
	b.Run(chromedp.MouseEvent(chromedp.MousePressed, x0, y0, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(chromedp.MouseMoved, (x0+x1)/2, (y0+y1)/2, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x1, y1, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, x1, y1, chromedp.ButtonLeft, chromedp.ClickCount(1)))
}

// selectWithKeys clicks the character at from and extends the selection with Shift+Right to
// the one at to (included).
func selectWithKeys(b *Browser, from, to int) {
	b.t.Helper()
	x, y := charCentre(b, from)
	b.Run(chromedp.MouseClickXY(x, y))
	for range to - from {
		b.Run(chromedp.KeyEvent(kb.ArrowRight, chromedp.KeyModifiers(chromedp.ModifierShift)))
	}
}

// TestNamedEntitySpans: spans selected with the mouse and with Shift+arrows, typed with number
// keys, are delivered with their offsets in code points (the emoji counts once).
func TestNamedEntitySpans(t *testing.T) {
	texts := []string{"Amina Diallo vit à Dakar.", "Le 🙂 de Kofi Annan à Accra."}
	want := [][]span{
		{{0, 12, "PER"}, {19, 24, "LOC"}},
		{{8, 18, "PER"}, {21, 26, "LOC"}},
	}
	project := launch(t, Launch{ID: "web-spans", Type: "named-entities", Taxonomy: []string{"PER", "LOC"}, Items: items(texts), SuiteSize: 2})
	token := worker(t, "web-spans-a1", "Kwame Mensah", role.Annotator, project)
	b := NewBrowser(t)
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	openWork(b, project)
	at, done := "", 0
	for {
		task, ok := nextTask(b, at)
		if !ok {
			break
		}
		i := itemOf(t, texts, task)
		if n := Eval[int](b, `document.querySelectorAll('#ner-text span[data-offset]').length`); n != len([]rune(texts[i])) {
			t.Fatalf("item %d: %d character spans, want %d code points", i, n, len([]rune(texts[i])))
		}
		selectWithMouse(b, want[i][0].Start, want[i][0].End-1)
		b.Keys("1")
		selectWithKeys(b, want[i][1].Start, want[i][1].End-1)
		b.Keys("2")
		if n := Eval[int](b, `document.querySelectorAll('#ner-text .entity[data-start][data-end][data-label]').length`); n != 2 {
			t.Fatalf("item %d: %d entities highlighted, want 2", i, n)
		}
		if done == 0 {
			b.Shot("entities")
		}
		b.Keys("\r")
		at, done = task.key(), done+1
	}
	if done != len(texts) {
		t.Fatalf("annotated %d texts, want %d", done, len(texts))
	}
	other := worker(t, "web-spans-a2", "Ama Boateng", role.Annotator, project)
	answerByAPI(t, project, other, func(task Task) any { return map[string]any{"spans": want[slices.Index(texts, task.Source)]} })

	got := delivered(t, project)
	for i := range texts {
		var label struct{ Spans []span }
		if err := json.Unmarshal(got[ItemID(i)], &label); err != nil {
			t.Fatalf("item %d: %s: %v", i, got[ItemID(i)], err)
		}
		slices.SortFunc(label.Spans, func(a, b span) int { return a.Start - b.Start })
		if !slices.Equal(label.Spans, want[i]) {
			t.Errorf("item %d delivered %+v, want %+v", i, label.Spans, want[i])
		}
	}
}

// TestReloadKeepsAnswers: a reload in the middle of a suite brings back the same suite with the
// answers already given, and the work goes on from the first unanswered item.
func TestReloadKeepsAnswers(t *testing.T) {
	texts := []string{"Sentence one.", "Sentence two.", "Sentence three.", "Sentence four."}
	labels := []string{"yes", "no", "no", "yes"}
	taxonomy := []string{"yes", "no"}
	project := launch(t, Launch{ID: "web-reload", Type: "single-label", Taxonomy: taxonomy, Items: items(texts), SuiteSize: 4})
	token := worker(t, "web-reload-a1", "Fatou Ndiaye", role.Annotator, project)
	b := NewBrowser(t)
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	openWork(b, project)
	key := func(i int) string { return fmt.Sprint(slices.Index(taxonomy, labels[i]) + 1) }

	var answered []int
	at := ""
	for range 2 {
		task, ok := nextTask(b, at)
		if !ok {
			t.Fatal("no task")
		}
		i := itemOf(t, texts, task)
		b.Keys(key(i))
		answered, at = append(answered, i), task.key()
	}
	suite := strings.Split(at, "/")[0]
	until(b, fmt.Sprintf(`(() => { const t = %s; return t && (t.suite + '/' + t.item) !== %q; })()`, shownTaskJS, at))
	b.Run(chromedp.Reload())
	task, ok := nextTask(b, "")
	if !ok {
		t.Fatal("no task after the reload")
	}
	b.Shot("after-reload")
	if task.Suite != suite {
		t.Fatalf("after the reload suite %s, want %s again", task.Suite, suite)
	}
	if slices.Contains(answered, itemOf(t, texts, task)) {
		t.Fatalf("after the reload the answered item %q is asked again", task.Text)
	}
	if v := Eval[float64](b, `document.querySelector('#progress').value`); v != 2 {
		t.Fatalf("after the reload %v answers counted, want 2", v)
	}
	b.Keys(key(itemOf(t, texts, task)))
	if n := labelWithKeys(t, b, texts, key); n != 1 {
		t.Fatalf("labeled %d more items, want 1", n)
	}
	other := worker(t, "web-reload-a2", "Moussa Traoré", role.Annotator, project)
	answerByAPI(t, project, other, func(task Task) any { return labels[slices.Index(texts, task.Source)] })
	got := delivered(t, project)
	for i, l := range labels {
		if string(got[ItemID(i)]) != string(jsonString(l)) {
			t.Errorf("item %d delivered %s, want %q", i, got[ItemID(i)], l)
		}
	}
}

// TestExpiredLeaseIsShown: when the lease runs out the page says so, drops the task and offers
// new work.
func TestExpiredLeaseIsShown(t *testing.T) {
	project := launch(t, Launch{ID: "web-lease", Type: "single-label", Taxonomy: []string{"yes", "no"},
		Items: items([]string{"One.", "Two.", "Three."}), SuiteSize: 3, Lease: 10 * time.Second})
	token := worker(t, "web-lease-a1", "Zawadi Njeri", role.Annotator, project)
	b := NewBrowser(t)
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	openWork(b, project)
	if s := b.Text("#lease"); !strings.Contains(s, ":") {
		t.Fatalf("#lease shows %q, not a countdown", s)
	}
	b.Keys("1")
	b.WaitVisible("#lease-expired")
	b.Shot("lease-expired")
	if n := Eval[int](b, `document.querySelectorAll('#task').length`); n != 0 {
		t.Fatal("the task is still on screen after the lease ran out")
	}
	// The items of a lease that ran out go to other people: new work is another suite, or none.
	b.Run(chromedp.Click(chromedp.CSS("#new-work")))
	until(b, `!!document.querySelector('#task[data-item], #no-work')`)
}

// englishLeftJS lists the visible texts and labels of the page that are English catalogue values
// differing from their French ones, templates included.
const englishLeftJS = `(async () => {
	const [en, fr] = await Promise.all(['en', 'fr'].map(l => fetch('/ui/messages/' + l + '.json').then(r => r.json())));
	const exact = new Set(), patterns = [];
	for (const k of Object.keys(en)) {
		if (fr[k] === en[k]) continue;
		const v = en[k].trim();
		if (v.includes('{')) {
			const re = v.split(/\{\w+\}/).map(p => p.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('.*');
			if (re.replace(/\.\*/g, '').trim().length > 3) patterns.push(new RegExp('^' + re + '$'));
		} else exact.add(v);
	}
	const english = s => exact.has(s) || patterns.some(p => p.test(s));
	const found = [];
	const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	while (walk.nextNode()) {
		const n = walk.currentNode, s = n.textContent.trim();
		if (s && n.parentElement.getClientRects().length && english(s)) found.push(s);
	}
	for (const e of document.querySelectorAll('[aria-label], [title], [alt], [placeholder]')) {
		for (const a of ['aria-label', 'title', 'alt', 'placeholder']) {
			const v = (e.getAttribute(a) || '').trim();
			if (v && english(v)) found.push(a + '=' + v);
		}
	}
	return {lang: document.documentElement.lang, found: found};
})()`

type englishLeft struct {
	Lang  string   `json:"lang"`
	Found []string `json:"found"`
}

func checkFrench(t *testing.T, b *Browser, screen string) {
	t.Helper()
	got := Eval[englishLeft](b, englishLeftJS)
	if got.Lang != "fr" {
		t.Errorf("%s: <html lang=%q>, want fr", screen, got.Lang)
	}
	if len(got.Found) > 0 {
		t.Errorf("%s shows English: %q", screen, got.Found)
	}
}

// TestFrenchWorkbenchShowsNoEnglish: a French-speaking annotator gets the workbench in French on
// every screen they use.
func TestFrenchWorkbenchShowsNoEnglish(t *testing.T) {
	project := launch(t, Launch{ID: "web-fr", Type: "single-label", Taxonomy: []string{"oui", "non"},
		Items: items([]string{"Le colis est arrivé.", "Il manque une pièce."}), SuiteSize: 2, Languages: []string{"fr"},
		Instructions: "Le client est-il satisfait ?"})
	token := worker(t, "web-fr-a1", "Aïssatou Diop", role.Annotator, project, "fr")
	b := NewBrowser(t)
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	b.WaitVisible(`[data-project="` + project + `"] button.start`)
	checkFrench(t, b, "feed")
	b.Shot("feed-fr")
	startFromFeed(b, project)
	b.Run(chromedp.Click(chromedp.CSS("#show-instructions")))
	b.WaitVisible("#instructions")
	if n := Eval[int](b, `[...document.querySelectorAll('p.hint')].filter(p => p.offsetParent !== null).length`); n != 1 {
		t.Errorf("with the instructions open, %d key hints are shown; want the one under the task", n)
	}
	checkFrench(t, b, "task")
	b.Shot("task-fr")
	b.Keys("1")
	b.Keys("2")
	b.WaitVisible("#no-work")
	checkFrench(t, b, "no work")
	b.Run(chromedp.Click(chromedp.CSS("#nav-earnings")))
	b.WaitVisible("#earnings-month h2")
	checkFrench(t, b, "earnings")
	b.Shot("earnings-fr")
}

// TestPhoneSingleLabel: the whole single-label flow on a 360 px touch screen, nothing wider
// than the screen.
func TestPhoneSingleLabel(t *testing.T) {
	texts := []string{"Karibu sana.", "Asante.", "Habari gani?", "Pole pole."}
	project := launch(t, Launch{ID: "web-phone", Type: "single-label", Taxonomy: []string{"greeting", "thanks", "other"},
		Items: items(texts), SuiteSize: 4})
	token := worker(t, "web-phone-a1", "Neema Akinyi", role.Annotator, project)
	b := NewBrowser(t).Phone()
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	start := `[data-project="` + project + `"] button.start`
	b.WaitVisible(start)
	b.Shot("phone-feed")
	noOverflow := `document.documentElement.scrollWidth <= window.innerWidth`
	if !Eval[bool](b, noOverflow) {
		t.Errorf("the feed is wider than the phone: %d px", Eval[int](b, `document.documentElement.scrollWidth`))
	}
	b.Run(chromedp.Click(chromedp.CSS(start)), chromedp.WaitVisible(chromedp.CSS("#task[data-item]")))
	at, n := "", 0
	for {
		task, ok := nextTask(b, at)
		if !ok {
			break
		}
		if n == 0 {
			b.Shot("phone-task")
			if !Eval[bool](b, noOverflow) {
				t.Errorf("the task is wider than the phone: %d px", Eval[int](b, `document.documentElement.scrollWidth`))
			}
		}
		b.Run(chromedp.Click(chromedp.CSS(`button.option[data-class="other"]`)))
		at, n = task.key(), n+1
	}
	if n != len(texts) {
		t.Fatalf("labeled %d items on the phone, want %d", n, len(texts))
	}
	b.Shot("phone-done")
}

// offline cuts the tab off the network (requests fail, navigator.onLine is false) or brings it
// back.
func offline(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		rate := float64(-1)
		if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: on, DownloadThroughput: rate, UploadThroughput: rate}},
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: on, DownloadThroughput: rate, UploadThroughput: rate})
		return err
	})
}

// TestOfflineAnswersWaitAndAreSent: answers given without a connection wait on the device,
// counted in #pending, and are sent when the connection returns.
func TestOfflineAnswersWaitAndAreSent(t *testing.T) {
	texts := []string{"Mvua inanyesha.", "Jua kali leo."}
	labels := []string{"rain", "sun"}
	project := launch(t, Launch{ID: "web-offline", Type: "single-label", Taxonomy: labels, Items: items(texts), SuiteSize: 2})
	token := worker(t, "web-offline-a1", "Juma Hassan", role.Annotator, project)
	b := NewBrowser(t)
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	openWork(b, project)
	key := func(i int) string { return fmt.Sprint(i + 1) } // labels[i] is the i-th class
	task, ok := nextTask(b, "")
	if !ok {
		t.Fatal("no task")
	}
	b.Keys(key(itemOf(t, texts, task)))
	last, ok := nextTask(b, task.key())
	if !ok {
		t.Fatal("no second task")
	}
	b.Run(offline(true))
	b.Keys(key(itemOf(t, texts, last)))
	b.WaitVisible("#pending")
	if s := b.Text("#pending"); !strings.Contains(s, "1") {
		t.Fatalf("#pending says %q, want one suite waiting", s)
	}
	b.Shot("offline")
	b.Run(offline(false))
	b.WaitVisible("#no-work")
	until(b, `document.querySelector('#pending').hidden`)

	other := worker(t, "web-offline-a2", "Halima Said", role.Annotator, project)
	answerByAPI(t, project, other, func(task Task) any { return labels[slices.Index(texts, task.Source)] })
	got := delivered(t, project)
	for i, l := range labels {
		if string(got[ItemID(i)]) != string(jsonString(l)) {
			t.Errorf("item %d delivered %s, want %q", i, got[ItemID(i)], l)
		}
	}
}

// TestEarningsTraceStatementToItems: an annotator paid in a payroll finds the month's statement
// and, under each of its lines, the items it pays.
func TestEarningsTraceStatementToItems(t *testing.T) {
	month := payrollMonth(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	token, err := stack.Person(ctx, workforce.Person{ID: staffAnnotators[0], Name: staffAnnotators[0], Languages: []string{"en"}})
	if err != nil {
		t.Fatal(err)
	}
	b := NewBrowser(t)
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	b.Run(chromedp.Click(chromedp.CSS("#nav-earnings")))
	b.WaitVisible("#earnings-month h2")
	statement := `.statement[data-month="` + month + `"]`
	b.WaitVisible(statement)
	b.Run(chromedp.Click(chromedp.CSS(statement + ` > button`)))
	line := statement + ` .line[data-project="` + staffProject + `"]`
	b.WaitVisible(line)
	b.Run(chromedp.Click(chromedp.CSS(line + ` button`)))
	b.WaitVisible(line + ` .items li`)
	if n := Eval[int](b, `document.querySelectorAll('`+line+` .items li').length`); n < 1 {
		t.Fatalf("the statement line lists %d items", n)
	}
	b.Shot("statement")
}

// TestTranscriptionWithCtrlEnter: the image is shown beside the text box, Ctrl+Enter moves on,
// and the client gets the text as typed.
func TestTranscriptionWithCtrlEnter(t *testing.T) {
	typed := []string{"Duka la dawa", "Rue de la Paix, 12"}
	project := launch(t, Launch{ID: "web-text", Type: "transcription", Taxonomy: []string{"text"},
		Items: []Item{{Image: boxImage(t, 160, 90)}, {Image: boxImage(t, 120, 80)}}, SuiteSize: 2})
	token := worker(t, "web-text-a1", "Eshe Wairimu", role.Annotator, project)
	b := NewBrowser(t)
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	openWork(b, project)
	at, n := "", 0
	for {
		task, ok := nextTask(b, at)
		if !ok {
			break
		}
		until(b, `(() => { const i = document.querySelector('#task img.item-image'); return !!i && i.complete && i.naturalWidth > 0; })()`)
		b.Run(chromedp.SendKeys(chromedp.CSS("#transcript"), typed[task.Item]))
		if n == 0 {
			b.Shot("transcription")
		}
		b.Run(chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)))
		at, n = task.key(), n+1
	}
	if n != len(typed) {
		t.Fatalf("transcribed %d items, want %d", n, len(typed))
	}
	other := worker(t, "web-text-a2", "Imani Chebet", role.Annotator, project)
	answerByAPI(t, project, other, func(task Task) any { return map[string]string{"text": typed[task.Item]} })
	got := delivered(t, project)
	for i, want := range typed {
		var label struct{ Text string }
		if err := json.Unmarshal(got[ItemID(i)], &label); err != nil || label.Text != want {
			t.Errorf("item %d delivered %s, want the text %q", i, got[ItemID(i)], want)
		}
	}
}

// TestMultiLabelToggles: number keys turn classes on and off, Enter moves on, and the client
// gets the classes chosen.
func TestMultiLabelToggles(t *testing.T) {
	texts := []string{"A cat on a mat.", "Nothing here.", "A dog chasing a cat."}
	taxonomy := []string{"cat", "dog"}
	keys := []string{"1", "", "122"} // the dog's 2 pressed twice: on, then off again
	want := [][]string{{"cat"}, {}, {"cat"}}
	project := launch(t, Launch{ID: "web-multi", Type: "multi-label", Taxonomy: taxonomy, Items: items(texts), SuiteSize: 3})
	token := worker(t, "web-multi-a1", "Sefu Omondi", role.Annotator, project)
	b := NewBrowser(t)
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	openWork(b, project)
	at, n := "", 0
	for {
		task, ok := nextTask(b, at)
		if !ok {
			break
		}
		i := itemOf(t, texts, task)
		if keys[i] != "" {
			b.Keys(keys[i])
		}
		if n == 0 {
			b.Shot("multi-label")
		}
		b.Keys("\r")
		at, n = task.key(), n+1
	}
	if n != len(texts) {
		t.Fatalf("labeled %d items, want %d", n, len(texts))
	}
	other := worker(t, "web-multi-a2", "Nia Achieng", role.Annotator, project)
	answerByAPI(t, project, other, func(task Task) any { return want[slices.Index(texts, task.Source)] })
	got := delivered(t, project)
	for i, w := range want {
		var classes []string
		if err := json.Unmarshal(got[ItemID(i)], &classes); err != nil || !slices.Equal(classes, w) {
			t.Errorf("item %d delivered %s, want %q", i, got[ItemID(i)], w)
		}
	}
}

// TestSignInKeepsNoToken: a wrong token is refused with a message; a right one opens a session
// whose cookie no script can read, and the token is nowhere in the browser's storage; signing
// out ends the session.
func TestSignInKeepsNoToken(t *testing.T) {
	token := person(t, "web-signin-a1", "Adjoa Asante", role.Annotator, "web-signin")
	b := NewBrowser(t)
	b.Run(chromedp.Navigate(stack.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#signin-token")),
		chromedp.SendKeys(chromedp.CSS("#signin-token"), "lf_not_a_token"), chromedp.Click(chromedp.CSS("#signin-submit")))
	until(b, `document.querySelector('#signin-error').textContent.length > 0`)
	b.Shot("wrong-token")
	b.SignIn(stack.URL, token)
	watchPage(t, b)
	kept := Eval[string](b, `JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie + document.body.innerHTML`)
	if strings.Contains(kept, token) {
		t.Fatal("the token is kept in the page or the browser's storage")
	}
	if strings.Contains(kept, "lf_session") {
		t.Fatal("a script can read the session cookie")
	}
	b.Run(chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin-token")))
	if status := Eval[int](b, `fetch('/v1/session').then(r => r.status)`); status != http.StatusUnauthorized {
		t.Fatalf("after signing out GET /v1/session answers %d, want 401", status)
	}
}
