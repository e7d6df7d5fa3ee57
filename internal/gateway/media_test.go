package gateway_test

// The work feed and item images: a person sees the projects open to them with their pay, and an
// image reaches only the person whose lease its link was signed for.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/gateway"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/spec"
)

// launchImages launches a box project whose items are the given files in the intake bucket.
func launchImages(ctx context.Context, t *testing.T, env *demo.Env, id string, files map[string][]byte) {
	t.Helper()
	a := env.App
	var manifest bytes.Buffer
	for name, data := range files {
		key := "acme/" + id + "/" + name
		if err := a.Store.PutIn(ctx, demo.IntakeBucket, key, data); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&manifest, `{"id":%q,"source-ref":"s3://%s/%s"}`+"\n", name, demo.IntakeBucket, key)
	}
	key := "acme/" + id + ".manifest"
	if err := a.Store.PutIn(ctx, demo.IntakeBucket, key, manifest.Bytes()); err != nil {
		t.Fatal(err)
	}
	yaml := demo.TypedSpecYAML(id, label.BoundingBoxName, demo.BoxTaxonomy, key, env.Cfg.StoreEndpoint, 10, []string{"coco"})
	p, err := spec.Parse(id+".yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ops, err := demo.SignIn(ctx, a, demo.OpsDemo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Launch(ctx, ops, p); err != nil {
		t.Fatal(err)
	}
}

func pngOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

func TestImagesReachOnlyTheLeaseHolder(t *testing.T) {
	const project = "gw-media"
	s := serve(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	launchImages(ctx, t, s.env, project, map[string][]byte{"a.png": pngOf(64, 48),
		"b.svg": []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)})
	crowd := people(t, s.env, project, 2)
	holder, other := crowd[0], crowd[1]
	c := &http.Client{Timeout: 30 * time.Second}

	feed := waitForFeed(t, c, s.url, holder.Token, project)
	if feed.Pay == nil || feed.Pay.Currency == "" || feed.Pay.Minor <= 0 || feed.ItemsLeft != 2 || feed.Kind != "annotate" {
		t.Fatalf("feed entry = %+v", feed)
	}

	claim := waitForSuite(t, c, s.url+"/v1/projects/"+project+"/claim", holder.Token)
	var png, svg gateway.TaskView
	for _, task := range claim.Tasks {
		switch {
		case task.Width == 64:
			png = task
		default:
			svg = task
		}
	}
	if png.MediaURL == "" || png.Height != 48 {
		t.Fatalf("the image task carries no link or size: %+v", claim.Tasks)
	}
	a := mustSend(t, c, "GET", s.url+png.MediaURL, holder.Token, nil)
	if a.status != http.StatusOK || !bytes.HasPrefix(a.body, []byte("\x89PNG")) {
		t.Fatalf("holder GET image = %d %s", a.status, a.msg)
	}
	if a := mustSend(t, c, "GET", s.url+png.MediaURL, other.Token, nil); a.status != http.StatusForbidden {
		t.Fatalf("another person with the holder's link = %d, want 403", a.status)
	}
	if a := mustSend(t, c, "GET", s.url+png.MediaURL, "", nil); a.status != http.StatusUnauthorized {
		t.Fatalf("the link without signing in = %d, want 401", a.status)
	}
	other1 := strings.Replace(png.MediaURL, fmt.Sprintf("/%d?", png.Item), fmt.Sprintf("/%d?", svg.Item), 1)
	if a := mustSend(t, c, "GET", s.url+other1, holder.Token, nil); a.status != http.StatusForbidden {
		t.Fatalf("the link moved to another item = %d, want 403", a.status)
	}
	if a := mustSend(t, c, "GET", s.url+svg.MediaURL, holder.Token, nil); a.status != http.StatusUnsupportedMediaType {
		t.Fatalf("an SVG item = %d, want 415 (never served to a browser)", a.status)
	}
}

func waitForFeed(t *testing.T, c *http.Client, base, token, project string) gateway.FeedProject {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		a := mustSend(t, c, "GET", base+"/v1/projects", token, nil)
		var f gateway.FeedAnswer
		if a.status == http.StatusOK && json.Unmarshal(a.body, &f) == nil {
			for _, p := range f.Projects {
				if p.ID == project && p.Stage == "annotating" {
					return p
				}
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("%s never showed in the feed", project)
	return gateway.FeedProject{}
}

func waitForSuite(t *testing.T, c *http.Client, claim, token string) gateway.SuiteView {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		a := mustSend(t, c, "POST", claim, token, nil)
		var r gateway.ClaimResponse
		if a.status == http.StatusOK && json.Unmarshal(a.body, &r) == nil && r.Suite != nil {
			return *r.Suite
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatal("no suite offered")
	return gateway.SuiteView{}
}
