package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Every LabelFlow metric the Grafana dashboard queries is one the processes serve, so that a
// renamed metric cannot leave a panel empty.
func TestDashboardQueriesServedMetrics(t *testing.T) {
	data, err := os.ReadFile("../../deploy/grafana/labelflow.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("deploy/grafana/labelflow.json: %v", err)
	}

	r := New()
	w := NewWork(r)
	w.Chunked(1, 1)
	w.Recorded(1, 1, map[string]int{"annotation": 1})
	w.Delivered(1, false)
	w.Delivered(1, true)
	w.Paid(1, map[string]int64{"USD": 1}, 1)
	w.Webhook("chunk.delivered", true)
	w.Webhook("chunk.delivered", false)
	NewRequests(r).Started()("GET /healthz", 200, time.Millisecond)
	served := map[string]bool{}
	for _, n := range scrape(t, r).Names() {
		served[n] = true
	}

	name := regexp.MustCompile(`\blabelflow_[a-z_]+`)
	queried := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, n := range name.FindAllString(target.Expr, -1) {
				queried++
				family := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
				if !served[family] {
					t.Errorf("panel %q queries %s, which no LabelFlow process serves", p.Title, n)
				}
			}
		}
	}
	if queried == 0 {
		t.Fatal("the dashboard queries no LabelFlow metric")
	}
}
