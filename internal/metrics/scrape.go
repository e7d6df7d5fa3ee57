package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples are the metrics of one scrape, read back for checks: a test, or a cluster run that
// compares what processes counted with what they did.
type Samples struct {
	families map[string]*dto.MetricFamily
}

// Parse reads metrics in the Prometheus text format.
func Parse(r io.Reader) (Samples, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return Samples{}, fmt.Errorf("metrics: %w", err)
	}
	return Samples{families: fams}, nil
}

// Scrape reads the metrics a /metrics endpoint serves.
func Scrape(ctx context.Context, c *http.Client, url string) (Samples, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Samples{}, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return Samples{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Samples{}, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return Parse(resp.Body)
}

// Names lists the metric families, sorted.
func (s Samples) Names() []string {
	names := make([]string, 0, len(s.families))
	for n := range s.families {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has reports whether the scrape holds the family name.
func (s Samples) Has(name string) bool { _, ok := s.families[name]; return ok }

// Sum adds up the values of the counters or gauges called name whose labels include labels;
// for a histogram it adds up the observation counts.
func (s Samples) Sum(name string, labels map[string]string) float64 {
	fam, ok := s.families[name]
	if !ok {
		return 0
	}
	var total float64
	for _, m := range fam.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		case m.Untyped != nil:
			total += m.GetUntyped().GetValue()
		}
	}
	return total
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	found := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			found++
		}
	}
	return found == len(want)
}
