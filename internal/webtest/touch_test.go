package webtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/labelflow/labelflow/internal/role"
)

// touch sends one touch event with the given fingers (none to end the touch).
func touch(kind input.DispatchTouchEventType, fingers ...[2]float64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		points := []*input.TouchPoint{}
		for i, f := range fingers {
			id := float64(i)
			points = append(points, &input.TouchPoint{X: f[0], Y: f[1], ID: &id})
		}
		_, err := cdp.Call(ctx, t, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: kind, TouchPoints: points})
		return err
	})
}

// canvasAt maps image pixels to the screen through the canvas's place and zoom as they are now.
func canvasAt(b *Browser) func(x, y float64) [2]float64 {
	b.t.Helper()
	type canvas struct{ X, Y, Zoom float64 }
	c := Eval[canvas](b, `(() => { const c = document.querySelector('#canvas'); const r = c.getBoundingClientRect();
		return {x: r.left, y: r.top, zoom: +c.dataset.zoom}; })()`)
	return func(x, y float64) [2]float64 { return [2]float64{c.X + x*c.Zoom, c.Y + y*c.Zoom} }
}

// drawBoxByTouch drags one finger over the image from (x0, y0) to (x1, y1), in image pixels.
func drawBoxByTouch(b *Browser, x0, y0, x1, y1 float64) {
	b.t.Helper()
	at := canvasAt(b)
	actions := []chromedp.Action[chromedp.Void]{touch(input.DispatchTouchEventTypeTouchStart, at(x0, y0))}
	for step := 1; step <= 5; step++ {
		f := float64(step) / 5
		actions = append(actions, touch(input.DispatchTouchEventTypeTouchMove, at(x0+(x1-x0)*f, y0+(y1-y0)*f)))
	}
	b.Run(append(actions, touch(input.DispatchTouchEventTypeTouchEnd))...)
}

// pinch spreads two fingers apart around the image point (x, y), zooming in by half.
func pinch(b *Browser, x, y float64) {
	b.t.Helper()
	at := canvasAt(b)
	c := at(x, y)
	fingers := func(d float64) [][2]float64 { return [][2]float64{{c[0] - d, c[1]}, {c[0] + d, c[1]}} }
	actions := []chromedp.Action[chromedp.Void]{touch(input.DispatchTouchEventTypeTouchStart, fingers(20)[0]),
		touch(input.DispatchTouchEventTypeTouchStart, fingers(20)...)}
	for d := 24.0; d <= 30; d += 2 {
		actions = append(actions, touch(input.DispatchTouchEventTypeTouchMove, fingers(d)...))
	}
	b.Run(append(actions, touch(input.DispatchTouchEventTypeTouchEnd))...)
}

// TestBoxesDrawnByTouch: on a touch phone an annotator zooms in with two fingers and draws boxes
// with one, choosing the class from the list; the delivered COCO boxes are the drawn pixels, and
// the box editor's text, box labels included, has enough contrast.
func TestBoxesDrawnByTouch(t *testing.T) {
	const w, h = 320, 240
	want := []drawnBox{{"car", 40, 30, 120, 90}, {"person", 200, 145, 60, 50}}
	project := launch(t, Launch{ID: "web-touch", Type: "bounding-box", Taxonomy: []string{"car", "person"},
		Items: []Item{{Image: boxImage(t, w, h)}}, SuiteSize: 1})
	token := worker(t, "web-touch-a1", "Esi Mensah", role.Annotator, project)
	b := NewBrowser(t).Phone()
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	openWork(b, project)
	until(b, `(() => { const c = document.querySelector('#canvas'); const i = c && c.querySelector('img');
		return !!i && i.complete && i.naturalWidth > 0 && +c.dataset.zoom > 0; })()`)

	fitted := Eval[float64](b, `+document.querySelector('#canvas').dataset.zoom`)
	drawBoxByTouch(b, want[0].Left, want[0].Top, want[0].Left+want[0].Width, want[0].Top+want[0].Height)
	pinch(b, 230, 170)
	if z := Eval[float64](b, `+document.querySelector('#canvas').dataset.zoom`); z <= fitted*1.2 {
		t.Fatalf("zoom after a pinch = %.2f, want well above the fitted %.2f", z, fitted)
	}
	second := want[1]
	drawBoxByTouch(b, second.Left, second.Top, second.Left+second.Width, second.Top+second.Height)
	// The new box is selected: choosing a class in the list gives it that class, as a finger
	// picking from the phone's list does.
	Eval[bool](b, fmt.Sprintf(`(() => { const s = document.querySelector('#box-class'); s.value = %q;
		s.dispatchEvent(new Event('change')); return true; })()`, second.Label))
	boxes := Eval[[]string](b, `[...document.querySelectorAll('#canvas .box')].map(b => b.dataset.label)`)
	if len(boxes) != 2 || boxes[0] != "car" || boxes[1] != "person" {
		t.Fatalf("boxes on the image: %v, want a car and a person", boxes)
	}
	b.Shot("boxes-by-touch")
	checkContrast(t, b, "boxes")
	b.Run(click("#submit-item"))

	other := worker(t, "web-touch-a2", "Kojo Asante", role.Annotator, project)
	answerByAPI(t, project, other, func(Task) any {
		var out []map[string]any
		for _, bx := range want {
			out = append(out, map[string]any{"label": bx.Label, "left": bx.Left, "top": bx.Top, "width": bx.Width, "height": bx.Height})
		}
		return map[string]any{"boxes": out}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data, err := stack.DeliveredCOCO(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	var coco struct {
		Categories []struct {
			ID   int    `json:"id"`
			Name string `json:"name"`
		} `json:"categories"`
		Annotations []struct {
			CategoryID int        `json:"category_id"`
			BBox       [4]float64 `json:"bbox"`
		} `json:"annotations"`
	}
	if err := json.Unmarshal(data, &coco); err != nil {
		t.Fatal(err)
	}
	names := map[int]string{}
	for _, c := range coco.Categories {
		names[c.ID] = c.Name
	}
	var got []string
	for _, a := range coco.Annotations {
		got = append(got, fmt.Sprintf("%s %v", names[a.CategoryID], a.BBox))
	}
	for _, wb := range want {
		found := false
		for _, a := range coco.Annotations {
			bb := a.BBox
			found = found || names[a.CategoryID] == wb.Label && math.Abs(bb[0]-wb.Left) <= 1 && math.Abs(bb[1]-wb.Top) <= 1 &&
				math.Abs(bb[2]-wb.Width) <= 1 && math.Abs(bb[3]-wb.Height) <= 1
		}
		if !found {
			t.Errorf("delivered boxes %s, want %+v within 1 px", strings.Join(got, ", "), wb)
		}
	}
}

// TestTouchingTheScreenKeepsTheLease: while a person touches the screen the workbench sends
// heartbeats and the lease runs on, twice its length and more; once they stop, it runs out and
// the page says so.
func TestTouchingTheScreenKeepsTheLease(t *testing.T) {
	const lease = 12 * time.Second
	project := launch(t, Launch{ID: "web-touch-lease", Type: "single-label", Taxonomy: []string{"yes", "no"},
		Items: items([]string{"Ndiyo.", "Hapana."}), SuiteSize: 2, Lease: lease})
	token := worker(t, "web-touch-lease-a1", "Amani Njoroge", role.Annotator, project)
	b := NewBrowser(t).Phone()
	watchPage(t, b)
	b.SignIn(stack.URL, token)
	openWork(b, project)
	type point struct{ X, Y float64 }
	p := Eval[point](b, `(() => { const r = document.querySelector('.item-text').getBoundingClientRect();
		return {x: r.left + 5, y: r.top + 5}; })()`)
	claimed := time.Now()
	for time.Since(claimed) < 2*lease+2*time.Second {
		b.Run(touch(input.DispatchTouchEventTypeTouchStart, [2]float64{p.X, p.Y}), touch(input.DispatchTouchEventTypeTouchEnd))
		time.Sleep(time.Second)
	}
	if Eval[bool](b, `!!document.querySelector('#lease-expired')`) || !Eval[bool](b, `!!document.querySelector('#task[data-item]')`) {
		t.Fatalf("the lease ran out %s after the claim while the person kept touching the screen", time.Since(claimed).Round(time.Second))
	}
	b.Shot("lease-kept-by-touch")
	b.WaitVisible("#lease-expired")
}
