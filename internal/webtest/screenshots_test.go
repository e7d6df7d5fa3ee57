package webtest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/workforce"
)

// Screenshots of the README's Workbench section, at this viewport.
const shotWidth, shotHeight = 1024, 640

// TestReadmeScreenshots takes the README's screenshots of the workbench into docs/screenshots.
// It runs by hand only: LABELFLOW_SCREENSHOTS=1 go test -run TestReadmeScreenshots ./internal/webtest/
func TestReadmeScreenshots(t *testing.T) {
	if os.Getenv("LABELFLOW_SCREENSHOTS") != "1" {
		t.Skip("set LABELFLOW_SCREENSHOTS=1 to write docs/screenshots")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := filepath.Join(RepoRoot(), "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(b *Browser, name string) {
		t.Helper()
		img, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), img, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s.png: %d KB", name, len(img)/1024)
	}
	open := func(token, hash, sel string) *Browser {
		t.Helper()
		b := NewBrowser(t)
		b.Run(chromedp.EmulateViewport(shotWidth, shotHeight))
		b.SignIn(stack.URL, token)
		if hash != "" {
			Eval[bool](b, fmt.Sprintf("location.hash = %q, true", hash))
		}
		b.WaitVisible(sel)
		time.Sleep(300 * time.Millisecond) // let transitions settle
		return b
	}
	person := func(id, name, personRole string) string {
		t.Helper()
		token, err := stack.Person(ctx, workforce.Person{ID: id, Name: name, Role: personRole, Languages: []string{"en"},
			Skills: []string{"readme"}, PayoutMethod: "mobile-money"})
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	launchShots := func(l Launch) string {
		t.Helper()
		l.RequiredSkills = []string{"readme"}
		id, err := stack.Launch(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}

	reviews := []string{"The kettle arrived a day early and boils water in two minutes.",
		"Broke after a week; the seller never answered.", "It is a kettle. It heats water.",
		"Lovely colour, and the lid closes firmly.", "Fine, I suppose, for the price."}
	var reviewItems []Item
	for _, r := range reviews {
		reviewItems = append(reviewItems, Item{Text: r})
	}
	sentiment := []string{"positive", "negative", "neutral"}
	reviewsID := launchShots(Launch{ID: "acme-reviews", Type: "single-label", Taxonomy: sentiment, Items: reviewItems, SuiteSize: 5,
		Instructions: "Read the product review and choose the sentiment it expresses about the product."})
	streetID := launchShots(Launch{ID: "acme-street", Type: "bounding-box", Taxonomy: demo.BoxTaxonomy,
		Items: []Item{{Image: streetPicture(t)}, {Image: streetPicture(t)}}, SuiteSize: 2,
		Instructions: "Draw a box around every car, person and bicycle."})
	disputesID := launchShots(Launch{ID: "acme-disputes", Type: "single-label", Taxonomy: sentiment, Items: reviewItems[:3], SuiteSize: 3})

	// Sign-in and the feed; a box drawn; a single-label task, then the whole project by keyboard
	// for the earnings.
	b := NewBrowser(t)
	b.Run(chromedp.EmulateViewport(shotWidth, shotHeight), chromedp.Navigate(stack.URL+"/"))
	b.WaitVisible("#signin-token")
	shot(b, "signin")
	annotator := person("readme-amina", "Amina Wanjiru", role.Annotator)
	b = open(annotator, "", `[data-project="`+streetID+`"] button.start`)
	shot(b, "feed")
	// Bounding boxes: one box drawn around the car.
	Eval[bool](b, fmt.Sprintf("location.hash = %q, true", "#/work/"+streetID))
	b.WaitVisible("#canvas")
	time.Sleep(300 * time.Millisecond)
	dragBox(b, 68, 212, 262, 362)
	time.Sleep(200 * time.Millisecond)
	shot(b, "boxes")

	Eval[bool](b, fmt.Sprintf("location.hash = %q, true", "#/work/"+reviewsID))
	b.WaitVisible("#task[data-item]")
	shot(b, "single-label")
	for range reviews {
		b.Keys("1")
		time.Sleep(150 * time.Millisecond)
	}
	b.WaitVisible("#no-work")

	// A second annotator agrees on the reviews; two annotators disagree on the disputes.
	second := person("readme-kwame", "Kwame Mensah", role.Annotator)
	for _, answer := range []string{"positive", "negative"} {
		token := second
		if answer == "negative" {
			token = person("readme-grace", "Grace Okafor", role.Annotator)
		}
		if _, err := stack.AnswerSuite(ctx, disputesID, token, Always(answer)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stack.AnswerSuite(ctx, reviewsID, second, Always("positive")); err != nil {
		t.Fatal(err)
	}
	reviewer := person("readme-tigist", "Tigist Alemu", role.Reviewer)
	shot(open(reviewer, "#/work/"+disputesID, ".candidate button.pick"), "arbitration")

	if _, err := stack.WaitDelivered(ctx, reviewsID); err != nil {
		t.Fatal(err)
	}
	shot(open(annotator, "#/earnings", "#earnings-month"), "earnings")

	month := stack.Month()
	if err := stack.RunPayroll(ctx, month); err != nil {
		t.Fatal(err)
	}
	finance := person("readme-fatuma", "Fatuma Hassan", role.Finance)
	shot(open(finance, "#/finance/"+month, "#country-summary"), "finance")
	ops := person("readme-olu", "Olu Adeyemi", role.Ops)
	shot(open(ops, "#/ops", `.ops-project[data-project="`+streetID+`"]`), "ops")
}

// streetPicture is a flat drawing of a street: sky, road, a car and a person.
func streetPicture(t *testing.T) []byte {
	const w, h = 640, 400
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill := func(x0, y0, x1, y1 int, c color.RGBA) {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				img.Set(x, y, c)
			}
		}
	}
	fill(0, 0, w, h, color.RGBA{170, 205, 235, 255})       // sky
	fill(0, 230, w, h, color.RGBA{90, 90, 95, 255})        // road
	fill(0, 300, w, 306, color.RGBA{240, 240, 240, 255})   // lane
	fill(70, 250, 260, 330, color.RGBA{200, 40, 40, 255})  // car body
	fill(110, 215, 220, 252, color.RGBA{200, 40, 40, 255}) // car roof
	fill(90, 320, 130, 360, color.RGBA{25, 25, 25, 255})   // wheels
	fill(200, 320, 240, 360, color.RGBA{25, 25, 25, 255})
	fill(420, 150, 450, 175, color.RGBA{230, 190, 150, 255}) // a person
	fill(412, 175, 458, 250, color.RGBA{40, 90, 160, 255})
	fill(418, 250, 452, 320, color.RGBA{50, 50, 60, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// dragBox draws a box over the image from (x0, y0) to (x1, y1) in image pixels.
func dragBox(b *Browser, x0, y0, x1, y1 float64) {
	type canvas struct{ X, Y, Zoom float64 }
	c := Eval[canvas](b, `(() => { const c = document.querySelector('#canvas'); const r = c.getBoundingClientRect();
		return {x: r.left, y: r.top, zoom: +c.dataset.zoom}; })()`)
	at := func(x, y float64) (float64, float64) { return c.X + x*c.Zoom, c.Y + y*c.Zoom }
	sx, sy := at(x0, y0)
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(chromedp.MousePressed, sx, sy, chromedp.ButtonLeft, chromedp.ClickCount(1))}
	for i := 1; i <= 5; i++ {
		f := float64(i) / 5
		x, y := at(x0+(x1-x0)*f, y0+(y1-y0)*f)
		steps = append(steps, chromedp.MouseEvent(chromedp.MouseMoved, x, y, chromedp.ButtonLeft))
	}
	ex, ey := at(x1, y1)
	steps = append(steps, chromedp.MouseEvent(chromedp.MouseReleased, ex, ey, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	b.Run(steps...)
}
